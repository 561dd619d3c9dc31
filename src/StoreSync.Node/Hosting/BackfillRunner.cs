using Microsoft.Extensions.Logging;
using StoreSync.Core;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Reconciliation;
using StoreSync.Storage.Retention;
using StoreSync.Waku.Communities;
using StoreSync.Waku.Governor;
using StoreSync.Waku.Store;
using StoreSync.Waku.Sync;
using StoreSync.Waku.Sync.Backfill;

namespace StoreSync.Node.Hosting;

/// <summary>Runs a swarm backfill in the node (spec/sync.md §5.7) over the scopes the node syncs (or one community's): each
/// named after its community, its progress persisted under <c>DATA-DIR/backfill</c>, reported to the registry (metrics,
/// dashboard) and to the caller.</summary>
public sealed class BackfillRunner(Libp2pHost host, NodeOptions options, StoreSyncService service, StoreSyncClient client, TransferService transfer,
    SyncSessions sessions, SyncHorizon horizon, BackfillRegistry registry, SyncMetrics metrics, IResourceGovernor governor,
    ILogger<BackfillRunner> logger, ICommunityPolicy? policy = null)
{
    /// <summary>How long dialing one peer may take before the backfill goes on without it.</summary>
    public static readonly TimeSpan DialTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The scopes a backfill fills, with the name each is reported under (its community, else its pubsub topics).</summary>
    public IReadOnlyList<(string Name, SyncScope Scope)> Scopes()
    {
        var communities = (policy as CommunityPolicy)?.Communities ?? [];
        return [.. service.ScopesToSync().Select(s => (NameOf(s, communities), s))];
    }

    internal static string NameOf(SyncScope scope, IReadOnlyList<CommunityDefinition> communities)
    {
        foreach (var c in communities)
        {
            if (!scope.PubsubTopics.All(c.PubsubTopics.Contains)) continue;
            if (c.ContentTopics.Count == 0 || c.ContentTopics.All(scope.ContentTopics.Contains)) return c.Name;
        }
        return string.Join(",", scope.PubsubTopics);
    }

    /// <summary>Dials the peers (multiaddrs ending in /p2p/&lt;id&gt;) and fills each scope from those that answered, one scope after
    /// the other; <paramref name="drain"/> stops gracefully (running slices finish), <paramref name="ct"/> at once.</summary>
    /// <exception cref="IOException">No peer could be reached.</exception>
    public async Task<IReadOnlyList<BackfillReport>> RunAsync(IReadOnlyList<Multiaddr> peers, IReadOnlyList<(string Name, SyncScope Scope)> scopes,
        Action<BackfillReport>? progress, CancellationToken ct, CancellationToken drain = default)
    {
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(scopes);
        var reachable = new List<PeerId>();
        foreach (var address in peers)
        {
            var id = address.PeerId ?? throw new ArgumentException($"{address} does not end in /p2p/<peer id>", nameof(peers));
            host.AddAddress(id, address);
            using var dial = CancellationTokenSource.CreateLinkedTokenSource(ct);
            dial.CancelAfter(DialTimeout);
            try
            {
                await host.DialAsync(address, dial.Token).ConfigureAwait(false);
                if (!reachable.Contains(id)) reachable.Add(id);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is IOException or OperationCanceledException or TimeoutException or Libp2p.Multistream.MultistreamException)
            {
                logger.LogWarning("Backfill: cannot reach {Peer}: {Reason}; going on without it", address, e.Message);
            }
        }
        if (reachable.Count == 0) throw new IOException($"none of the {peers.Count} peers could be reached");
        var backfill = new SwarmBackfill(host, client, transfer, sessions, horizon, logger, registry, metrics)
        {
            ProgressDirectory = Path.Combine(Path.GetFullPath(options.DataDir), "backfill"),
            Progress = progress,
            Extents = StoreQueryExtents.Of(new StoreQueryClient(host, governor)),
        };
        var reports = new List<BackfillReport>();
        foreach (var (name, scope) in scopes)
        {
            if (drain.IsCancellationRequested || ct.IsCancellationRequested) break;
            long end = Timestamp.Now() - options.StoreSyncRelayJitter * 1_000_000_000L;
            var report = await backfill.RunAsync(name, scope, reachable, end, ct, drain).ConfigureAwait(false);
            reports.Add(report);
            // A peer that left during one scope's backfill is not asked for the next ones.
            reachable.RemoveAll(p => report.Peers.Any(r => r.Gone && r.Peer == p.ToString()));
            if (reachable.Count == 0) break;
        }
        return reports;
    }
}
