using System.Net;
using StoreSync.Libp2p.Discovery.Enr;

namespace StoreSync.Libp2p.Discovery.Discv5;

/// <summary>A node id at a UDP endpoint: sessions and challenges belong to the pair, so a record replayed from elsewhere gets none.</summary>
public readonly record struct NodeAddress(NodeId Id, IPEndPoint EndPoint)
{
    public override string ToString() => $"{Id.ToString()[..16]}…@{EndPoint}";
}
