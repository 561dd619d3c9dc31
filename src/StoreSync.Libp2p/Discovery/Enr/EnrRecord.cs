using System.Buffers.Binary;
using System.Net;
using System.Text;
using StoreSync.Libp2p.Discovery.Rlp;

namespace StoreSync.Libp2p.Discovery.Enr;

/// <summary>
/// An Ethereum Node Record (EIP-778) of the "v4" identity scheme: <c>[signature, seq, k, v, …]</c> in RLP, keys sorted and
/// unique, at most 300 bytes, signed by the node's secp256k1 key. Immutable; a decoded record keeps its exact bytes.
/// </summary>
/// <remarks>
/// Keys are byte strings; they are held as Latin-1 strings (one char per byte), so ordinal string order is the byte order
/// EIP-778 sorts by, and any key another implementation writes survives a round trip. Values are kept as their RLP
/// encoding: the predefined keys are byte strings, but a scheme may put a list under its own key.
/// </remarks>
public sealed class EnrRecord
{
    readonly byte[] _encoded;
    readonly KeyValuePair<string, byte[]>[] _pairs;

    EnrRecord(byte[] encoded, ulong seq, byte[] signature, KeyValuePair<string, byte[]>[] pairs, byte[] publicKey, NodeId nodeId)
    {
        _encoded = encoded;
        Seq = seq;
        Signature = signature;
        _pairs = pairs;
        PublicKey = publicKey;
        NodeId = nodeId;
    }

    /// <summary>The sequence number; a newer record of the same node has a larger one.</summary>
    public ulong Seq { get; }

    /// <summary>The 64-byte r ‖ s signature over keccak256 of the content.</summary>
    public ReadOnlyMemory<byte> Signature { get; }

    /// <summary>The 33-byte compressed secp256k1 public key (the "secp256k1" pair).</summary>
    public ReadOnlyMemory<byte> PublicKey { get; }

    public NodeId NodeId { get; }

    /// <summary>The keys in record order (sorted by bytes).</summary>
    public IEnumerable<string> Keys => _pairs.Select(p => p.Key);

    public IPAddress? Ip => AddressOf(EnrKeys.Ip, 4);
    public IPAddress? Ip6 => AddressOf(EnrKeys.Ip6, 16);
    public ushort? Tcp => PortOf(EnrKeys.Tcp);
    public ushort? Udp => PortOf(EnrKeys.Udp);
    public ushort? Tcp6 => PortOf(EnrKeys.Tcp6);
    public ushort? Udp6 => PortOf(EnrKeys.Udp6);

    /// <summary>The UDP endpoint discv5 talks to: ip ‖ udp, else ip6 ‖ udp6 (or udp, which EIP-778 lets stand for both).</summary>
    public IPEndPoint? UdpEndPoint =>
        Ip is { } v4 && Udp is { } port ? new IPEndPoint(v4, port)
        : Ip6 is { } v6 && (Udp6 ?? Udp) is { } port6 ? new IPEndPoint(v6, port6)
        : null;

    /// <summary>The canonical RLP bytes (for a decoded record, exactly those received).</summary>
    public ReadOnlySpan<byte> Encode() => _encoded;

    public byte[] ToArray() => (byte[])_encoded.Clone();

    /// <summary>Whether the record has <paramref name="key"/>.</summary>
    public bool Has(string key) => IndexOf(key) >= 0;

    /// <summary>The content of the byte string under <paramref name="key"/>; false if there is none or the value is a list.</summary>
    public bool TryGetBytes(string key, out ReadOnlySpan<byte> value)
    {
        value = default;
        int i = IndexOf(key);
        if (i < 0) return false;
        var reader = new RlpReader(_pairs[i].Value);
        if (reader.NextIsList) return false;
        value = reader.ReadBytes();
        return true;
    }

    /// <summary>The value under <paramref name="key"/> as its RLP item (header included), or null.</summary>
    public byte[]? GetEncodedValue(string key)
    {
        int i = IndexOf(key);
        return i < 0 ? null : (byte[])_pairs[i].Value.Clone();
    }

    /// <summary>The pairs with values as RLP items, in record order; <see cref="EnrBuilder.From"/> starts from them.</summary>
    internal IReadOnlyList<KeyValuePair<string, byte[]>> EncodedPairs => _pairs;

    /// <summary><c>enr:</c> ‖ URL-safe base64 of the RLP bytes, without padding (EIP-778 "Text Encoding").</summary>
    public string ToText() => "enr:" + Convert.ToBase64String(_encoded).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public override string ToString() => ToText();

    /// <summary>Decodes and verifies a record; on failure <paramref name="error"/> says what is wrong.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoded, out EnrRecord? record, out string error)
    {
        record = null;
        if (encoded.Length > EnrKeys.MaxRecordLength)
        {
            error = $"a node record of {encoded.Length} bytes (EIP-778 allows at most {EnrKeys.MaxRecordLength})";
            return false;
        }
        try
        {
            record = DecodeVerified(encoded);
            error = "";
            return true;
        }
        catch (EnrException e)
        {
            error = e.Message;
            return false;
        }
        catch (RlpException e)
        {
            error = "not a canonical RLP node record: " + e.Message;
            return false;
        }
    }

    /// <exception cref="EnrException">Malformed, too long, or not validly signed.</exception>
    public static EnrRecord Decode(ReadOnlySpan<byte> encoded) =>
        TryDecode(encoded, out var record, out string error) ? record! : throw new EnrException(error);

    /// <summary>Parses the text form <c>enr:…</c> (padding tolerated).</summary>
    /// <exception cref="EnrException">Not an <c>enr:</c> string, not base64url, or not a valid record.</exception>
    public static EnrRecord Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = text.Trim();
        if (!text.StartsWith("enr:", StringComparison.Ordinal)) throw new EnrException("a node record's text form starts with \"enr:\"");
        // 300 bytes are 400 base64 characters; anything longer is refused before decoding.
        if (text.Length > 4 + 404) throw new EnrException($"a node record text of {text.Length} characters is longer than any 300-byte record");
        if (text.Contains('+') || text.Contains('/'))
            throw new EnrException("a node record's text form uses the URL-safe base64 alphabet (- and _, not + and /)");
        var body = text[4..].TrimEnd('=').Replace('-', '+').Replace('_', '/');
        body = body.PadRight(body.Length + (4 - body.Length % 4) % 4, '=');
        byte[] bytes;
        try { bytes = Convert.FromBase64String(body); }
        catch (FormatException) { throw new EnrException("a node record's text form is not URL-safe base64"); }
        return Decode(bytes);
    }

    public static bool TryParse(string text, out EnrRecord? record, out string error)
    {
        try
        {
            record = Parse(text);
            error = "";
            return true;
        }
        catch (EnrException e)
        {
            record = null;
            error = e.Message;
            return false;
        }
    }

    /// <summary>Builds a record from content the caller has just signed; re-decodes it so a built record obeys every rule a received one does.</summary>
    internal static EnrRecord FromSigned(byte[] encoded) => Decode(encoded);

    static EnrRecord DecodeVerified(ReadOnlySpan<byte> encoded)
    {
        var outer = new RlpReader(encoded);
        var list = outer.ReadList();
        outer.EnsureEnd();
        if (!list.HasMore) throw new EnrException("an empty list is not a node record");
        var signature = list.ReadBytes().ToArray();
        var content = list.Remaining;
        if (!list.HasMore) throw new EnrException("a node record without a sequence number");
        ulong seq = list.ReadUInt64();
        var pairs = new List<KeyValuePair<string, byte[]>>();
        string? previous = null;
        while (list.HasMore)
        {
            var keyBytes = list.ReadBytes();
            if (!list.HasMore) throw new EnrException($"node record key \"{Printable(keyBytes)}\" has no value");
            var value = list.ReadEncoded().ToArray();
            string key = Encoding.Latin1.GetString(keyBytes);
            if (previous is not null)
            {
                int order = string.CompareOrdinal(previous, key);
                if (order == 0) throw new EnrException($"node record key \"{Printable(keyBytes)}\" appears twice");
                if (order > 0) throw new EnrException($"node record keys are not sorted: \"{Printable(keyBytes)}\" after \"{Printable(Encoding.Latin1.GetBytes(previous))}\"");
            }
            previous = key;
            pairs.Add(new(key, value));
        }
        var array = pairs.ToArray();
        byte[] publicKey = CheckV4(array);
        if (signature.Length != V4IdentityScheme.SignatureLength)
            throw new EnrException($"a v4 node record signature is {V4IdentityScheme.SignatureLength} bytes, not {signature.Length}");
        if (!V4IdentityScheme.Verify(publicKey, ContentList(content), signature))
            throw new EnrException("the node record's signature does not verify against its secp256k1 key");
        var record = new EnrRecord(encoded.ToArray(), seq, signature, array, publicKey, V4IdentityScheme.NodeIdOf(publicKey));
        CheckPredefined(record);
        return record;
    }

    /// <summary>The signed content <c>[seq, k, v, …]</c>: the record's items after the signature under a fresh list header.</summary>
    internal static byte[] ContentList(ReadOnlySpan<byte> items)
    {
        var writer = new RlpWriter(items.Length + 4);
        int list = writer.BeginList();
        writer.WriteEncoded(items);
        writer.EndList(list);
        return writer.ToArray();
    }

    static byte[] CheckV4(KeyValuePair<string, byte[]>[] pairs)
    {
        byte[]? id = ByteString(pairs, EnrKeys.Id) ?? throw new EnrException("the node record has no \"id\" (identity scheme)");
        if (!id.AsSpan().SequenceEqual("v4"u8)) throw new EnrException($"unknown identity scheme \"{Printable(id)}\" (only \"v4\" is defined)");
        byte[] key = ByteString(pairs, EnrKeys.Secp256k1) ?? throw new EnrException("a v4 node record has no \"secp256k1\" public key");
        if (key.Length != V4IdentityScheme.PublicKeyLength || !Identity.Secp256k1Signatures.IsValidPublicKey(key))
            throw new EnrException("the node record's \"secp256k1\" value is not a 33-byte compressed point on the curve");
        return key;
    }

    static void CheckPredefined(EnrRecord record)
    {
        foreach (var (key, length) in new[] { (EnrKeys.Ip, 4), (EnrKeys.Ip6, 16) })
            if (record.Has(key) && (!record.TryGetBytes(key, out var ip) || ip.Length != length))
                throw new EnrException($"node record \"{key}\" is not a {length}-byte address");
        foreach (var key in new[] { EnrKeys.Tcp, EnrKeys.Udp, EnrKeys.Tcp6, EnrKeys.Udp6 })
            if (record.Has(key) && record.PortOf(key) is null)
                throw new EnrException($"node record \"{key}\" is not a port number (a big-endian integer up to 65535)");
    }

    static byte[]? ByteString(KeyValuePair<string, byte[]>[] pairs, string key)
    {
        foreach (var pair in pairs)
        {
            if (pair.Key != key) continue;
            var reader = new RlpReader(pair.Value);
            return reader.NextIsList ? null : reader.ReadBytes().ToArray();
        }
        return null;
    }

    int IndexOf(string key)
    {
        int lo = 0, hi = _pairs.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            int c = string.CompareOrdinal(_pairs[mid].Key, key);
            if (c == 0) return mid;
            if (c < 0) lo = mid + 1;
            else hi = mid - 1;
        }
        return -1;
    }

    IPAddress? AddressOf(string key, int length) =>
        TryGetBytes(key, out var bytes) && bytes.Length == length ? new IPAddress(bytes) : null;

    ushort? PortOf(string key)
    {
        if (!TryGetBytes(key, out var bytes) || bytes.Length > 2 || (bytes.Length > 0 && bytes[0] == 0)) return null;
        return bytes.Length switch
        {
            0 => 0,
            1 => bytes[0],
            _ => BinaryPrimitives.ReadUInt16BigEndian(bytes),
        };
    }

    static string Printable(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
            if (b < 0x20 || b > 0x7E) return "0x" + Convert.ToHexStringLower(bytes);
        return Encoding.ASCII.GetString(bytes);
    }
}
