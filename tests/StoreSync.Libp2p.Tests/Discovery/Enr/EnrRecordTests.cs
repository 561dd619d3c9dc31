using System.Net;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Discovery.Rlp;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Tests.Discovery.Enr;

/// <summary>EIP-778's example record, and the malformed records a decoder must refuse with a reason.</summary>
public class EnrRecordTests
{
    // EIP-778 "Test Vectors": private key, seq 1, ip 127.0.0.1, udp 30303.
    internal const string ExampleText = "enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8";
    internal static readonly byte[] ExampleKey = Hex.Bytes("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291");
    const string ExampleNodeId = "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7";

    static byte[] ExampleBytes => EnrRecord.Parse(ExampleText).ToArray();

    [Fact]
    public void Example_record_decodes_and_verifies()
    {
        var record = EnrRecord.Parse(ExampleText);
        Assert.Equal(1ul, record.Seq);
        Assert.Equal(IPAddress.Parse("127.0.0.1"), record.Ip);
        Assert.Equal((ushort)30303, record.Udp);
        Assert.Null(record.Tcp);
        Assert.Null(record.Ip6);
        Assert.Equal(ExampleNodeId, record.NodeId.ToString());
        Assert.Equal("03ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd3138", Hex.Of(record.PublicKey.Span));
        Assert.Equal(["id", "ip", "secp256k1", "udp"], record.Keys);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 30303), record.UdpEndPoint);
        Assert.Equal(ExampleText, record.ToText());
    }

    [Fact]
    public void Example_record_is_rebuilt_byte_for_byte_from_its_key()
    {
        // Signing is deterministic (RFC 6979), so the same pairs under the same key give the vector's exact bytes.
        var rebuilt = new EnrBuilder { Seq = 1 }.SetIp(IPAddress.Loopback).SetUdp(30303).Sign(ExampleKey);
        Assert.Equal(Hex.Of(ExampleBytes), Hex.Of(rebuilt.Encode()));
        Assert.Equal(ExampleText, rebuilt.ToText());
    }

    [Fact]
    public void Builder_signs_with_an_identity_key_and_keeps_arbitrary_keys()
    {
        var key = IdentityKey.Generate(KeyType.Secp256k1);
        var record = new EnrBuilder()
            .SetIp(IPAddress.Parse("10.0.0.7")).SetTcp(60000).SetUdp(9000)
            .SetIp(IPAddress.Parse("::1")).SetUdp6(9001)
            .Set("waku2", [0x0b])
            .SetEncoded("eth", Hex.Bytes("c7c68420a1b2c380"))
            .Sign(key);
        Assert.Equal(Hex.Of(key.PublicKey.Raw.Span), Hex.Of(record.PublicKey.Span));
        Assert.Equal((ushort)60000, record.Tcp);
        Assert.Equal(IPAddress.IPv6Loopback, record.Ip6);
        Assert.Equal((ushort)9001, record.Udp6);
        Assert.True(record.TryGetBytes("waku2", out var waku2));
        Assert.Equal([0x0b], waku2.ToArray());
        Assert.False(record.TryGetBytes("eth", out _));
        Assert.Equal("c7c68420a1b2c380", Hex.Of(record.GetEncodedValue("eth")));
        Assert.False(record.Has("rs"));

        var decoded = EnrRecord.Decode(record.Encode());
        Assert.Equal(record.NodeId, decoded.NodeId);
        Assert.Equal(record.ToText(), EnrRecord.Parse(record.ToText()).ToText());
    }

    [Fact]
    public void From_bumps_the_sequence_and_keeps_the_pairs()
    {
        var first = new EnrBuilder { Seq = 7 }.SetUdp(1).Set("custom", [1, 2, 3]).Sign(ExampleKey);
        var second = EnrBuilder.From(first).SetUdp(2).Sign(ExampleKey);
        Assert.Equal(8ul, second.Seq);
        Assert.Equal((ushort)2, second.Udp);
        Assert.True(second.TryGetBytes("custom", out var custom));
        Assert.Equal([1, 2, 3], custom.ToArray());
        Assert.Equal(first.NodeId, second.NodeId);
    }

    [Fact]
    public void Builder_refuses_a_record_over_300_bytes()
    {
        var builder = new EnrBuilder().Set("big", new byte[200]).Set("bigger", new byte[60]);
        var e = Assert.Throws<EnrException>(() => builder.Sign(ExampleKey));
        Assert.Contains("300", e.Message);
    }

    [Fact]
    public void Builder_refuses_an_ed25519_key()
    {
        Assert.Throws<ArgumentException>(() => new EnrBuilder().Sign(IdentityKey.Generate(KeyType.Ed25519)));
    }

    [Fact]
    public void Bad_signature_is_refused()
    {
        var bytes = ExampleBytes;
        bytes[10] ^= 0x01;
        Refused(bytes, "signature does not verify");
    }

    [Fact]
    public void Changed_content_under_the_old_signature_is_refused()
    {
        var bytes = ExampleBytes;
        bytes[^1] ^= 0x01; // the udp port
        Refused(bytes, "signature does not verify");
    }

    [Fact]
    public void Too_long_is_refused_before_parsing()
    {
        var bytes = new byte[301];
        bytes[0] = 0xF9;
        bytes[1] = 0x01;
        bytes[2] = 0x2A;
        Refused(bytes, "at most 300");
    }

    [Fact]
    public void Unsorted_keys_are_refused_even_when_signed()
    {
        Refused(SignedRaw(1, ("udp", [0x76, 0x5f]), ("id", "v4"u8.ToArray()), ("secp256k1", ExamplePublicKey)), "not sorted");
    }

    [Fact]
    public void Duplicate_keys_are_refused_even_when_signed()
    {
        Refused(SignedRaw(1, ("id", "v4"u8.ToArray()), ("secp256k1", ExamplePublicKey), ("udp", [1]), ("udp", [2])), "appears twice");
    }

    [Fact]
    public void Unknown_identity_scheme_is_refused()
    {
        Refused(SignedRaw(1, ("id", "v5"u8.ToArray()), ("secp256k1", ExamplePublicKey)), "identity scheme");
    }

    [Fact]
    public void Missing_public_key_is_refused()
    {
        Refused(SignedRaw(1, ("id", "v4"u8.ToArray())), "secp256k1");
    }

    [Fact]
    public void Malformed_predefined_values_are_refused()
    {
        Refused(SignedRaw(1, ("id", "v4"u8.ToArray()), ("ip", [127, 0, 0]), ("secp256k1", ExamplePublicKey)), "4-byte address");
        Refused(SignedRaw(1, ("id", "v4"u8.ToArray()), ("secp256k1", ExamplePublicKey), ("udp", [1, 0, 0])), "port");
    }

    [Fact]
    public void Value_without_key_is_refused()
    {
        Refused(SignedRaw(1, ("id", "v4"u8.ToArray()), ("secp256k1", ExamplePublicKey), ("zzz", null)), "has no value");
    }

    [Fact]
    public void Non_canonical_rlp_is_refused()
    {
        // seq 1 written as 0x81 0x01: a byte below 0x80 must be its own encoding.
        var bytes = ExampleBytes;
        int seqAt = 3 + 65;
        Assert.Equal(0x01, bytes[seqAt]);
        var patched = bytes[..seqAt].Concat(new byte[] { 0x81, 0x01 }).Concat(bytes[(seqAt + 1)..]).ToArray();
        patched[1]++; // the list's length grew by one
        Refused(patched, "canonical RLP");
    }

    [Fact]
    public void Truncated_and_trailing_bytes_are_refused()
    {
        var bytes = ExampleBytes;
        Refused(bytes[..^1], "runs past the input");
        Refused(bytes[..2], "runs past the input");
        Refused([], "input ended");
        Refused([.. bytes, 0x00], "unexpected bytes");
    }

    [Fact]
    public void Signature_of_the_wrong_length_is_refused()
    {
        var inner = new RlpReader(ExampleBytes).ReadList();
        inner.ReadBytes();
        var writer = new RlpWriter();
        int list = writer.BeginList();
        writer.WriteBytes(new byte[65]);
        writer.WriteEncoded(inner.Remaining);
        writer.EndList(list);
        Refused(writer.ToArray(), "64 bytes");
    }

    [Theory]
    [InlineData("-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4", "starts with")]
    [InlineData("enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2+oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8", "URL-safe")]
    [InlineData("enr:!!!!", "base64")]
    [InlineData("enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4", "runs past")]
    public void Bad_text_is_refused(string text, string reason)
    {
        Assert.False(EnrRecord.TryParse(text, out var record, out string error));
        Assert.Null(record);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Padded_text_is_tolerated()
    {
        var text = new EnrBuilder().SetUdp(1).Sign(ExampleKey).ToText();
        var padded = text + new string('=', (4 - (text.Length - 4) % 4) % 4);
        Assert.Equal(text, EnrRecord.Parse(padded).ToText());
    }

    [Fact]
    public void Log_distance_follows_the_first_differing_bit()
    {
        var zero = new NodeId(new byte[32]);
        Assert.Equal(0, NodeId.LogDistance(zero, zero));
        var bytes = new byte[32];
        bytes[31] = 1;
        Assert.Equal(1, NodeId.LogDistance(zero, new NodeId(bytes)));
        bytes[0] = 0x80;
        Assert.Equal(256, NodeId.LogDistance(zero, new NodeId(bytes)));
        bytes[0] = 0;
        bytes[16] = 0x10;
        Assert.Equal(125, NodeId.LogDistance(zero, new NodeId(bytes)));
    }

    static byte[] ExamplePublicKey => Secp256k1Signatures.PublicKeyOf(ExampleKey);

    /// <summary>A record with the pairs in the order given (null value: the key alone), validly signed by the example key.</summary>
    static byte[] SignedRaw(ulong seq, params (string Key, byte[]? Value)[] pairs)
    {
        var items = new RlpWriter();
        items.WriteUInt64(seq);
        foreach (var (key, value) in pairs)
        {
            items.WriteBytes(System.Text.Encoding.ASCII.GetBytes(key));
            if (value is not null) items.WriteBytes(value);
        }
        var signature = V4IdentityScheme.Sign(ExampleKey, EnrRecord.ContentList(items.Written));
        var record = new RlpWriter();
        int list = record.BeginList();
        record.WriteBytes(signature);
        record.WriteEncoded(items.Written);
        record.EndList(list);
        return record.ToArray();
    }

    static void Refused(byte[] bytes, string reason)
    {
        Assert.False(EnrRecord.TryDecode(bytes, out var record, out string error));
        Assert.Null(record);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        var e = Assert.Throws<EnrException>(() => EnrRecord.Decode(bytes));
        Assert.Equal(error, e.Message);
    }
}
