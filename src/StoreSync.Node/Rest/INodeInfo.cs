namespace StoreSync.Node.Rest;

/// <summary>What the REST debug endpoint reports about the running node.</summary>
public interface INodeInfo
{
    string PeerId { get; }
    IReadOnlyList<string> ListenAddresses { get; }
    int ConnectedPeers { get; }
}
