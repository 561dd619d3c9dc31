using StoreSync.Libp2p.Identity;
using StoreSync.Reconciliation;
using StoreSync.Waku.Proto;
using StoreSync.Waku.Store;

namespace StoreSync.Waku.Sync.Backfill;

/// <summary>A peer's history extents asked with Store v3: per pubsub topic of the scope, two one-message queries (oldest first,
/// newest first) — the <see cref="BackfillExtents"/> of swarm backfills.</summary>
public static class StoreQueryExtents
{
    /// <summary>How long one extent query may take.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>The extents function over <paramref name="query"/>.</summary>
    public static BackfillExtents Of(StoreQueryClient query)
    {
        ArgumentNullException.ThrowIfNull(query);
        return (peer, scope, ct) => AskAsync(query, peer, scope, ct);
    }

    static async Task<(long Oldest, long Newest)?> AskAsync(StoreQueryClient query, PeerId peer, SyncScope scope, CancellationToken ct)
    {
        long oldest = long.MaxValue, newest = long.MinValue;
        foreach (var pubsub in scope.PubsubTopics)
        {
            foreach (bool forward in new[] { true, false })
            {
                var request = new StoreQueryRequest { RequestId = Guid.NewGuid().ToString("N"), IncludeData = true, PaginationForward = forward, PaginationLimit = 1, PubsubTopic = pubsub };
                request.ContentTopics.AddRange(scope.ContentTopics);
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
                deadline.CancelAfter(Timeout);
                var response = await query.QueryAsync(peer, request, deadline.Token).ConfigureAwait(false);
                if (response.Messages.Count == 0 || response.Messages[0].Message is not { } m) continue;
                oldest = Math.Min(oldest, m.Timestamp);
                newest = Math.Max(newest, m.Timestamp);
            }
        }
        return oldest <= newest ? (oldest, newest) : null;
    }
}
