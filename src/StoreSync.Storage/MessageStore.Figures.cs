// MessageStore's figures (statistics, topic counts, RocksDB memory and background work, blob files); partial: they read private counters.
namespace StoreSync.Storage;

public sealed partial class MessageStore
{
    public StoreStatistics GetStatistics()
    {
        using var view = OpenView();
        var pubsubs = new List<PubsubTopicStatistics>();
        long messages = 0, bytes = 0;
        foreach (var group in _counters.Snapshot().Where(e => e.Figures.Messages > 0).GroupBy(e => e.Topic.Pubsub).OrderBy(g => _topics.PubsubName(g.Key), StringComparer.Ordinal))
        {
            var contents = group
                .Select(e => new ContentTopicStatistics(_topics.ContentName(e.Topic.Content), e.Figures.Messages, e.Figures.Bytes,
                    view.Edge(e.Topic.Pubsub, e.Topic.Content, first: true), view.Edge(e.Topic.Pubsub, e.Topic.Content, first: false)))
                .OrderBy(c => c.ContentTopic, StringComparer.Ordinal).ToList();
            long m = contents.Sum(c => c.Messages), b = contents.Sum(c => c.Bytes);
            pubsubs.Add(new PubsubTopicStatistics(_topics.PubsubName(group.Key), m, b,
                view.Edge(group.Key, null, first: true), view.Edge(group.Key, null, first: false), contents));
            messages += m;
            bytes += b;
        }
        return new StoreStatistics(messages, bytes, pubsubs);
    }

    /// <summary>RocksDB's own count of the memory it holds for this store (memtables, block cache, table readers).</summary>
    public StoreMemoryUsage GetMemoryUsage()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        return _properties.MemoryUsage();
    }

    /// <summary>RocksDB's flush and compaction work still running or owed: it competes with queries for the cores until it is done.</summary>
    public StoreBackgroundWork GetBackgroundWork()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        return _properties.BackgroundWork();
    }

    /// <summary>The blob files holding message bodies, their garbage, and whether blob garbage collection runs (spec/storage.md).</summary>
    public BlobFileFigures GetBlobFiles()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        lock (_writeLock) return _blobGarbage.Figures();
    }

    /// <summary>Figures of one (pubsub, content) pair, or of a whole pubsub topic when <paramref name="contentTopic"/> is null.</summary>
    public TopicFigures GetFigures(string pubsubTopic, string? contentTopic = null)
    {
        if (!_topics.TryGetPubsubId(pubsubTopic, out uint p)) return default;
        if (contentTopic is not null)
            return _topics.TryGetContentId(contentTopic, out uint c) ? _counters.Get(p, c) : default;
        var total = default(TopicFigures);
        foreach (var (topic, figures) in _counters.Snapshot())
            if (topic.Pubsub == p) total += figures;
        return total;
    }
}
