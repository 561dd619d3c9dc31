using System.Net;
using StoreSync.Libp2p.Discovery.Rlp;

namespace StoreSync.Libp2p.Discovery.Discv5;

/// <summary>message-pt = message-type ‖ RLP(message-data) for the six messages this node speaks; others are refused.</summary>
public static class MessageCodec
{
    /// <summary>request-id is at most 8 bytes (discv5-wire.md).</summary>
    public const int MaxRequestIdLength = 8;

    /// <summary>More distances than there are buckets is never honest.</summary>
    public const int MaxDistances = 256;

    /// <summary>The most NODES responses we accept for one request (16 records of 300 bytes fit in 5).</summary>
    public const int MaxNodesTotal = 16;

    public static void Encode(Discv5Message message, RlpWriter writer)
    {
        writer.WriteEncoded([message.Type]);
        int list = writer.BeginList();
        writer.WriteBytes(message.RequestId);
        switch (message)
        {
            case PingMessage ping:
                writer.WriteUInt64(ping.EnrSeq);
                break;
            case PongMessage pong:
                writer.WriteUInt64(pong.EnrSeq);
                var ip = pong.RecipientIp.IsIPv4MappedToIPv6 ? pong.RecipientIp.MapToIPv4() : pong.RecipientIp;
                writer.WriteBytes(ip.GetAddressBytes());
                writer.WriteUInt64(pong.RecipientPort);
                break;
            case FindNodeMessage find:
                int distances = writer.BeginList();
                foreach (int d in find.Distances) writer.WriteUInt64((ulong)d);
                writer.EndList(distances);
                break;
            case NodesMessage nodes:
                writer.WriteUInt64((ulong)nodes.Total);
                int records = writer.BeginList();
                foreach (var record in nodes.Records) writer.WriteEncoded(record);
                writer.EndList(records);
                break;
            case TalkRequestMessage talk:
                writer.WriteBytes(talk.Protocol);
                writer.WriteBytes(talk.Request);
                break;
            case TalkResponseMessage talk:
                writer.WriteBytes(talk.Response);
                break;
            default:
                throw new ArgumentException($"no encoding for {message.GetType().Name}", nameof(message));
        }
        writer.EndList(list);
    }

    public static byte[] Encode(Discv5Message message)
    {
        var writer = new RlpWriter();
        Encode(message, writer);
        return writer.ToArray();
    }

    /// <summary>Parses a decrypted message-pt.</summary>
    /// <exception cref="RlpException">Malformed RLP, an unknown message type, or a field outside its limits.</exception>
    public static Discv5Message Decode(ReadOnlySpan<byte> plaintext)
    {
        if (plaintext.IsEmpty) throw new RlpException("empty discv5 message");
        byte type = plaintext[0];
        var outer = new RlpReader(plaintext[1..]);
        var fields = outer.ReadList();
        outer.EnsureEnd();
        var requestId = fields.ReadBytes();
        if (requestId.Length > MaxRequestIdLength) throw new RlpException($"request-id of {requestId.Length} bytes (at most 8)");
        var id = requestId.ToArray();
        Discv5Message message = type switch
        {
            0x01 => new PingMessage(id, fields.ReadUInt64()),
            0x02 => ReadPong(id, ref fields),
            0x03 => ReadFindNode(id, ref fields),
            0x04 => ReadNodes(id, ref fields),
            0x05 => new TalkRequestMessage(id, fields.ReadBytes().ToArray(), fields.ReadBytes().ToArray()),
            0x06 => new TalkResponseMessage(id, fields.ReadBytes().ToArray()),
            _ => throw new RlpException($"unknown discv5 message type 0x{type:x2}"),
        };
        // Later protocol versions may append fields; v5.1 readers ignore the rest of the list, as go-ethereum does.
        return message;
    }

    static PongMessage ReadPong(byte[] id, ref RlpReader fields)
    {
        ulong seq = fields.ReadUInt64();
        var ip = fields.ReadBytes();
        if (ip.Length != 4 && ip.Length != 16) throw new RlpException($"PONG recipient-ip of {ip.Length} bytes");
        ulong port = fields.ReadUInt64();
        if (port > ushort.MaxValue) throw new RlpException("PONG recipient-port above 65535");
        return new PongMessage(id, seq, new IPAddress(ip), (ushort)port);
    }

    static FindNodeMessage ReadFindNode(byte[] id, ref RlpReader fields)
    {
        var list = fields.ReadList();
        var distances = new List<int>();
        while (list.HasMore)
        {
            if (distances.Count == MaxDistances) throw new RlpException("FINDNODE with more than 256 distances");
            ulong d = list.ReadUInt64();
            if (d > 256) throw new RlpException($"FINDNODE distance {d} above 256");
            distances.Add((int)d);
        }
        return new FindNodeMessage(id, distances);
    }

    static NodesMessage ReadNodes(byte[] id, ref RlpReader fields)
    {
        ulong total = fields.ReadUInt64();
        if (total > MaxNodesTotal) throw new RlpException($"NODES total {total} above {MaxNodesTotal}");
        var list = fields.ReadList();
        var records = new List<byte[]>();
        while (list.HasMore)
        {
            var record = list.ReadEncoded();
            if (record.Length > Discv5Limits.MaxRecordLength) throw new RlpException($"a node record of {record.Length} bytes (at most 300)");
            records.Add(record.ToArray());
        }
        return new NodesMessage(id, (int)total, records);
    }
}
