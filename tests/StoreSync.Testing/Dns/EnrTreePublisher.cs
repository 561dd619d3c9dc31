using StoreSync.Libp2p.Discovery.Dns;

namespace StoreSync.Testing.Dns;

/// <summary>Lays an EIP-1459 tree out as TXT records (name → text) the way a publisher would: branches of at most <c>width</c> children.</summary>
public static class EnrTreePublisher
{
    /// <summary>The TXT records of a tree at <paramref name="domain"/>, root signed with <paramref name="privateKey"/>.</summary>
    public static Dictionary<string, string> Publish(string domain, byte[] privateKey, IReadOnlyList<string> enrs, IReadOnlyList<string> links, ulong seq = 1, int width = 3)
    {
        var records = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string enrRoot = Subtree(domain, enrs, width, records);
        string linkRoot = Subtree(domain, links, width, records);
        records[domain] = EnrTreeRoot.Sign(enrRoot, linkRoot, seq, privateKey).ToString();
        return records;
    }

    /// <summary>Publishes <paramref name="records"/> on <paramref name="server"/>.</summary>
    public static void ServeOn(this LoopbackDnsServer server, IReadOnlyDictionary<string, string> records)
    {
        foreach (var (name, text) in records) server.SetTxt(name, text);
    }

    /// <summary>Adds an entry and returns its hash.</summary>
    public static string Put(string domain, string text, IDictionary<string, string> records)
    {
        string hash = EnrTreeHash.Of(text);
        records[hash + "." + domain] = text;
        return hash;
    }

    static string Subtree(string domain, IReadOnlyList<string> leaves, int width, Dictionary<string, string> records)
    {
        var hashes = leaves.Select(l => Put(domain, l, records)).ToList();
        while (hashes.Count > width)
            hashes = hashes.Chunk(width).Select(c => Put(domain, EnrTreeBranch.Prefix + string.Join(',', c), records)).ToList();
        // A single leaf is its own subtree root; anything else (even nothing) hangs under one branch.
        return leaves.Count == 1 ? hashes[0] : Put(domain, EnrTreeBranch.Prefix + string.Join(',', hashes), records);
    }
}
