namespace StoreSync.Libp2p.Discovery.Dns;

/// <summary>What one walk of a DNS tree found: node records (text, deduplicated), the trees visited, and what was skipped.</summary>
public sealed record EnrTreeContents(IReadOnlyList<string> Records, IReadOnlyList<EnrTreeVisit> Trees, IReadOnlyList<string> Problems);

/// <summary>A tree the walk read: its URL and the sequence number of the root it verified.</summary>
public sealed record EnrTreeVisit(EnrTreeUrl Url, ulong Seq);
