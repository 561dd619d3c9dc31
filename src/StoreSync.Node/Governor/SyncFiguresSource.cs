using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using StoreSync.Waku;
using StoreSync.Waku.Sync;

namespace StoreSync.Node.Governor;

/// <summary>Sync state and cache memory for the figures: each peer's last session (from <see cref="ReconciliationRunner.SessionEnded"/>),
/// messages fetched (the transfer counter), and the bytes held by the sync fingerprint indexes.</summary>
/// <remarks>
/// Indexes are kept per served pubsub topic, plus one per pubsub topic of each community scope that names content topics; a
/// community's figure is the sum of the indexes of its pubsub topics and of its own scope's; communities that share a pubsub topic
/// share its index and each reports it (<c>sharedIndex</c>). Sessions do not carry their community, so
/// the sync state is reported for the node as a whole. At most <see cref="MaxPeers"/> peers are kept (the oldest is dropped).
/// </remarks>
public sealed class SyncFiguresSource : IFiguresSource, IDisposable
{
    public const int MaxPeers = 1024;

    readonly SyncIndexes _indexes;
    readonly ResourceGovernor _governor;
    readonly ConcurrentDictionary<string, PeerSync> _peers = new(StringComparer.Ordinal);
    readonly MeterListener _listener = new();
    long _fetched, _sessions;

    sealed record PeerSync(string PeerId, long LastSyncMs, string Outcome, int ItemsMissing, int ItemsSent, string Mode);

    public SyncFiguresSource(ReconciliationRunner runner, SyncIndexes indexes, ResourceGovernor governor)
    {
        _indexes = indexes;
        _governor = governor;
        runner.SessionEnded += OnSession;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == WakuMetrics.MeterName && instrument.Name == "storesync_sync_items_fetched") listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _fetched, value));
        _listener.Start();
    }

    void OnSession(SyncSessionResult r)
    {
        Interlocked.Increment(ref _sessions);
        string outcome = r.Completed ? "completed" : r.DifferenceCapReached ? "capped" : r.Error ?? "stopped";
        _peers[r.Peer.ToString()] = new PeerSync(r.Peer.ToString(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), outcome, r.ToReceive, r.Pushed, r.Mode);
        if (_peers.Count > MaxPeers)
        {
            var oldest = _peers.Values.MinBy(p => p.LastSyncMs);
            if (oldest is not null) _peers.TryRemove(oldest.PeerId, out _);
        }
    }

    public IEnumerable<KeyValuePair<string, object?>> Figures(string? community)
    {
        if (!_indexes.IsBuilt) yield break;
        if (community is null)
        {
            var all = _indexes.AllIndexes;
            long bytes = all.Sum(i => i.MemoryBytes);
            yield return new("memory", new
            {
                cacheBytes = bytes,
                syncIndexBytes = bytes,
                syncIndexes = all.Select(i => new { pubsubTopic = i.PubsubTopic, contentTopics = i.Scope.ContentTopics, messages = i.Count, bytes = i.MemoryBytes }).ToList(),
            });
            var peers = _peers.Values.OrderByDescending(p => p.LastSyncMs).ToList();
            yield return new("sync", new
            {
                sessions = Interlocked.Read(ref _sessions),
                lastSyncMs = peers.Count == 0 ? (long?)null : peers[0].LastSyncMs,
                itemsMissing = peers.Sum(p => (long)p.ItemsMissing),
                itemsFetched = Interlocked.Read(ref _fetched),
                peers = peers.Select(p => new { peerId = p.PeerId, lastSyncMs = p.LastSyncMs, outcome = p.Outcome, mode = p.Mode, itemsMissing = p.ItemsMissing, itemsFetched = (int?)null, itemsSent = p.ItemsSent }).ToList(),
            });
            yield break;
        }
        var definition = _governor.Communities.FirstOrDefault(c => c.Name == community);
        if (definition is null) yield break;
        var topics = definition.PubsubTopics;
        // Its pubsub topics' indexes (shared) plus the indexes of its own content-topic scope on them (spec/sync.md §5.2).
        var mine = _indexes.Indexes.Where(i => topics.Contains(i.PubsubTopic))
            .Concat(_indexes.CommunityIndexes.Where(i => topics.Contains(i.PubsubTopic) && definition.ContentTopics is { } own && i.Scope.ContentTopics.Any(own.Contains)))
            .ToList();
        bool shared = _governor.Communities.Any(c => c.Name != community && c.PubsubTopics.Overlaps(topics));
        long own = mine.Sum(i => i.MemoryBytes);
        yield return new("memory", new { cacheBytes = own, syncIndexBytes = own, sharedIndex = shared });
    }

    public void Dispose() => _listener.Dispose();
}
