// NativeReconciliation's answer to one differing node (spec/sync.md §3.2 rules 1–6) and the entries it writes; partial: the
// rules share the session's open-node lists, result sets and codec.
namespace StoreSync.Reconciliation.Native;

public sealed partial class NativeReconciliation
{
    void AnswerNode(ref Pending p, Survey survey, int task, in FanoutEstimator estimator, ref int unsettled, ref int doneRun, ref FrameWriter w, ChunkedList<OpenNode> next)
    {
        p.LocalCount = survey.Counts[task];
        p.LocalFp = survey.Fps[task];
        // A Counts slice is settled here only when both sides hold nothing there: a count and a hint prove nothing more.
        if (p.CountOnly ? p.RemoteCount == 0 && p.LocalCount == 0 : p.RemoteCount == p.LocalCount && p.RemoteFp == p.LocalFp) { doneRun++; return; }
        unsettled--;
        FlushDone(ref w, ref doneRun);
        // Every other unsettled node may need one node of its own; splits share what is left of the peer's limit.
        AnswerFingerprint(ref p, estimator, Limits.MaxRangesPerMessage - next.Count - unsettled, _tuning.ItemsThreshold, ref w, next);
    }

    /// <param name="budget">Nodes this answer may open without the frame exceeding the peer's limit on open nodes.</param>
    void AnswerFingerprint(ref Pending t, in FanoutEstimator estimator, int budget, int itemsThreshold, ref FrameWriter w, ChunkedList<OpenNode> next)
    {
        var local = _local!;
        var plan = Plan;
        long cL = t.LocalCount, cR = t.RemoteCount;
        var node = t.Node;
        int at = w.Length;
        // The order matters: each rule hands the node to the side that can settle it, and no pair of rules
        // can bounce a node back and forth (spec/sync.md §3.2).
        if (cR == 0 && local.TryReadAll(node, Limits.MaxItemsPerSet, out var all))
        {
            // The peer holds nothing here: it need not learn which items come, they come anyway (a few bytes, not a list).
            foreach (var x in all) NeedsFromUs(x);
            var type = _tuning.MissingEntries ? EntryType.Missing : EntryType.Extras;
            if (_tuning.MissingEntries)
            {
                w.Byte((byte)EntryType.Missing);
                w.Varint((ulong)all.Count);
            }
            else EntryCodec.WriteItems(ref w, EntryType.Extras, node, all);
            Account(type, at, w);
            return;
        }
        if (cL == 0 && plan.Answering && SpeaksClosing && cR <= Limits.MaxItemsPerSet)
        {
            // Answering the closing frame: "I hold nothing, push me your cR items" needs no answer, where our empty summary
            // would cost the peer a Missing entry and the session a frame.
            AddBlind(node, cR);
            _found.Clear();
            EntryCodec.WriteItems(ref w, EntryType.Closing, node, _found);
            Account(EntryType.Closing, at, w);
            return;
        }
        if (cL == 0)
        {
            // We hold nothing here: our empty summary makes the peer answer Missing (rule 1), whoever handed the node to whom.
            Bounce(ref w, t, next);
            return;
        }
        if (t.CountOnly && t.LooksAgreeing)
        {
            // A Counts slice whose count and hint equal ours (the root differs elsewhere): most likely the same items, which
            // our full fingerprint lets the peer confirm (Done); if not (a 1-in-256 hint collision) it settles, lists or splits
            // the slice, which was handed back to it and so never comes back.
            Bounce(ref w, t, next);
            return;
        }
        // Rules 2 and the pair search need the peer's fingerprint, which a Counts slice lacks.
        if (_tuning.SingleDifferenceSearch && !t.CountOnly && cL == cR + 1 && cL <= SearchLimit && local.FindSingle(node, cL, t.RemoteFp, _codec) is { } single)
        {
            NeedsFromUs(single);
            _found.Clear();
            _found.Add(single);
            EntryCodec.WriteItems(ref w, EntryType.Extras, node, _found);
            Account(EntryType.Extras, at, w);
            return;
        }
        if (_tuning.PairSearch && !t.CountOnly && cL == cR + 2 && cL <= PairSearchLimit && SpendPairSearch(cL) && local.FindPair(node, cL, t.RemoteFp, _codec) is { } pair)
        {
            NeedsFromUs(pair.X);
            NeedsFromUs(pair.Y);
            _found.Clear();
            _found.Add(pair.X);
            _found.Add(pair.Y);
            EntryCodec.WriteItems(ref w, EntryType.Extras, node, _found);
            Account(EntryType.Extras, at, w);
            return;
        }
        if (_tuning.BounceBeforeItems && _tuning.SingleDifferenceSearch && t.Fresh && budget >= 1 && plan.MayHandBack(cL, cR, estimator))
        {
            // The peer probably holds the one (or two) extra items: 9 bytes let it find them, cheaper than listing ours.
            Bounce(ref w, t, next);
            return;
        }
        UInt128 span = node.Hi - node.Lo;
        if (cL <= itemsThreshold || span < 2 || (plan.Closing && cL <= _tuning.ClosingListLimit))
        {
            // In the closing frame a list is what the peer can still settle in its answer; a split would cost another round trip.
            if (!local.TryReadAll(node, Limits.MaxItemsPerSet, out var mine)) throw new SyncProtocolException("node too large to send");
            if (plan.Answering && SpeaksClosing && mine.Count <= _tuning.ClosingOfferLimit)
            {
                // Answering the closing frame: a list would need an answer and the session another frame. Offered whole, the
                // peer learns the whole difference at once, and the copies of items it holds cost at most this many pushes.
                EntryCodec.WriteItems(ref w, EntryType.Closing, node, mine);
                Account(EntryType.Closing, at, w);
                foreach (var x in mine) _offered.Add(x);
                if (cR > 0) AddRange(_offerRanges, node, cR);
                return;
            }
            EntryCodec.WriteItems(ref w, EntryType.Items, node, mine);
            Account(EntryType.Items, at, w);
            next.Add(node with { SentStart = _spareListed.Count, SentCount = mine.Count });
            foreach (var x in mine) _spareListed.Add(x);
            return;
        }
        if (t.Fresh && ((_tuning.SingleDifferenceSearch && plan.MayHandBack(cL, cR, estimator)) || (cR > 0 && cR <= itemsThreshold)))
        {
            // The peer is better placed: it holds the one extra item, or so few items it will list them. Only a node
            // seen for the first time is handed over: one handed back to us is listed or split here, so no two
            // policies (the peer's may differ) can pass a node back and forth.
            Bounce(ref w, t, next);
            return;
        }
        long m = estimator.Fanout(cL, cR, span, budget, plan.ChildLimit);
        if (m < 2)
        {
            // No room for children in this frame: hand the node back; it is split in a later frame.
            Bounce(ref w, t, next);
            return;
        }
        var fps = local.Children(node, (int)m);
        if (plan.ChildLimit > 0) fps = PlannedChildren(node, ref m, plan.ChildLimit, budget, fps);
        WriteSplit(ref w, node, (int)m, fps, next);
        Account(EntryType.Split, at, w);
    }

    /// <summary>Rounds a planned split may grow in so that its largest child fits the plan's limit.</summary>
    const int PlannedSplitRounds = 4;

    // The plan bounds children by items, but slices are equal in positions: a node whose items fill a small part of it (the
    // slice where the sync range passes the newest message) keeps them all in one child, which reaches the closing frame too
    // large to list and costs the session a round trip. So the fan-out grows with how much larger than the limit our largest
    // child is, a few rounds at most; the empty children it adds cost a byte each.
    List<Fingerprint> PlannedChildren(OpenNode node, ref long m, long limit, int budget, List<Fingerprint> fps)
    {
        long cap = Math.Min(Math.Min(MaxFanout, budget), (long)UInt128.Min(node.Hi - node.Lo, MaxFanout));
        for (int round = 0; round < PlannedSplitRounds && m < cap; round++)
        {
            long largest = 0;
            foreach (var fp in fps) largest = Math.Max(largest, fp.Count);
            if (largest <= PlannedChildSlack * limit) break;
            m = Math.Min(cap, (long)Math.Ceiling((double)m * largest / limit));
            fps = _local!.Children(node, (int)m);
        }
        return fps;
    }

    bool SpendPairSearch(long count)
    {
        long candidates = count * (count - 1) / 2;
        if (_pairSearchSpent + candidates > PairSearchBudget) return false;
        _pairSearchSpent += candidates;
        return true;
    }

    // A Split entry: the fan-out, then our (count, fp) of each of the m slices (fps: our children, from LocalSide.Children),
    // which it opens.
    void WriteSplit(ref FrameWriter w, OpenNode node, int m, List<Fingerprint> fps, ChunkedList<OpenNode> next)
    {
        w.Byte((byte)EntryType.Split);
        w.Varint((ulong)m);
        var slices = new Slices(node, m);
        for (int i = 0; i < m; i++)
        {
            _codec.WriteFingerprint(ref w, fps[i]);
            next.Add(slices[i].Summarised(fps[i].Count));
        }
    }

    // A Missing entry for a node of ours: its items come by transfer, unlisted. Consecutive nodes merge into one range.
    void AddBlind(OpenNode node, long count)
    {
        BlindCount += count;
        AddRange(_blind, node, count);
    }

    static void AddRange(List<BlindRange> ranges, OpenNode node, long count)
    {
        if (ranges.Count > 0 && ranges[^1].To == node.From) ranges[^1] = ranges[^1] with { To = node.To, Count = ranges[^1].Count + count };
        else ranges.Add(new BlindRange(node.From, node.To, count));
    }

    void Bounce(ref FrameWriter w, in Pending t, ChunkedList<OpenNode> next)
    {
        int at = w.Length;
        w.Byte((byte)EntryType.Fingerprint);
        _codec.WriteKeyed(ref w, t.LocalCount, t.LocalFp);
        Account(EntryType.Fingerprint, at, w);
        next.Add(t.Node.Summarised(t.LocalCount));
    }

    // Compares the peer's full item list of a node with ours: marks the positions of theirs that we lack.
    // in <paramref name="lacking"/> the positions of theirs that we lack (true if any); ours the peer lacks go to _extras.
    bool Merge(OpenNode node, List<SyncItem> theirs, byte[] lacking)
    {
        if (!_local!.TryReadAll(node, Limits.MaxItemsPerSet, out var local)) throw new SyncProtocolException("node too large to compare");
        var extras = _extras;
        extras.Clear();
        bool lacks = false;
        int i = 0, j = 0;
        while (i < theirs.Count || j < local.Count)
        {
            int c = i == theirs.Count ? 1 : j == local.Count ? -1 : theirs[i].CompareTo(local[j]);
            if (c < 0) { lacking[i >> 3] |= (byte)(1 << (i & 7)); lacks = true; WeNeed(theirs[i++]); }
            else if (c > 0) { NeedsFromUs(local[j]); extras.Add(local[j++]); }
            else { i++; j++; }
        }
        return lacks;
    }

    void FlushDone(ref FrameWriter w, ref int run)
    {
        if (run == 0) return;
        int at = w.Length;
        w.Byte((byte)EntryType.Done);
        w.Varint((ulong)run);
        Account(EntryType.Done, at, w);
        run = 0;
    }
}
