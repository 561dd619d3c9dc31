namespace StoreSync.Libp2p.Discovery.Dns;

/// <summary>A subtree entry of an EIP-1459 tree: a branch, a node record leaf, or a link to another tree.</summary>
public abstract record EnrTreeEntry
{
    /// <summary>Parses a subtree entry; returns null for text of an unknown kind (other TXT records may share the name).</summary>
    /// <exception cref="FormatException">A known prefix followed by malformed content, or text over the size bound.</exception>
    public static EnrTreeEntry? TryParse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > DnsDiscoveryLimits.MaxRecordTextLength) throw new FormatException($"tree entry of {text.Length} characters is too long");
        if (text.StartsWith(EnrTreeBranch.Prefix, StringComparison.Ordinal)) return EnrTreeBranch.Parse(text);
        if (text.StartsWith(EnrTreeLeaf.Prefix, StringComparison.Ordinal)) return EnrTreeLeaf.Parse(text);
        if (text.StartsWith(EnrTreeUrl.Scheme, StringComparison.Ordinal)) return new EnrTreeLink(EnrTreeUrl.Parse(text));
        return null;
    }
}
