using StoreSync.Libp2p.Identity;
using StoreSync.Waku.Enr;

namespace StoreSync.Waku.Peers;

/// <summary>One connection the node has now, as the plan sees it.</summary>
public readonly record struct ConnectedPeer(PeerId Id, bool Inbound);

/// <summary>One round of the peer manager's decision: whom to dial and whom to disconnect, from the book, the connections and
/// the targets. Pure, so the tests drive it without sockets.</summary>
/// <remarks>
/// In order, within <see cref="PeerTargets.MaxParallelDials"/> dials and the free connection slots: every static node not
/// connected; store-sync peers up to <see cref="PeerTargets.SyncPeers"/> (known ones before peers whose capabilities are not
/// known yet); then per relay shard, relay peers dialed by us up to the per-shard target, store-sync ones first. Inbound relay
/// peers above the per-shard inbound target are pruned (never a static node; store-sync peers last). Peers in backoff are skipped.
/// </remarks>
public sealed record ConnectivityPlan(IReadOnlyList<PeerBookEntry> Dial, IReadOnlyList<PeerId> Prune)
{
    /// <param name="servedShards">The node's shards: store-sync peers must share one (or not say).</param>
    /// <param name="relayShards">The shards relay runs on; empty when relay is off (no relay targets).</param>
    /// <param name="mayDial">Whether a peer is outside its backoff (<see cref="PeerBook.MayDial"/>).</param>
    public static ConnectivityPlan Make(IReadOnlyList<PeerBookEntry> book, IReadOnlyList<ConnectedPeer> connected, PeerTargets targets,
        ushort cluster, IReadOnlyList<ushort> servedShards, IReadOnlyList<ushort> relayShards, Func<PeerBookEntry, bool> mayDial, Random random)
    {
        var byId = book.ToDictionary(e => e.Id);
        var connectedIds = connected.Select(c => c.Id).ToHashSet();
        int budget = Math.Min(PeerTargets.MaxParallelDials, targets.MaxConnections - connectedIds.Count);
        var dial = new List<PeerBookEntry>();
        var chosen = new HashSet<PeerId>();
        var candidates = book.Where(e => !connectedIds.Contains(e.Id) && e.Addresses.Count > 0 && mayDial(e)).ToList();

        void Take(IEnumerable<PeerBookEntry> ordered, int count)
        {
            foreach (var e in ordered)
            {
                if (count <= 0 || dial.Count >= budget) return;
                if (!chosen.Add(e.Id)) continue;
                dial.Add(e);
                count--;
            }
        }
        IEnumerable<PeerBookEntry> Shuffled(IEnumerable<PeerBookEntry> entries) => entries.OrderBy(_ => random.Next());
        bool Serves(PeerId id, WakuCapabilities c) => byId.TryGetValue(id, out var e) && (e.Capabilities & c) != 0;
        bool SharesAShard(PeerBookEntry e) => servedShards.Count == 0 || servedShards.Any(s => e.MayBeOn(cluster, s));

        Take(candidates.Where(e => e.IsStatic), int.MaxValue);

        int syncConnected = connected.Count(c => Serves(c.Id, WakuCapabilities.Sync));
        Take(Shuffled(candidates.Where(e => !e.IsStatic && e.MayServe(WakuCapabilities.Sync) && SharesAShard(e)))
            .OrderByDescending(e => (e.Capabilities & WakuCapabilities.Sync) != 0).ThenBy(e => e.Failures), targets.SyncPeers - syncConnected);

        var prune = new List<PeerId>();
        int outTarget = targets.OutRelayPeersPerShard(relayShards.Count), inTarget = targets.InRelayPeersPerShard(relayShards.Count);
        foreach (var shard in relayShards)
        {
            bool OnShard(PeerId id) => byId.TryGetValue(id, out var e) && (e.Capabilities & WakuCapabilities.Relay) != 0 && e.MayBeOn(cluster, shard);
            int outbound = connected.Count(c => !c.Inbound && OnShard(c.Id)) + dial.Count(e => e.MayServe(WakuCapabilities.Relay) && e.MayBeOn(cluster, shard));
            Take(Shuffled(candidates.Where(e => e.MayServe(WakuCapabilities.Relay) && e.MayBeOn(cluster, shard)))
                .OrderByDescending(e => (e.Capabilities & WakuCapabilities.Relay) != 0)
                .ThenByDescending(e => (e.Capabilities & WakuCapabilities.Sync) != 0)
                .ThenBy(e => e.Failures), outTarget - outbound);

            var inbound = connected.Where(c => c.Inbound && OnShard(c.Id) && !prune.Contains(c.Id)).Select(c => byId[c.Id]).ToList();
            var prunable = inbound.Where(e => !e.IsStatic);
            int surplus = inbound.Count - inTarget;
            if (surplus <= 0) continue;
            prune.AddRange(prunable.OrderBy(e => (e.Capabilities & WakuCapabilities.Sync) != 0)
                .ThenBy(e => e.LastConnected).Take(surplus).Select(e => e.Id));
        }
        return new ConnectivityPlan(dial, prune);
    }
}
