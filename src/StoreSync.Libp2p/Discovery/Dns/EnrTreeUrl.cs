using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Libp2p.Discovery.Dns;

/// <summary>
/// <c>enrtree://&lt;public key&gt;@&lt;domain&gt;</c> (EIP-1459): where a node list is published and which key must have signed it.
/// The key is the compressed secp256k1 public key in base32 without padding.
/// </summary>
public sealed record EnrTreeUrl
{
    public const string Scheme = "enrtree://";

    EnrTreeUrl(byte[] publicKey, string domain)
    {
        PublicKey = publicKey;
        Domain = domain;
    }

    /// <summary>The 33-byte compressed key the tree root must be signed with.</summary>
    public ReadOnlyMemory<byte> PublicKey { get; }

    /// <summary>The domain whose TXT record is the tree root (lower case, no trailing dot).</summary>
    public string Domain { get; }

    /// <summary>The URL for a tree at <paramref name="domain"/> signed by <paramref name="publicKey"/>.</summary>
    /// <exception cref="FormatException">Not a valid compressed key, or not a valid domain name.</exception>
    public static EnrTreeUrl Create(ReadOnlySpan<byte> publicKey, string domain)
    {
        if (!Secp256k1Signatures.IsValidPublicKey(publicKey)) throw new FormatException("enrtree public key is not a compressed secp256k1 point");
        return new EnrTreeUrl(publicKey.ToArray(), NormaliseDomain(domain));
    }

    /// <exception cref="FormatException">Not <c>enrtree://key@domain</c>, a bad key or a bad domain.</exception>
    public static EnrTreeUrl Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.StartsWith(Scheme, StringComparison.Ordinal)) throw new FormatException($"a DNS tree URL starts with {Scheme}");
        var rest = text.AsSpan(Scheme.Length);
        int at = rest.IndexOf('@');
        if (at <= 0 || at == rest.Length - 1) throw new FormatException("a DNS tree URL is enrtree://<key>@<domain>");
        byte[] key;
        try { key = Base32.Decode(rest[..at]); }
        catch (FormatException e) { throw new FormatException($"enrtree public key is not base32: {e.Message}", e); }
        return Create(key, rest[(at + 1)..].ToString());
    }

    public static bool TryParse(string text, out EnrTreeUrl? url)
    {
        try { url = Parse(text); return true; }
        catch (FormatException) { url = null; return false; }
    }

    /// <summary>The name of the TXT record for subtree <paramref name="hash"/> of this tree.</summary>
    public string NameOf(string hash) => hash + "." + Domain;

    public override string ToString() => Scheme + Base32.Encode(PublicKey.Span).ToUpperInvariant() + "@" + Domain;

    public bool Equals(EnrTreeUrl? other) => other is not null && Domain == other.Domain && PublicKey.Span.SequenceEqual(other.PublicKey.Span);

    public override int GetHashCode() => Domain.GetHashCode(StringComparison.Ordinal);

    /// <summary>Checks the name against RFC 1035's sizes and refuses anything but letters, digits, '-' and '_' in labels.</summary>
    internal static string NormaliseDomain(string domain)
    {
        var name = domain.EndsWith('.') ? domain[..^1] : domain;
        if (name.Length == 0 || name.Length > DnsDiscoveryLimits.MaxNameLength) throw new FormatException($"domain name length {name.Length} is out of range");
        foreach (var label in name.Split('.'))
        {
            if (label.Length == 0 || label.Length > DnsDiscoveryLimits.MaxLabelLength) throw new FormatException($"domain '{name}' has a label of length {label.Length}");
            foreach (char c in label)
                if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_') throw new FormatException($"domain '{name}' has the character '{c}'");
        }
        return name.ToLowerInvariant();
    }
}
