using StoreSync.Core;

namespace StoreSync.Reconciliation.Nwaku;

/// <summary>The payload of one /vac/waku/reconciliation/1.0.0 frame, as nwaku ≥ 0.37 encodes it (spec/sync.md §2).</summary>
/// <remarks>
/// Layout: pubsub topic list, content topic list (varint count, then varint length + UTF-8 each), the first
/// lower bound's timestamp, then per range the upper bound as a time delta (plus a hash prefix when the
/// delta is 0), a type byte and its payload. No ranges encode as the single byte 0x00.
/// All varints are unsigned LEB128; timestamps are cast to uint64 and deltas wrap modulo 2^64.
/// </remarks>
public sealed class RangesData
{
    public IReadOnlyList<string> PubsubTopics { get; init; } = [];

    public IReadOnlyList<string> ContentTopics { get; init; } = [];

    public IReadOnlyList<SyncRange> Ranges { get; init; } = [];

    public bool IsEmpty => Ranges.Count == 0;

    /// <summary>True when the peer has nothing left to reconcile: no ranges, or only Skip ranges.</summary>
    public bool IsDone => Ranges.All(r => r.Type == RangeType.Skip);

    public byte[] Encode(int maxBytes = 64 << 20)
    {
        if (Ranges.Count == 0) return [0x00];
        var w = new FrameWriter(maxBytes);
        try
        {
            w.Topics(PubsubTopics);
            w.Topics(ContentTopics);
            var first = Ranges[0].Lower;
            long lastTime = first.Timestamp;
            // nwaku compares equal-time bounds against the FIRST lower bound's hash and never updates it.
            Span<byte> lastHash = stackalloc byte[MessageHash.Length];
            first.Hash.WriteTo(lastHash);
            Span<byte> hash = stackalloc byte[MessageHash.Length];
            w.Varint((ulong)lastTime);
            foreach (var range in Ranges)
            {
                ulong diff = unchecked((ulong)range.Upper.Timestamp - (ulong)lastTime);
                lastTime = range.Upper.Timestamp;
                w.Varint(diff);
                if (diff == 0)
                {
                    range.Upper.Hash.WriteTo(hash);
                    int same = 0;
                    while (same < MessageHash.Length) { same++; if (hash[same - 1] != lastHash[same - 1]) break; }
                    w.Byte((byte)same);
                    w.Bytes(hash[..same]);
                }
                w.Byte((byte)range.Type);
                switch (range.Type)
                {
                    case RangeType.Fingerprint:
                        w.Hash(range.Fingerprint);
                        break;
                    case RangeType.ItemSet:
                        var set = range.Items ?? throw new InvalidOperationException("an ItemSet range needs its items");
                        w.Varint((ulong)set.Elements.Count);
                        long previous = 0; // element times restart from 0 in every item set
                        foreach (var e in set.Elements)
                        {
                            w.Varint(unchecked((ulong)e.Timestamp - (ulong)previous));
                            previous = e.Timestamp;
                            w.Hash(e.Hash);
                        }
                        w.Byte(set.Reconciled ? (byte)1 : (byte)0);
                        break;
                }
            }
            return w.ToArray();
        }
        finally { w.Dispose(); }
    }

    /// <summary>Decodes a frame the way nwaku's deltaDecode reads it, but strictly bounded (spec/sync.md §2.3).</summary>
    public static RangesData Decode(ReadOnlySpan<byte> frame, SyncLimits? limits = null)
    {
        limits ??= SyncLimits.Default;
        if (frame.Length > limits.MaxFrameBytes) throw new SyncProtocolException($"frame of {frame.Length} bytes exceeds the limit");
        // nwaku: a payload of at most one byte is "no ranges" (it sends [0x00]; an empty frame ends the session).
        if (frame.Length <= 1) return new RangesData();
        var r = new FrameReader(frame);
        var pubsub = r.Topics("pubsub topic");
        var content = r.Topics("content topic");
        long lastTime = (long)r.Varint("first timestamp");
        var ranges = new List<SyncRange>();
        Span<byte> hash = stackalloc byte[MessageHash.Length];
        // nwaku loops while at least two bytes remain, so a single trailing byte is ignored; so do we.
        while (r.Remaining > 1)
        {
            if (ranges.Count >= limits.MaxRangesPerMessage) throw new SyncProtocolException("too many ranges in one frame");
            var lower = SyncItem.At(lastTime); // the previous upper bound's hash prefix is dropped, as in nwaku
            ulong diff = r.Varint("time delta");
            hash.Clear();
            if (diff == 0)
            {
                int same = r.Byte("hash prefix length");
                if (same > MessageHash.Length) throw new SyncProtocolException($"hash prefix of {same} bytes");
                r.Bytes(same, "hash prefix").CopyTo(hash);
            }
            lastTime = unchecked((long)((ulong)lastTime + diff));
            var upper = new SyncItem(lastTime, MessageHash.Read(hash));
            byte type = r.Byte("range type");
            switch (type)
            {
                case (byte)RangeType.Skip:
                    ranges.Add(new SyncRange(lower, upper, RangeType.Skip));
                    break;
                case (byte)RangeType.Fingerprint:
                    ranges.Add(new SyncRange(lower, upper, RangeType.Fingerprint, r.Hash("fingerprint")));
                    break;
                case (byte)RangeType.ItemSet:
                    int count = r.Count("item set length", 33, limits.MaxItemsPerSet);
                    var elements = new SyncItem[count];
                    long previous = 0;
                    for (int i = 0; i < count; i++)
                    {
                        previous = unchecked((long)((ulong)previous + r.Varint("element time delta")));
                        elements[i] = new SyncItem(previous, r.Hash("element hash"));
                    }
                    byte reconciled = r.Byte("reconciled flag");
                    if (reconciled > 1) throw new SyncProtocolException($"reconciled flag {reconciled}");
                    ranges.Add(new SyncRange(lower, upper, RangeType.ItemSet, default, new ItemSet(elements, reconciled == 1)));
                    break;
                default:
                    throw new SyncProtocolException($"range type {type}");
            }
        }
        return new RangesData { PubsubTopics = pubsub, ContentTopics = content, Ranges = ranges };
    }
}
