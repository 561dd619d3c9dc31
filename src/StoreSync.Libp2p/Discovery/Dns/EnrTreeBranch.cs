namespace StoreSync.Libp2p.Discovery.Dns;

/// <summary><c>enrtree-branch:&lt;h₁&gt;,&lt;h₂&gt;,…</c>: the hashes of child entries, published as subdomains of the tree.</summary>
public sealed record EnrTreeBranch(IReadOnlyList<string> Children) : EnrTreeEntry
{
    public const string Prefix = "enrtree-branch:";

    /// <exception cref="FormatException">An empty or malformed hash, or more than <see cref="DnsDiscoveryLimits.MaxBranchChildren"/> of them.</exception>
    public static EnrTreeBranch Parse(string text)
    {
        var list = text[Prefix.Length..];
        // An empty branch is how an empty tree is published.
        if (list.Length == 0) return new EnrTreeBranch([]);
        var children = list.Split(',');
        if (children.Length > DnsDiscoveryLimits.MaxBranchChildren) throw new FormatException($"branch has {children.Length} children, over {DnsDiscoveryLimits.MaxBranchChildren}");
        foreach (var child in children)
            if (!EnrTreeHash.IsValid(child)) throw new FormatException($"branch child '{child}' is not a subtree hash");
        return new EnrTreeBranch(children);
    }

    public override string ToString() => Prefix + string.Join(',', Children);
}
