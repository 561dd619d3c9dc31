using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Libp2p.Discovery.Dns;

/// <summary>
/// A subtree's name in an EIP-1459 tree: the base32 (no padding) of a prefix of the Keccak-256 of the entry's text. Names
/// are the first 16 bytes when we publish; any prefix of 12 to 32 bytes is accepted when we read, as go-ethereum does.
/// </summary>
public static class EnrTreeHash
{
    /// <summary>How many hash bytes a published name carries (26 base32 characters).</summary>
    public const int PublishedLength = 16;

    /// <summary>The name under which <paramref name="entryText"/> is published.</summary>
    public static string Of(string entryText) => Base32.Encode(Digest(entryText).AsSpan(0, PublishedLength)).ToUpperInvariant();

    /// <summary>The Keccak-256 of the UTF-8 text, which names entries and is what the root signature signs.</summary>
    public static byte[] Digest(string text)
    {
        var digest = new byte[32];
        V4IdentityScheme.Keccak256(System.Text.Encoding.UTF8.GetBytes(text), digest);
        return digest;
    }

    /// <summary>Whether <paramref name="hash"/> is well-formed base32 of 12 to 32 bytes.</summary>
    public static bool IsValid(ReadOnlySpan<char> hash) => TryDecode(hash, out _);

    /// <summary>Whether <paramref name="entryText"/> hashes to a value starting with the bytes <paramref name="hash"/> names.</summary>
    public static bool Matches(string hash, string entryText)
    {
        if (!TryDecode(hash, out var prefix)) return false;
        var full = Digest(entryText);
        return full.AsSpan().StartsWith(prefix);
    }

    static bool TryDecode(ReadOnlySpan<char> hash, out byte[] bytes)
    {
        bytes = [];
        // 20 characters hold 12 bytes, 52 hold 32: a cheap bound before decoding.
        if (hash.Length < 20 || hash.Length > 52) return false;
        try { bytes = Base32.Decode(hash); }
        catch (FormatException) { return false; }
        return bytes.Length is >= DnsDiscoveryLimits.MinHashLength and <= DnsDiscoveryLimits.MaxHashLength;
    }
}
