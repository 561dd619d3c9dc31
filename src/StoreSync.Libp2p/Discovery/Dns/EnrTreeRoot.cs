using System.Buffers.Text;
using System.Globalization;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Discovery.Dns;

/// <summary>
/// The signed root of an EIP-1459 tree, the TXT record at the tree's domain:
/// <c>enrtree-root:v1 e=&lt;enr-root&gt; l=&lt;link-root&gt; seq=&lt;n&gt; sig=&lt;signature&gt;</c>. The signature is 65 bytes
/// r ‖ s ‖ v in base64url without padding, over the Keccak-256 of the text before " sig=".
/// </summary>
public sealed record EnrTreeRoot(string EnrRoot, string LinkRoot, ulong Seq, ReadOnlyMemory<byte> Signature)
{
    public const string Prefix = "enrtree-root:v1";

    /// <summary>The text the signature covers.</summary>
    public string SignedText => string.Create(CultureInfo.InvariantCulture, $"{Prefix} e={EnrRoot} l={LinkRoot} seq={Seq}");

    /// <exception cref="FormatException">Not exactly the five fields above, a bad hash, or a signature that is not 65 bytes.</exception>
    public static EnrTreeRoot Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > DnsDiscoveryLimits.MaxRecordTextLength) throw new FormatException($"tree root of {text.Length} characters is too long");
        var parts = text.Split(' ');
        if (parts.Length != 5 || parts[0] != Prefix) throw new FormatException($"tree root is not '{Prefix} e=… l=… seq=… sig=…'");
        var e = Field(parts[1], "e=");
        var l = Field(parts[2], "l=");
        var seqText = Field(parts[3], "seq=");
        var sigText = Field(parts[4], "sig=");
        if (!EnrTreeHash.IsValid(e)) throw new FormatException($"tree root e={e} is not a subtree hash");
        if (!EnrTreeHash.IsValid(l)) throw new FormatException($"tree root l={l} is not a subtree hash");
        if (seqText.Length == 0 || !seqText.All(char.IsAsciiDigit) || !ulong.TryParse(seqText, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seq))
            throw new FormatException($"tree root seq={seqText} is not a decimal number");
        byte[] signature;
        try { signature = Base64Url.DecodeFromChars(sigText); }
        catch (FormatException ex) { throw new FormatException($"tree root signature is not base64url: {ex.Message}", ex); }
        if (signature.Length != DnsDiscoveryLimits.RootSignatureLength)
            throw new FormatException($"tree root signature is {signature.Length} bytes, not {DnsDiscoveryLimits.RootSignatureLength}");
        return new EnrTreeRoot(e, l, seq, signature);
    }

    /// <summary>Whether the root was signed by <paramref name="publicKey"/> (compressed secp256k1); high-S signatures are refused.</summary>
    public bool IsSignedBy(ReadOnlySpan<byte> publicKey) =>
        Signature.Length == DnsDiscoveryLimits.RootSignatureLength
        && Secp256k1Signatures.Verify(publicKey, EnrTreeHash.Digest(SignedText), Signature.Span[..Secp256k1Signatures.SignatureLength]);

    /// <summary>A root over the two subtrees, signed with <paramref name="privateKey"/>: what a tree publisher writes.</summary>
    public static EnrTreeRoot Sign(string enrRoot, string linkRoot, ulong seq, ReadOnlySpan<byte> privateKey)
    {
        var unsigned = new EnrTreeRoot(enrRoot, linkRoot, seq, ReadOnlyMemory<byte>.Empty);
        var compact = Secp256k1Signatures.SignRecoverable(privateKey, EnrTreeHash.Digest(unsigned.SignedText));
        // EIP-2098 keeps the parity in the top bit of s; the tree format wants it as a trailing recovery byte.
        var signature = new byte[DnsDiscoveryLimits.RootSignatureLength];
        compact.CopyTo(signature, 0);
        signature[64] = (byte)(compact[32] >> 7);
        signature[32] &= 0x7F;
        return unsigned with { Signature = signature };
    }

    public override string ToString() => SignedText + " sig=" + Base64Url.EncodeToString(Signature.Span);

    static string Field(string part, string name) =>
        part.StartsWith(name, StringComparison.Ordinal) ? part[name.Length..] : throw new FormatException($"tree root field '{part}' is not {name}…");
}
