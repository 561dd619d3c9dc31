using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace StoreSync.Libp2p.Discovery.Dns;

/// <summary>
/// Reads an EIP-1459 tree: verifies the root's signature against the URL's key, then walks the node-record and link
/// subtrees breadth first, checking that every entry hashes to the name it was found under. Bounded in depth, lookups,
/// records and linked trees (<see cref="DnsDiscoveryLimits"/>); a revisited hash (a loop) is not followed again.
/// </summary>
/// <remarks>
/// Only the given tree's root must verify (else <see cref="DnsDiscoveryException"/>): a broken subtree or linked tree is
/// skipped and named in <see cref="EnrTreeContents.Problems"/>, because the rest of the list is still signed and useful.
/// </remarks>
public sealed class EnrTreeWalker(ITxtResolver resolver, ILogger? logger = null)
{
    /// <summary>Lookups in flight at once within one level of a tree.</summary>
    const int Parallelism = 8;

    readonly ILogger _logger = logger ?? NullLogger.Instance;

    enum Subtree { Records, Links }

    sealed record Pending(EnrTreeUrl Tree, string Hash, Subtree Kind, int Depth);

    /// <exception cref="DnsDiscoveryException">The root is missing, malformed or not signed by the URL's key.</exception>
    public async Task<EnrTreeContents> WalkAsync(EnrTreeUrl url, CancellationToken cancellationToken)
    {
        var records = new List<string>();
        var seenRecords = new HashSet<string>(StringComparer.Ordinal);
        var trees = new List<EnrTreeVisit>();
        var problems = new List<string>();
        var seenTrees = new HashSet<EnrTreeUrl> { url };
        var seenNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        int lookups = 0;

        var frontier = new List<Pending>();
        var treeQueue = new Queue<EnrTreeUrl>([url]);
        while (treeQueue.TryDequeue(out var tree))
        {
            if (lookups >= DnsDiscoveryLimits.MaxLookups) { problems.Add($"{tree}: not read, the lookup bound ({DnsDiscoveryLimits.MaxLookups}) is reached"); continue; }
            lookups++;
            EnrTreeRoot root;
            try { root = await ReadRootAsync(tree, cancellationToken).ConfigureAwait(false); }
            catch (DnsDiscoveryException e) when (tree != url)
            {
                problems.Add($"linked tree {e.Message}");
                continue;
            }
            trees.Add(new EnrTreeVisit(tree, root.Seq));
            frontier.Add(new Pending(tree, root.EnrRoot, Subtree.Records, 0));
            frontier.Add(new Pending(tree, root.LinkRoot, Subtree.Links, 0));

            while (frontier.Count > 0 && records.Count < DnsDiscoveryLimits.MaxRecords)
            {
                // Each name is looked up once, so a loop of branches ends when it comes round again.
                var level = frontier.Where(p => seenNames.Add(p.Tree.NameOf(p.Hash))).ToList();
                frontier.Clear();
                int room = DnsDiscoveryLimits.MaxLookups - lookups;
                if (level.Count > room)
                {
                    problems.Add($"{tree}: {level.Count - room} subtrees not read, the lookup bound ({DnsDiscoveryLimits.MaxLookups}) is reached");
                    level.RemoveRange(room, level.Count - room);
                }
                lookups += level.Count;
                var entries = new (EnrTreeEntry? Entry, string? Problem)[level.Count];
                await Parallel.ForAsync(0, level.Count, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
                    async (i, ct) => entries[i] = await ReadEntryAsync(level[i], ct).ConfigureAwait(false)).ConfigureAwait(false);

                for (int i = 0; i < level.Count; i++)
                {
                    var (pending, (entry, problem)) = (level[i], entries[i]);
                    if (problem is not null) { problems.Add(problem); continue; }
                    switch (entry)
                    {
                        case EnrTreeBranch branch when pending.Depth >= DnsDiscoveryLimits.MaxDepth:
                            problems.Add($"{pending.Tree.NameOf(pending.Hash)}: branch below depth {DnsDiscoveryLimits.MaxDepth} not followed");
                            break;
                        case EnrTreeBranch branch:
                            frontier.AddRange(branch.Children.Select(c => pending with { Hash = c, Depth = pending.Depth + 1 }));
                            break;
                        case EnrTreeLeaf leaf when pending.Kind == Subtree.Records:
                            if (records.Count < DnsDiscoveryLimits.MaxRecords && seenRecords.Add(leaf.Record)) records.Add(leaf.Record);
                            break;
                        case EnrTreeLink link when pending.Kind == Subtree.Links:
                            if (seenTrees.Count >= DnsDiscoveryLimits.MaxTrees) problems.Add($"{link.Url}: not read, the tree bound ({DnsDiscoveryLimits.MaxTrees}) is reached");
                            else if (seenTrees.Add(link.Url)) treeQueue.Enqueue(link.Url);
                            break;
                        default:
                            problems.Add($"{pending.Tree.NameOf(pending.Hash)}: a {entry!.GetType().Name} in the {pending.Kind.ToString().ToLowerInvariant()} subtree");
                            break;
                    }
                }
            }
            if (records.Count >= DnsDiscoveryLimits.MaxRecords && frontier.Count > 0) problems.Add($"{tree}: the record bound ({DnsDiscoveryLimits.MaxRecords}) is reached");
            frontier.Clear();
        }
        foreach (var problem in problems) _logger.LogWarning("DNS discovery of {Tree}: {Problem}", url, problem);
        return new EnrTreeContents(records, trees, problems);
    }

    async Task<EnrTreeRoot> ReadRootAsync(EnrTreeUrl tree, CancellationToken cancellationToken)
    {
        var texts = await resolver.ResolveTxtAsync(tree.Domain, cancellationToken).ConfigureAwait(false);
        var text = texts.FirstOrDefault(t => t.StartsWith(EnrTreeRoot.Prefix, StringComparison.Ordinal))
            ?? throw new DnsDiscoveryException(tree.ToString(), $"no {EnrTreeRoot.Prefix} TXT record at {tree.Domain}");
        EnrTreeRoot root;
        try { root = EnrTreeRoot.Parse(text); }
        catch (FormatException e) { throw new DnsDiscoveryException(tree.ToString(), e.Message); }
        if (!root.IsSignedBy(tree.PublicKey.Span)) throw new DnsDiscoveryException(tree.ToString(), "the tree root is not signed by the URL's key", badSignature: true);
        return root;
    }

    async Task<(EnrTreeEntry?, string?)> ReadEntryAsync(Pending pending, CancellationToken cancellationToken)
    {
        string name = pending.Tree.NameOf(pending.Hash);
        IReadOnlyList<string> texts;
        try { texts = await resolver.ResolveTxtAsync(name, cancellationToken).ConfigureAwait(false); }
        catch (DnsDiscoveryException e) { return (null, e.Message); }
        foreach (var text in texts)
        {
            EnrTreeEntry? entry;
            try { entry = EnrTreeEntry.TryParse(text); }
            catch (FormatException e) { return (null, $"{name}: {e.Message}"); }
            if (entry is null) continue;
            if (!EnrTreeHash.Matches(pending.Hash, text)) return (null, $"{name}: the entry does not hash to its name");
            return (entry, null);
        }
        return (null, $"{name}: no tree entry");
    }
}
