using FsCheck;
using FsCheck.Xunit;
using StoreSync.Waku.Sync.Backfill;

namespace StoreSync.Waku.Tests.Sync;

/// <summary>The swarm backfill's planner against a model of peers, sessions, transfers and a store with a count quota: random
/// holdings, interleavings, slow attempts, peers that go away or join late. Always: the store ends with the union of what the
/// surviving peers hold and what arrived (the newest of it under a quota), and no message arrives twice.</summary>
public class BackfillPlanProperties
{
    /// <summary>One attempt of a peer on a slice: what its session found missing here, pushed newest first.</summary>
    sealed class Attempt(int peer, int slice, Queue<long> pushes)
    {
        public int Peer { get; } = peer;
        public int Slice { get; } = slice;
        public Queue<long> Pushes { get; } = pushes;
    }

    /// <summary>The store: message timestamps (unique, one message per timestamp); a quota keeps the newest, evicting the oldest
    /// and raising the horizon to it, and refuses what is at or below the horizon (Storage/Retention's rules).</summary>
    sealed class ModelStore(int? quota)
    {
        public readonly SortedSet<long> Messages = [];
        public long Horizon = long.MinValue;
        public bool Evicted;

        public void Receive(long t)
        {
            if (t <= Horizon || !Messages.Add(t)) return;
            while (quota is { } q && Messages.Count > q)
            {
                long oldest = Messages.Min;
                Messages.Remove(oldest);
                Horizon = Math.Max(Horizon, oldest);
                Evicted = true;
            }
        }
    }

    [Property(MaxTest = 200)]
    public void Random_holdings_and_failures_end_with_the_union_within_the_quota_and_nothing_fetched_twice(PositiveInt seed)
    {
        var r = new Random(seed.Get);
        int peers = r.Next(1, 6), span = r.Next(1, 400);
        // Holdings: each timestamp in [0, span) is held by a random set of peers (maybe none), some peers with big gaps.
        var holdings = Enumerable.Range(0, peers).Select(_ => new SortedSet<long>()).ToArray();
        for (long t = 0; t < span; t++)
            for (int p = 0; p < peers; p++)
                if (r.Next(100) < 30 + 60 * (p % 2) - (p == 2 && t < span / 2 ? 80 : 0)) holdings[p].Add(t);
        int? quota = r.Next(3) == 0 ? r.Next(0, span) : null;
        var store = new ModelStore(quota);
        // Some of the store is there already (a weeks-stale node).
        foreach (var t in holdings.SelectMany(h => h).Distinct().Where(_ => r.Next(8) == 0)) store.Receive(t);

        var slices = BackfillSlice.Cut(-r.Next(0, 3), span + r.Next(0, 3), r.Next(1, 24));
        var plan = new BackfillPlan<int>(slices);
        var late = new HashSet<int>(Enumerable.Range(0, peers).Where(p => p > 0 && r.Next(4) == 0));
        foreach (var p in Enumerable.Range(0, peers).Where(p => !late.Contains(p))) plan.AddPeer(p);
        // Peers that go away at a random moment; at least one survives.
        var mortal = new HashSet<int>(Enumerable.Range(1, peers - 1).Where(_ => r.Next(3) == 0));
        var gone = new HashSet<int>();
        var fetched = new Dictionary<long, int>();
        var failures = new Dictionary<(int, int), int>();
        var running = new List<Attempt>();

        for (int step = 0; step < 100_000 && !(plan.IsFinished && running.Count == 0 && late.Count == 0); step++)
        {
            plan.RaiseHorizon(store.Horizon);
            int roll = r.Next(10);
            if (roll == 0 && late.Count > 0)
            {
                int p = late.First();
                late.Remove(p);
                plan.AddPeer(p);
                continue;
            }
            if (roll <= 3)
            {
                // A free peer asks for work: its session finds what the store lacks in the slice above the horizon now.
                var free = Enumerable.Range(0, peers).Where(p => !gone.Contains(p) && !late.Contains(p) && running.All(a => a.Peer != p)).ToList();
                if (free.Count == 0) continue;
                int peer = free[r.Next(free.Count)];
                if (!plan.TryTake(peer, out int slice)) continue;
                Assert.DoesNotContain(running, a => a.Slice == slice);
                var (from, to) = slices[slice];
                long start = Math.Max(from, store.Horizon + 1);
                var missing = holdings[peer].GetViewBetween(Math.Min(start, to), to).Where(t => t < to && !store.Messages.Contains(t)).Reverse();
                running.Add(new Attempt(peer, slice, new Queue<long>(missing)));
                continue;
            }
            if (running.Count == 0) continue;
            var attempt = running[r.Next(running.Count)];
            if (roll <= 7 && attempt.Pushes.Count > 0)
            {
                long t = attempt.Pushes.Dequeue();
                fetched[t] = fetched.GetValueOrDefault(t) + 1;
                store.Receive(t);
                continue;
            }
            if (roll <= 7)
            {
                running.Remove(attempt);
                plan.Complete(attempt.Peer, attempt.Slice);
                continue;
            }
            // A slow or broken attempt: it stops part-way. A mortal peer may be gone for good; a survivor fails a slice less
            // often than it would give it up, so that what it holds is always fetched in the end.
            running.Remove(attempt);
            if (mortal.Contains(attempt.Peer) && r.Next(2) == 0)
            {
                gone.Add(attempt.Peer);
                plan.RemovePeer(attempt.Peer);
            }
            else if (mortal.Contains(attempt.Peer) || failures.GetValueOrDefault((attempt.Peer, attempt.Slice)) < BackfillPlan<int>.MaxAttempts - 1)
            {
                failures[(attempt.Peer, attempt.Slice)] = failures.GetValueOrDefault((attempt.Peer, attempt.Slice)) + 1;
                plan.Fail(attempt.Peer, attempt.Slice);
            }
            else running.Add(attempt); // a survivor out of failures: it goes on instead
        }

        Assert.True(plan.IsFinished && running.Count == 0, $"the backfill did not end (seed {seed.Get})");
        Assert.All(fetched, f => Assert.Equal(1, f.Value));
        // What the store must hold: everything that arrived or that a surviving peer holds, above the final horizon.
        var all = new SortedSet<long>(fetched.Keys);
        for (int p = 0; p < peers; p++)
            if (!gone.Contains(p)) all.UnionWith(holdings[p]);
        all.UnionWith(store.Messages);
        var expected = all.Where(t => t > store.Horizon).ToList();
        Assert.Equal(expected, store.Messages.ToList());
        if (quota is { } limit)
        {
            Assert.True(store.Messages.Count <= limit);
            if (store.Evicted) Assert.Equal(limit, store.Messages.Count);
        }
    }

    [Fact]
    public void Three_peers_take_the_three_newest_slices_and_then_check_each_other_s()
    {
        var plan = new BackfillPlan<string>(BackfillSlice.Cut(0, 400, 4));
        foreach (var p in new[] { "a", "b", "c" }) plan.AddPeer(p);
        Assert.True(plan.TryTake("a", out int a) && a == 0);
        Assert.True(plan.TryTake("b", out int b) && b == 1);
        Assert.True(plan.TryTake("c", out int c) && c == 2);
        plan.Complete("b", 1);
        Assert.True(plan.TryTake("b", out b) && b == 3);
        plan.Complete("a", 0);
        Assert.True(plan.TryTake("a", out a) && a == 1);   // checks b's slice for what only a holds
        plan.RemovePeer("c");                              // c goes away: slice 2 is free again
        plan.Complete("a", 1);
        Assert.True(plan.TryTake("a", out a) && a == 2);
        Assert.False(plan.IsComplete(0));                  // b has not checked slice 0 yet
    }

    [Fact]
    public void Slices_cover_the_range_newest_first_without_gaps()
    {
        var s = BackfillSlice.Cut(long.MinValue + 1, long.MaxValue, 7);
        Assert.Equal(long.MaxValue, s[0].To);
        Assert.Equal(long.MinValue + 1, s[^1].From);
        for (int i = 1; i < s.Length; i++) Assert.Equal(s[i - 1].From, s[i].To);
        Assert.Equal(3, BackfillSlice.Cut(10, 13, 8).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => BackfillSlice.Cut(5, 5, 1));
    }
}
