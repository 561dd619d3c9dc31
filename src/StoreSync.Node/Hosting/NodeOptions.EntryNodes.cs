using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Node.Hosting;

/// <summary>logos-delivery's --entry-node (spec/discovery.md "Entry nodes"): one flag for every kind of bootstrap address,
/// each sent where its kind belongs.</summary>
public sealed partial class NodeOptions
{
    /// <summary>Bootstrap addresses, repeatable: <c>enrtree://…</c> (DNS discovery), <c>enr:…</c> (discv5 bootstrap and, from
    /// its ip/tcp, a static node) or a multiaddr <c>/…/p2p/&lt;peer id&gt;</c> (a static node).</summary>
    public List<string> EntryNodes { get; set; } = [];

    public enum EntryNodeKind { EnrTree, Enr, Multiaddr }

    /// <summary>The kind by the address's start, as logos-delivery classifies it (<c>enrtree:</c>, <c>enr:</c>, <c>/</c>).</summary>
    public static bool TryClassifyEntryNode(string text, out EntryNodeKind kind)
    {
        kind = default;
        if (text.StartsWith("enrtree:", StringComparison.OrdinalIgnoreCase)) kind = EntryNodeKind.EnrTree;
        else if (text.StartsWith("enr:", StringComparison.OrdinalIgnoreCase)) kind = EntryNodeKind.Enr;
        else if (text.StartsWith('/')) kind = EntryNodeKind.Multiaddr;
        else return false;
        return true;
    }

    IEnumerable<string> EntryNodesOf(EntryNodeKind wanted) =>
        EntryNodes.Where(e => TryClassifyEntryNode(e, out var kind) && kind == wanted);

    /// <summary>Static nodes and entry nodes' multiaddrs, then each entry record's TCP addresses (logos-delivery dials those too).</summary>
    public IEnumerable<string> AllStaticNodes()
    {
        foreach (var s in StaticNodes) yield return s;
        foreach (var s in EntryNodesOf(EntryNodeKind.Multiaddr)) yield return s;
        foreach (var enr in EntryNodesOf(EntryNodeKind.Enr))
            if (EnrRecord.TryParse(enr, out var record, out _))
                foreach (var address in EnrPeerInfo.TcpMultiaddrs(record!)) yield return address.ToString();
    }

    /// <summary>discv5's bootstrap records: --discv5-bootstrap-node and every enr: entry node.</summary>
    public IEnumerable<string> AllDiscv5BootstrapNodes() => Discv5BootstrapNodes.Concat(EntryNodesOf(EntryNodeKind.Enr));

    /// <summary>The tree DNS discovery walks: --dns-discovery-url, else the enrtree: entry node.</summary>
    public string DnsDiscoveryTreeUrl() => DnsDiscoveryUrl.Length > 0 ? DnsDiscoveryUrl : EntryNodesOf(EntryNodeKind.EnrTree).FirstOrDefault() ?? "";

    IEnumerable<string> EntryNodeErrors()
    {
        foreach (var entry in EntryNodes)
        {
            if (!TryClassifyEntryNode(entry, out var kind))
            {
                yield return $"EntryNodes (--entry-node) '{entry}': not enrtree://…, enr:… or a multiaddr starting with '/'";
                continue;
            }
            string? why = null;
            switch (kind)
            {
                case EntryNodeKind.EnrTree:
                    why = TreeUrlError(entry);
                    break;
                case EntryNodeKind.Enr:
                    if (!EnrRecord.TryParse(entry, out var record, out var invalid))
                    {
                        why = invalid;
                        break;
                    }
                    if (!Discv5Discovery && EnrPeerInfo.TcpMultiaddrs(record!).Count == 0)
                        why = "the record has no ip and tcp to dial, and discv5 is off (--discv5-discovery) so it cannot bootstrap discv5 either";
                    break;
                case EntryNodeKind.Multiaddr:
                    why = StaticNodeError(entry);
                    break;
            }
            if (why is not null) yield return $"EntryNodes (--entry-node) '{entry}': {why}";
        }
        var trees = EntryNodesOf(EntryNodeKind.EnrTree).Distinct(StringComparer.OrdinalIgnoreCase).Count();
        if (trees + (DnsDiscoveryUrl.Length > 0 ? 1 : 0) > 1)
            yield return "EntryNodes (--entry-node) and DnsDiscoveryUrl (--dns-discovery-url) name more than one enrtree:// tree; the node walks one (logos-delivery keeps the last silently)";
        foreach (var node in StaticNodes)
            if (StaticNodeError(node) is { } why) yield return $"StaticNodes (--staticnode) '{node}': {why}";
    }

    static string? StaticNodeError(string text)
    {
        if (!Multiaddr.TryParse(text, out var address)) return "not a multiaddr";
        return address!.PeerId is null ? "the multiaddr does not end in /p2p/<peer id>" : null;
    }
}
