using Google.Protobuf;
using StoreSync.Core.Wire;
using StoreSync.Libp2p.Pubsub.Pb;

namespace StoreSync.Libp2p.Pubsub;

/// <summary>Builds the RPC frames the router sends (without length prefix; the peer's writer adds it).</summary>
internal static class RpcFrames
{
    const byte PublishTag = (2 << 3) | 2; // RPC.publish, length-delimited
    const byte DataTag = (2 << 3) | 2;    // Message.data
    const byte TopicTag = (4 << 3) | 2;   // Message.topic

    /// <summary>
    /// <c>RPC{publish: [Message{data, topic}]}</c>, encoded by hand into one array: the frame of every forwarded and
    /// published message under StrictNoSign (no from, seqno, signature, key), shared by all the peers it goes to.
    /// </summary>
    public static byte[] Publish(string topic, ReadOnlySpan<byte> data)
    {
        int topicBytes = System.Text.Encoding.UTF8.GetByteCount(topic);
        int message = 1 + Varint.SizeOf((ulong)data.Length) + data.Length + 1 + Varint.SizeOf((ulong)topicBytes) + topicBytes;
        var frame = new byte[1 + Varint.SizeOf((ulong)message) + message];
        var span = frame.AsSpan();
        int at = 0;
        span[at++] = PublishTag;
        at += Varint.Write(span[at..], (ulong)message);
        span[at++] = DataTag;
        at += Varint.Write(span[at..], (ulong)data.Length);
        data.CopyTo(span[at..]);
        at += data.Length;
        span[at++] = TopicTag;
        at += Varint.Write(span[at..], (ulong)topicBytes);
        System.Text.Encoding.UTF8.GetBytes(topic, span[at..]);
        return frame;
    }

    /// <summary>The subscriptions announcement: ours in the first frame of a stream, or one change later.</summary>
    public static byte[] Subscriptions(IEnumerable<string> topics, bool subscribe)
    {
        var rpc = new RPC();
        foreach (var topic in topics) rpc.Subscriptions.Add(new RPC.Types.SubOpts { Subscribe = subscribe, Topicid = topic });
        return rpc.ToByteArray();
    }

    public static byte[] Control(ControlMessage control) => new RPC { Control = control }.ToByteArray();
}
