using System.Net;

namespace StoreSync.Libp2p.Discovery.Discv5;

/// <summary>A discv5 protocol message (discv5-wire.md, "Protocol Messages"); the first element of each is the request id.</summary>
public abstract record Discv5Message(byte[] RequestId)
{
    /// <summary>The message-type byte before the RLP message-data.</summary>
    public abstract byte Type { get; }
}

/// <summary>PING (0x01): are you alive; my record's sequence number is <paramref name="EnrSeq"/>.</summary>
public sealed record PingMessage(byte[] RequestId, ulong EnrSeq) : Discv5Message(RequestId)
{
    public override byte Type => 0x01;
}

/// <summary>PONG (0x02): the answer to PING, with the UDP envelope address the request came from.</summary>
public sealed record PongMessage(byte[] RequestId, ulong EnrSeq, IPAddress RecipientIp, ushort RecipientPort) : Discv5Message(RequestId)
{
    public override byte Type => 0x02;
}

/// <summary>FINDNODE (0x03): the nodes at these log2 distances from the recipient (0 means its own record).</summary>
public sealed record FindNodeMessage(byte[] RequestId, IReadOnlyList<int> Distances) : Discv5Message(RequestId)
{
    public override byte Type => 0x03;
}

/// <summary>NODES (0x04): one of <paramref name="Total"/> responses, carrying node records as their RLP bytes.</summary>
public sealed record NodesMessage(byte[] RequestId, int Total, IReadOnlyList<byte[]> Records) : Discv5Message(RequestId)
{
    public override byte Type => 0x04;
}

/// <summary>TALKREQ (0x05): an application request for <paramref name="Protocol"/>.</summary>
public sealed record TalkRequestMessage(byte[] RequestId, byte[] Protocol, byte[] Request) : Discv5Message(RequestId)
{
    public override byte Type => 0x05;
}

/// <summary>TALKRESP (0x06): the answer to TALKREQ; empty when the protocol is unknown.</summary>
public sealed record TalkResponseMessage(byte[] RequestId, byte[] Response) : Discv5Message(RequestId)
{
    public override byte Type => 0x06;
}
