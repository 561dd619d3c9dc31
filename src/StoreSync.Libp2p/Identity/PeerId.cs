using System.Security.Cryptography;
using StoreSync.Core.Wire;
using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Libp2p.Identity;

/// <summary>A libp2p peer id: the multihash of a PublicKey protobuf (identity-inlined when short, else SHA-256).</summary>
public sealed class PeerId : IEquatable<PeerId>
{
    /// <summary>The peer-ids spec inlines keys whose protobuf is at most this long (Ed25519, secp256k1).</summary>
    public const int MaxInlineKeyLength = 42;

    /// <summary>Multicodec of CIDs that name a libp2p key.</summary>
    public const ulong LibP2PKeyCodec = 0x72;

    /// <summary>Peer ids of any real key are well under this; anything longer is rejected before decoding.</summary>
    public const int MaxTextLength = 256;

    private readonly byte[] _multihash;
    private string? _text;

    private PeerId(byte[] multihash) => _multihash = multihash;

    public ReadOnlyMemory<byte> Multihash => _multihash;

    public static PeerId FromPublicKey(PublicKey key)
    {
        var protobuf = key.Protobuf.Span;
        return protobuf.Length <= MaxInlineKeyLength
            ? new PeerId(Multiformats.Multihash.Encode(Multiformats.Multihash.Identity, protobuf))
            : new PeerId(Multiformats.Multihash.Encode(Multiformats.Multihash.Sha2_256, SHA256.HashData(protobuf)));
    }

    /// <exception cref="FormatException">Not an identity or sha2-256 multihash of a plausible size.</exception>
    public static PeerId FromMultihash(ReadOnlySpan<byte> multihash)
    {
        var bytes = multihash.ToArray();
        var (code, digest) = Multiformats.Multihash.Decode(bytes);
        switch (code)
        {
            case Multiformats.Multihash.Identity: // Multihash.Decode already capped the digest length
                break;
            case Multiformats.Multihash.Sha2_256 when digest.Length == 32:
                break;
            default:
                throw new FormatException($"peer id multihash must be identity or a 32-byte sha2-256, not code 0x{code:x} with {digest.Length} bytes");
        }
        return new PeerId(bytes);
    }

    /// <summary>Parses a base58btc multihash ("12D3KooW...", "16Uiu2HA...", "Qm...") or a CIDv1 libp2p-key ("bafz...", or 'z' base58btc).</summary>
    /// <exception cref="FormatException">Says what is wrong with <paramref name="text"/>.</exception>
    public static PeerId Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0) throw new FormatException("empty peer id");
        if (text.Length > MaxTextLength) throw new FormatException($"peer id longer than {MaxTextLength} characters");
        if (text[0] == '1' || text.StartsWith("Qm", StringComparison.Ordinal)) return FromMultihash(Base58.Decode(text));
        var cid = text[0] switch
        {
            'b' => Base32.Decode(text.AsSpan(1)),
            'z' => Base58.Decode(text.AsSpan(1)),
            _ => throw new FormatException($"peer id '{text}' is neither base58btc nor a base32/base58btc CID"),
        };
        int n = Varint.Read(cid, out ulong version);
        if (n == 0 || version != 1) throw new FormatException($"peer id CID must be version 1");
        int m = Varint.Read(cid.AsSpan(n), out ulong codec);
        if (m == 0 || codec != LibP2PKeyCodec) throw new FormatException($"peer id CID must have the libp2p-key codec 0x72, not 0x{codec:x}");
        return FromMultihash(cid.AsSpan(n + m));
    }

    public static bool TryParse(string text, out PeerId? id) => Multiformats.TryParse.With(Parse, text, out id);

    /// <summary>The public key inlined in an identity multihash, or null for hashed (or undecodable) keys.</summary>
    public PublicKey? TryGetPublicKey()
    {
        var (code, digest) = Multiformats.Multihash.Decode(_multihash);
        if (code != Multiformats.Multihash.Identity) return null;
        try { return PublicKey.FromProtobuf(digest.Span); }
        catch (FormatException) { return null; }
    }

    /// <summary>Whether <paramref name="key"/> is the key this id names.</summary>
    public bool Matches(PublicKey key) => Equals(FromPublicKey(key));

    /// <summary>base58btc of the multihash, the form libp2p prints.</summary>
    public override string ToString() => _text ??= Base58.Encode(_multihash);

    /// <summary>CIDv1, libp2p-key codec, multibase base32 ("bafz...").</summary>
    public string ToCidString()
    {
        var cid = new byte[2 + _multihash.Length];
        cid[0] = 0x01;
        cid[1] = (byte)LibP2PKeyCodec;
        _multihash.CopyTo(cid, 2);
        return "b" + Base32.Encode(cid);
    }

    public bool Equals(PeerId? other) => other is not null && other._multihash.AsSpan().SequenceEqual(_multihash);

    public override bool Equals(object? obj) => Equals(obj as PeerId);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(_multihash);
        return hash.ToHashCode();
    }

    public static bool operator ==(PeerId? a, PeerId? b) => a is null ? b is null : a.Equals(b);

    public static bool operator !=(PeerId? a, PeerId? b) => !(a == b);
}
