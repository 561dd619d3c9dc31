using System.Buffers.Binary;
using System.Text;

namespace StoreSync.Libp2p.Discovery.Dns;

/// <summary>
/// The two DNS messages this client needs (RFC 1035 §4): a recursive TXT query with an EDNS(0) OPT record (RFC 6891) and
/// the parse of its answer. Parsing is separate from I/O and checks every length against the datagram first.
/// </summary>
public static class DnsMessage
{
    public const ushort TypeTxt = 16;
    public const ushort TypeOpt = 41;
    public const ushort ClassInternet = 1;
    public const int HeaderLength = 12;

    const ushort FlagResponse = 0x8000;
    const ushort FlagTruncated = 0x0200;
    const ushort FlagRecursionDesired = 0x0100;
    const int OpcodeMask = 0x7800;
    const int RcodeMask = 0x000F;

    /// <summary>A name server answers no more TXT records for one name than this; the rest are ignored.</summary>
    public const int MaxTxtRecords = 32;

    /// <summary>Pointer hops while reading one compressed name (each must point backwards, so this is generous).</summary>
    const int MaxPointerHops = 32;

    /// <summary>The query for the TXT records of <paramref name="name"/>.</summary>
    /// <exception cref="FormatException">The name is not a valid domain name.</exception>
    public static byte[] TxtQuery(ushort id, string name)
    {
        var labels = EnrTreeUrl.NormaliseDomain(name).Split('.');
        int nameLength = labels.Sum(l => l.Length + 1) + 1;
        var query = new byte[HeaderLength + nameLength + 4 + 11];
        var span = query.AsSpan();
        BinaryPrimitives.WriteUInt16BigEndian(span, id);
        BinaryPrimitives.WriteUInt16BigEndian(span[2..], FlagRecursionDesired);
        BinaryPrimitives.WriteUInt16BigEndian(span[4..], 1); // QDCOUNT
        BinaryPrimitives.WriteUInt16BigEndian(span[10..], 1); // ARCOUNT: the OPT record
        int o = HeaderLength;
        foreach (var label in labels)
        {
            query[o++] = (byte)label.Length;
            o += Encoding.ASCII.GetBytes(label, span[o..]);
        }
        query[o++] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(span[o..], TypeTxt);
        BinaryPrimitives.WriteUInt16BigEndian(span[(o + 2)..], ClassInternet);
        o += 4;
        // OPT: root name, type 41, class = our UDP payload size, TTL 0 (no extended rcode, no DO), no options.
        query[o++] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(span[o..], TypeOpt);
        BinaryPrimitives.WriteUInt16BigEndian(span[(o + 2)..], DnsDiscoveryLimits.MaxUdpResponseLength);
        return query;
    }

    /// <summary>Whether the answer had the truncation bit set (the caller retries over TCP).</summary>
    public static bool IsTruncated(ReadOnlySpan<byte> response) =>
        response.Length >= HeaderLength && (BinaryPrimitives.ReadUInt16BigEndian(response[2..]) & FlagTruncated) != 0;

    /// <summary>The message id, or -1 if the datagram is too short to be DNS.</summary>
    public static int IdOf(ReadOnlySpan<byte> response) => response.Length >= HeaderLength ? BinaryPrimitives.ReadUInt16BigEndian(response) : -1;

    /// <summary>
    /// The TXT records answering <paramref name="name"/>, each its character-strings joined; empty if the name does not
    /// exist (NXDOMAIN) or has no TXT records.
    /// </summary>
    /// <exception cref="DnsDiscoveryException">Not an answer to our question, an error rcode, or malformed bytes.</exception>
    public static IReadOnlyList<string> ParseTxtAnswer(ReadOnlySpan<byte> response, ushort id, string name)
    {
        if (response.Length < HeaderLength) throw new DnsDiscoveryException(name, $"DNS answer of {response.Length} bytes is shorter than a header");
        if (BinaryPrimitives.ReadUInt16BigEndian(response) != id) throw new DnsDiscoveryException(name, "DNS answer has another message id");
        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(response[2..]);
        if ((flags & FlagResponse) == 0 || (flags & OpcodeMask) != 0) throw new DnsDiscoveryException(name, "DNS message is not a standard query response");
        int rcode = flags & RcodeMask;
        if (rcode == 3) return [];
        if (rcode != 0) throw new DnsDiscoveryException(name, $"DNS server answered rcode {rcode}");
        int questions = BinaryPrimitives.ReadUInt16BigEndian(response[4..]);
        int answers = BinaryPrimitives.ReadUInt16BigEndian(response[6..]);
        if (questions != 1) throw new DnsDiscoveryException(name, $"DNS answer repeats {questions} questions, not 1");
        int o = HeaderLength;
        var asked = ReadName(response, ref o, name);
        if (!string.Equals(asked, EnrTreeUrl.NormaliseDomain(name), StringComparison.OrdinalIgnoreCase))
            throw new DnsDiscoveryException(name, $"DNS answer is for the question '{asked}'");
        Need(response, o, 4, name);
        if (BinaryPrimitives.ReadUInt16BigEndian(response[o..]) != TypeTxt) throw new DnsDiscoveryException(name, "DNS answer is for another query type");
        o += 4;
        var texts = new List<string>();
        for (int i = 0; i < answers; i++)
        {
            ReadName(response, ref o, name);
            Need(response, o, 10, name);
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(response[o..]);
            ushort rdLength = BinaryPrimitives.ReadUInt16BigEndian(response[(o + 8)..]);
            o += 10;
            Need(response, o, rdLength, name);
            // CNAME records of a chain may precede the TXT answers; only the TXT data is kept.
            if (type == TypeTxt && texts.Count < MaxTxtRecords) texts.Add(JoinStrings(response.Slice(o, rdLength), name));
            o += rdLength;
        }
        return texts;
    }

    /// <summary>TXT rdata is one or more length-prefixed character-strings; a long record is split into several.</summary>
    static string JoinStrings(ReadOnlySpan<byte> rdata, string name)
    {
        int total = 0;
        for (int o = 0; o < rdata.Length; o += 1 + rdata[o]) total += rdata[o];
        if (total > DnsDiscoveryLimits.MaxRecordTextLength) throw new DnsDiscoveryException(name, $"TXT record of {total} bytes is over {DnsDiscoveryLimits.MaxRecordTextLength}");
        Span<byte> joined = stackalloc byte[total];
        int written = 0;
        for (int o = 0; o < rdata.Length;)
        {
            int length = rdata[o++];
            if (o + length > rdata.Length) throw new DnsDiscoveryException(name, "TXT character-string runs past its record");
            rdata.Slice(o, length).CopyTo(joined[written..]);
            written += length;
            o += length;
        }
        return Encoding.UTF8.GetString(joined);
    }

    /// <summary>Reads a possibly compressed name, advancing <paramref name="offset"/> past it in the message.</summary>
    static string ReadName(ReadOnlySpan<byte> message, ref int offset, string name)
    {
        var text = new StringBuilder();
        int o = offset, hops = 0, end = -1;
        while (true)
        {
            Need(message, o, 1, name);
            int length = message[o];
            if (length == 0)
            {
                o++;
                break;
            }
            if ((length & 0xC0) == 0xC0)
            {
                Need(message, o, 2, name);
                int target = BinaryPrimitives.ReadUInt16BigEndian(message[o..]) & 0x3FFF;
                if (target >= o || ++hops > MaxPointerHops) throw new DnsDiscoveryException(name, "DNS name pointer does not point backwards");
                if (end < 0) end = o + 2;
                o = target;
                continue;
            }
            if ((length & 0xC0) != 0) throw new DnsDiscoveryException(name, "DNS name has an unknown label type");
            Need(message, o + 1, length, name);
            if (text.Length > 0) text.Append('.');
            text.Append(Encoding.ASCII.GetString(message.Slice(o + 1, length)));
            if (text.Length > DnsDiscoveryLimits.MaxNameLength + 1) throw new DnsDiscoveryException(name, "DNS name is too long");
            o += 1 + length;
        }
        offset = end >= 0 ? end : o;
        return text.ToString();
    }

    static void Need(ReadOnlySpan<byte> message, int offset, int count, string name)
    {
        if (offset + count > message.Length) throw new DnsDiscoveryException(name, "DNS answer is truncated");
    }
}
