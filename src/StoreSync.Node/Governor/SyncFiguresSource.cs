using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using StoreSync.Libp2p.Identity;
using StoreSync.Reconciliation;
using StoreSync.Storage.Sync;
using StoreSync.Waku;
using StoreSync.Waku.Sync;

namespace StoreSync.Node.Governor;

/// <summary>Sync state and cache memory for the figures, for the node and per community: each peer's last session per scope
/// (from <see cref="ReconciliationRunner.SessionEnded"/>), messages fetched (<see cref="TransferService.Fetched"/>), and the bytes
/// held by the sync fingerprint indexes; also exported as OpenTelemetry instruments labelled <c>community</c>.</summary>
/// <remarks>
/// A session is booked to every community its agreed scope touches (a pubsub topic of the community and, when both name content
/// topics, a common one): the scheduler syncs each community as its own scope, so normally that is exactly one; a session over a
/// whole pubsub topic shared by several communities counts in each. A fetched message is booked to the communities of its own
/// (pubsub, content topic). Indexes are kept per served pubsub topic, plus one per pubsub topic of each community scope that
/// names content topics; a community's memory figure is the sum of the indexes of its pubsub topics and of its own scope's
/// (<c>sharedIndex</c> when another community uses one of its pubsub topics too). At most <see cref="MaxEntries"/>
/// (peer, scope) pairs and <see cref="MaxPeers"/> peers' fetch counts are kept; the oldest go first.
/// </remarks>
public sealed class SyncFiguresSource : IFiguresSource, IDisposable
{
    public const int MaxPeers = 1024;

    /// <summary>Last sessions kept: one per (peer, scope) pair.</summary>
    public const int MaxEntries = 4096;

    readonly SyncIndexes _indexes;
    readonly ResourceGovernor _governor;
    readonly ConcurrentDictionary<(string Peer, SyncScope? Scope), Session> _last = new();
    readonly ConcurrentDictionary<string, long> _fetchedByCommunity = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, long> _fetchedByPeer = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, long> _sessionsByCommunity = new(StringComparer.Ordinal);
    readonly Meter _meter = new(WakuMetrics.MeterName);
    long _fetched, _sessions;

    sealed record Session(string PeerId, SyncScope? Scope, long LastSyncMs, string Outcome, int ItemsMissing, int ItemsSent, string Mode);

    public SyncFiguresSource(ReconciliationRunner runner, TransferService transfer, SyncIndexes indexes, ResourceGovernor governor)
    {
        _indexes = indexes;
        _governor = governor;
        runner.SessionEnded += OnSession;
        transfer.Fetched += OnFetched;
        RegisterInstruments();
    }

    void OnSession(SyncSessionResult r)
    {
        Interlocked.Increment(ref _sessions);
        string outcome = r.Completed ? "completed" : r.DifferenceCapReached ? "capped" : r.Error ?? "stopped";
        var session = new Session(r.Peer.ToString(), r.Scope, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), outcome, r.ToReceive, r.Pushed, r.Mode.Name());
        _last[(session.PeerId, r.Scope)] = session;
        foreach (var c in _governor.Communities)
            if (Touches(c, r.Scope)) _sessionsByCommunity.AddOrUpdate(c.Name, 1, (_, n) => n + 1);
        if (_last.Count > MaxEntries && _last.MinBy(kv => kv.Value.LastSyncMs) is { Key: var oldest }) _last.TryRemove(oldest, out _);
    }

    void OnFetched(PeerId peer, string pubsub, string content)
    {
        Interlocked.Increment(ref _fetched);
        string id = peer.ToString();
        if (_fetchedByPeer.Count < MaxPeers || _fetchedByPeer.ContainsKey(id)) _fetchedByPeer.AddOrUpdate(id, 1, (_, n) => n + 1);
        foreach (var c in _governor.Communities)
            if (c.Touches(pubsub, [content])) _fetchedByCommunity.AddOrUpdate(c.Name, 1, (_, n) => n + 1);
    }

    /// <summary>Whether a session over <paramref name="scope"/> touches the community (an unknown scope touches none; empty lists mean all).</summary>
    static bool Touches(CommunityTopics community, SyncScope? scope)
    {
        if (scope is null) return false;
        if (scope.PubsubTopics.Count == 0) return community.PubsubTopics.Any(p => community.Touches(p, scope.ContentTopics));
        return scope.PubsubTopics.Any(p => community.Touches(p, scope.ContentTopics));
    }

    /// <summary>The sync state over the sessions that pass <paramref name="include"/>: per peer its last session of each scope, summed.</summary>
    object SyncState(Func<Session, bool> include, long fetched, long sessions, bool perPeerFetched)
    {
        var peers = _last.Values.Where(include).GroupBy(s => s.PeerId)
            .Select(g =>
            {
                var newest = g.MaxBy(s => s.LastSyncMs)!;
                return new
                {
                    peerId = g.Key,
                    lastSyncMs = newest.LastSyncMs,
                    outcome = newest.Outcome,
                    mode = newest.Mode,
                    scopes = g.Count(),
                    itemsMissing = g.Sum(s => (long)s.ItemsMissing),
                    itemsFetched = perPeerFetched ? _fetchedByPeer.GetValueOrDefault(g.Key) : (long?)null,
                    itemsSent = g.Sum(s => (long)s.ItemsSent),
                };
            })
            .OrderByDescending(p => p.lastSyncMs).ToList();
        return new
        {
            sessions,
            lastSyncMs = peers.Count == 0 ? (long?)null : peers[0].lastSyncMs,
            peerCount = peers.Count,
            itemsMissing = peers.Sum(p => p.itemsMissing),
            itemsFetched = fetched,
            peers,
        };
    }

    public IEnumerable<KeyValuePair<string, object?>> Figures(string? community)
    {
        if (community is null)
        {
            yield return new("sync", SyncState(_ => true, Interlocked.Read(ref _fetched), Interlocked.Read(ref _sessions), perPeerFetched: true));
            if (!_indexes.IsBuilt) yield break;
            var all = _indexes.AllIndexes;
            long bytes = all.Sum(i => i.MemoryBytes);
            yield return new("memory", new
            {
                cacheBytes = bytes,
                syncIndexBytes = bytes,
                syncIndexes = all.Select(i => new { pubsubTopic = i.PubsubTopic, contentTopics = i.Scope.ContentTopics, messages = i.Count, bytes = i.MemoryBytes }).ToList(),
            });
            yield break;
        }
        var topics = _governor.Communities.FirstOrDefault(c => c.Name == community);
        if (topics is null) yield break;
        yield return new("sync", SyncState(s => Touches(topics, s.Scope), _fetchedByCommunity.GetValueOrDefault(community),
            _sessionsByCommunity.GetValueOrDefault(community), perPeerFetched: false));
        if (!_indexes.IsBuilt) yield break;
        long own = CacheBytes(topics);
        bool shared = _governor.Communities.Any(c => c.Name != community && c.PubsubTopics.Overlaps(topics.PubsubTopics));
        yield return new("memory", new { cacheBytes = own, syncIndexBytes = own, sharedIndex = shared });
    }

    // Its pubsub topics' indexes (shared) plus the indexes of its own content-topic scope on them (spec/sync.md §5.2).
    long CacheBytes(CommunityTopics community) =>
        _indexes.Indexes.Where(i => community.PubsubTopics.Contains(i.PubsubTopic))
            .Concat(_indexes.CommunityIndexes.Where(i => community.PubsubTopics.Contains(i.PubsubTopic) && community.ContentTopics is { } own && i.Scope.ContentTopics.Any(own.Contains)))
            .Sum(i => i.MemoryBytes);

    void RegisterInstruments()
    {
        static KeyValuePair<string, object?> Tag(string name) => new("community", name);
        IEnumerable<CommunityTopics> Communities() => _governor.Communities;
        long Missing(CommunityTopics c) => _last.Values.Where(s => Touches(c, s.Scope)).Sum(s => (long)s.ItemsMissing);
        double? Last(CommunityTopics c) => _last.Values.Where(s => Touches(c, s.Scope)).Select(s => (double?)s.LastSyncMs / 1000).Max();

        _meter.CreateObservableCounter("storesync_community_sync_items_fetched", () => Communities()
            .Select(c => new Measurement<long>(_fetchedByCommunity.GetValueOrDefault(c.Name), Tag(c.Name))),
            "{message}", "Messages of the community received by sync transfer and newly stored");
        _meter.CreateObservableCounter("storesync_community_sync_sessions", () => Communities()
            .Select(c => new Measurement<long>(_sessionsByCommunity.GetValueOrDefault(c.Name), Tag(c.Name))),
            "{session}", "Reconciliation sessions (either role) whose scope touched the community");
        _meter.CreateObservableGauge("storesync_community_sync_items_missing", () => Communities()
            .Select(c => new Measurement<long>(Missing(c), Tag(c.Name))),
            "{message}", "Messages the last session with each peer found missing here, summed over peers, for the community's scopes");
        _meter.CreateObservableGauge("storesync_community_sync_peers", () => Communities()
            .Select(c => new Measurement<long>(_last.Values.Where(s => Touches(c, s.Scope)).Select(s => s.PeerId).Distinct().Count(), Tag(c.Name))),
            "{peer}", "Peers the community was synced with since start");
        _meter.CreateObservableGauge("storesync_community_sync_last_seconds", () => Communities()
            .Where(c => Last(c) is not null).Select(c => new Measurement<double>(Last(c)!.Value, Tag(c.Name))),
            "s", "Unix time of the community's last sync session with any peer");
        _meter.CreateObservableGauge("storesync_community_cache_bytes", () => _indexes.IsBuilt ? Communities()
            .Select(c => new Measurement<long>(CacheBytes(c), Tag(c.Name))) : [],
            "By", "Bytes held by the sync fingerprint indexes of the community's pubsub topics and of its own scope (shared indexes count in each)");
    }

    public void Dispose() => _meter.Dispose();
}
