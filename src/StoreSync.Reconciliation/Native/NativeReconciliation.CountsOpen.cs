// The count-only Open of version 4 (spec/sync.md §3.2, "the count-only Open"): the initiator's root cut into m slices, carrying
// the root's fingerprint once and per slice only a count and a one-byte hint; partial: it shares the session's codec, local side
// and open nodes.
using StoreSync.Core;

namespace StoreSync.Reconciliation.Native;

public sealed partial class NativeReconciliation
{
    // A Counts entry: the fan-out, the node's keyed fingerprint (of all its items: the count is the sum of the slices'), then
    // our count and hint of each of the m slices (fps: our children, from LocalSide.Children), which it opens.
    void WriteCounts(ref FrameWriter w, OpenNode node, int m, List<Fingerprint> fps, in Fingerprint whole, ChunkedList<OpenNode> next)
    {
        w.Byte((byte)EntryType.Counts);
        w.Varint((ulong)m);
        _codec.WriteFp(ref w, _codec.Keyed(whole));
        var slices = new Slices(node, m);
        for (int i = 0; i < m; i++)
        {
            _codec.WriteTally(ref w, fps[i]);
            next.Add(slices[i].Summarised(fps[i].Count));
        }
    }

    // Pass 1 for a Counts entry: checks it and records our summary of each slice. When the node's fingerprint agrees with ours
    // every slice is recorded as agreeing (one Done answers them all); otherwise each slice needs an answer unless both sides
    // hold nothing there, and the density evidence is as for a Split: slices whose count and hint equal ours are the agreeing
    // siblings, the others differ by their count difference.
    void SurveyCounts(ref FrameReader r, OpenNode node, Survey survey)
    {
        int m = EntryCodec.ReadFanout(ref r, node, survey.Tasks, Limits.MaxRangesPerMessage);
        ulong fp = _codec.ReadFp(ref r);
        // The node's count is never sent, so nothing can contradict it: it is the sum, which must fit and not be 0 (an honest
        // side sends Counts only for a root of at least LargeNode items).
        var peek = r;
        long total = 0;
        for (int i = 0; i < m; i++)
        {
            long c = EntryCodec.ReadTally(ref peek).Count;
            if (c > long.MaxValue - total) throw new SyncProtocolException("the counts of a Counts entry overflow");
            total += c;
        }
        if (total == 0) throw new SyncProtocolException("a Counts entry of an empty node");
        var fps = _local!.Children(node, m);
        long mine = 0;
        var xor = default(MessageHash);
        foreach (var f in fps)
        {
            mine += f.Count;
            xor = xor.Xor(f.Xor);
        }
        bool agree = survey.CountsAgree = mine == total && _codec.Keyed(xor, total) == fp;
        int nonEmpty = 0, looksAgreeing = 0;
        long size = 0;
        for (int i = 0; i < m; i++)
        {
            var (c, hint) = EntryCodec.ReadTally(ref r);
            long lc = fps[i].Count;
            ulong lf = _codec.Keyed(fps[i]);
            if (agree || (c == 0 && lc == 0))
            {
                survey.Record(lc, lf, lc, lf);
                continue;
            }
            bool looks = EntryCodec.LooksAgreeing(c, hint, lc, lf);
            survey.RecordCountOnly(c, lc, lf, looks);
            if (looks) looksAgreeing++;
            nonEmpty++;
            long larger = Math.Max(c, lc);
            size = size > long.MaxValue - larger ? long.MaxValue : size + larger; // the peer's counts sum to ≤ 2^63 − 1, ours add to it
        }
        if (!agree) survey.AddSiblings(nonEmpty, looksAgreeing, size);
    }
}
