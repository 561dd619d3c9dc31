namespace StoreSync.Libp2p.Discovery.Dns;

/// <summary><c>enr:&lt;base64url record&gt;</c>: a node record, kept as text; the caller decodes and verifies it.</summary>
public sealed record EnrTreeLeaf(string Record) : EnrTreeEntry
{
    public const string Prefix = "enr:";

    /// <exception cref="FormatException">No base64url characters after the prefix.</exception>
    public static EnrTreeLeaf Parse(string text)
    {
        var body = text.AsSpan(Prefix.Length);
        if (body.IsEmpty) throw new FormatException("enr: leaf is empty");
        foreach (char c in body)
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_') throw new FormatException($"enr: leaf has the character '{c}'");
        return new EnrTreeLeaf(text);
    }

    public override string ToString() => Record;
}
