using Microsoft.Extensions.Logging;
using StoreSync.Core;
using StoreSync.Storage;
using StoreSync.Storage.Retention;
using StoreSync.Waku.Communities;

namespace StoreSync.Node.Communities;

/// <summary>Deletes a community's stored messages in bounded chunks, in the background, with progress; cancellable.</summary>
/// <remarks>
/// When no other opted-in community shares its topics, the store's retention scope deletion does the work
/// (<see cref="Evictor.DeleteScope"/>: oldest first, atomic chunks, then the scope's retention horizon is cleared). Otherwise
/// this walks the (pubsub, time) index of each of the community's pubsub topics, collects at most <see cref="ChunkSize"/>
/// messages of the community that no other stored community also holds, and deletes them in one atomic store batch (every
/// index, counter and sync fingerprint with them); the write lock is held for one chunk only, so ingest goes on meanwhile.
/// Each chunk re-opens the index after the last entry examined, so memory stays bounded whatever the community's size; the
/// walk passes over each topic once, so it ends even while messages keep arriving.
/// </remarks>
public sealed class CommunityDataDeletion
{
    public const int ChunkSize = 1000;

    readonly MessageStore _store;
    readonly Evictor? _scopeDeleter;
    readonly CommunityDefinition _community;
    readonly Func<string, string, bool> _keptByAnother;
    readonly ILogger _logger;
    readonly CancellationTokenSource _cancel = new();
    long _deleted, _examined;

    /// <param name="keptByAnother">True when another community that is stored holds the (pubsub, content) pair: such messages stay.</param>
    /// <param name="scopeDeleter">The store's evictor, to delete the community's retention scope whole; null to walk the index.</param>
    public CommunityDataDeletion(MessageStore store, CommunityDefinition community, Func<string, string, bool> keptByAnother, ILogger logger,
        Evictor? scopeDeleter = null)
    {
        _store = store;
        _scopeDeleter = scopeDeleter;
        _community = community;
        _keptByAnother = keptByAnother;
        _logger = logger;
        Total = community.PubsubTopics.Sum(p => community.ContentTopics.Count == 0
            ? store.GetFigures(p).Messages
            : community.ContentTopics.Append(ControlTopic ?? "").Sum(c => store.GetFigures(p, c).Messages));
        StartedAt = DateTimeOffset.UtcNow;
    }

    string? ControlTopic => _community.OwnerKey is null ? null : CommunityControl.ContentTopicFor(_community.OwnerKey);

    public string Community => _community.Name;
    public DateTimeOffset StartedAt { get; }
    public DateTimeOffset? FinishedAt { get; private set; }

    /// <summary>Messages of the community's topics when the deletion started (an estimate of the work).</summary>
    public long Total { get; }

    public long Deleted => Interlocked.Read(ref _deleted);
    public long Examined => Interlocked.Read(ref _examined);

    /// <summary>running, done, cancelled or failed.</summary>
    public string State { get; private set; } = "running";
    public string? Error { get; private set; }

    public Task Completion { get; private set; } = Task.CompletedTask;

    public void Start() => Completion = Task.Run(() => RunAsync(_cancel.Token));

    public void Cancel() => _cancel.Cancel();

    async Task RunAsync(CancellationToken ct)
    {
        try
        {
            if (_scopeDeleter is not null)
            {
                var progress = new Reporter(this);
                _scopeDeleter.DeleteScope(CommunityRetention.ScopeOf(_community), progress, ct);
            }
            else
            {
                foreach (var pubsub in _community.PubsubTopics)
                    await DeleteTopicAsync(pubsub, ct).ConfigureAwait(false);
                // A community joined again starts afresh: nothing below an old horizon is refused or skipped by sync.
                _store.SetRetentionHorizon(_community.Name, null);
            }
            State = "done";
            _logger.LogInformation("Community {Community}: deleted {Deleted} messages", Community, Deleted);
        }
        catch (OperationCanceledException)
        {
            State = "cancelled";
            _logger.LogInformation("Community {Community}: data deletion cancelled after {Deleted} messages", Community, Deleted);
        }
        catch (ObjectDisposedException)
        {
            State = "cancelled"; // the node is shutting down
        }
        catch (Exception e) when (e is StoreCorruptionException or IOException or RocksDbSharp.RocksDbException)
        {
            State = "failed";
            Error = e.Message;
            _logger.LogError(e, "Community {Community}: data deletion failed after {Deleted} messages", Community, Deleted);
        }
        finally
        {
            FinishedAt = DateTimeOffset.UtcNow;
        }
    }

    /// <summary>Takes the scope deletion's progress synchronously (<see cref="Progress{T}"/> would post it later).</summary>
    sealed class Reporter(CommunityDataDeletion job) : IProgress<EvictionProgress>
    {
        public void Report(EvictionProgress value)
        {
            Interlocked.Exchange(ref job._deleted, value.Messages);
            Interlocked.Exchange(ref job._examined, value.Messages);
        }
    }

    async Task DeleteTopicAsync(string pubsub, CancellationToken ct)
    {
        var content = _community.ContentTopics.Count == 0 ? null : new HashSet<string>(_community.ContentTopics.Append(ControlTopic ?? ""), StringComparer.Ordinal);
        long fromTime = long.MinValue;
        var fromHash = MessageHash.Zero;
        bool inclusive = true;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            // Per round: a community opted in meanwhile keeps its messages from the next chunk on.
            var names = new Dictionary<uint, (bool Ours, bool Kept)>();
            var chunk = new List<MessageHash>(ChunkSize);
            bool exhausted = false;
            using (var reader = _store.OpenTimeIndex(pubsub, fromTime, fromHash, forward: true, inclusive))
            {
                // At most a few chunks' worth of entries per round, so a topic full of others' messages still yields.
                for (int examined = 0; chunk.Count < ChunkSize && examined < 10 * ChunkSize; examined++)
                {
                    if (!reader.MoveNext()) { exhausted = true; break; }
                    var entry = reader.Current;
                    (fromTime, fromHash, inclusive) = (entry.Timestamp, entry.Hash, false);
                    Interlocked.Increment(ref _examined);
                    if (!names.TryGetValue(entry.ContentId, out var verdict))
                    {
                        string c = _store.GetContentTopic(entry.ContentId);
                        verdict = (content is null || content.Contains(c), _keptByAnother(pubsub, c));
                        names[entry.ContentId] = verdict;
                    }
                    if (verdict.Ours && !verdict.Kept) chunk.Add(entry.Hash);
                }
            }
            if (chunk.Count > 0) Interlocked.Add(ref _deleted, _store.Delete(chunk));
            if (exhausted) return;
            await Task.Yield();
        }
    }
}
