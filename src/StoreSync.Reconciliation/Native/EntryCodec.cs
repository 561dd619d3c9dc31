using System.Buffers.Binary;
using StoreSync.Core;

namespace StoreSync.Reconciliation.Native;

/// <summary>The fields of native-mode entries: keyed fingerprints of the session's width, item lists and fan-outs
/// (spec/sync.md §3.2, §3.3).</summary>
internal sealed class EntryCodec
{
    ulong _key;

    /// <summary>Bytes of a fingerprint on the wire (4–8), chosen by the initiator in Open.</summary>
    public int Width { get; private set; } = 8;

    /// <summary>Keys the fingerprints with the Open frame's nonce and sets their width.</summary>
    public void Key(ulong key, int width)
    {
        _key = key;
        Width = width;
    }

    /// <summary>The keyed fingerprint truncated to the session's width (its low bytes on the wire, little-endian).</summary>
    public ulong Keyed(in MessageHash xor, long count)
    {
        ulong v = KeyedFingerprint.Compute(xor, count, _key);
        return Width == 8 ? v : v & ((1UL << (8 * Width)) - 1);
    }

    /// <summary>The keyed fingerprint of a range; 0 for an empty one (it sends no fingerprint).</summary>
    public ulong Keyed(in Fingerprint fp) => fp.Count == 0 ? 0 : Keyed(fp.Xor, fp.Count);

    public void WriteFingerprint(ref FrameWriter w, in Fingerprint fp) => WriteKeyed(ref w, fp.Count, Keyed(fp));

    /// <summary>varint count, then the keyed fingerprint's low <see cref="Width"/> bytes if count &gt; 0.</summary>
    public void WriteKeyed(ref FrameWriter w, long count, ulong keyed)
    {
        w.Varint((ulong)count);
        if (count == 0) return;
        WriteFp(ref w, keyed);
    }

    /// <summary>The keyed fingerprint's low <see cref="Width"/> bytes alone (a Counts entry's, whose count is the sum of its slices').</summary>
    public void WriteFp(ref FrameWriter w, ulong keyed)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, keyed);
        w.Bytes(bytes[..Width]);
    }

    public (long Count, ulong Fp) ReadFingerprint(ref FrameReader r)
    {
        long count = ReadCount(ref r);
        return count == 0 ? (0, 0) : (count, ReadFp(ref r));
    }

    /// <summary>A slice of a Counts entry: varint count, then (if count &gt; 0) the keyed fingerprint's low byte, a hint that tells
    /// most differing slices from agreeing ones (spec/sync.md §3.2, "the count-only Open").</summary>
    public void WriteTally(ref FrameWriter w, in Fingerprint fp)
    {
        w.Varint((ulong)fp.Count);
        if (fp.Count > 0) w.Byte(Hint(Keyed(fp)));
    }

    public static (long Count, byte Hint) ReadTally(ref FrameReader r)
    {
        long count = ReadCount(ref r);
        return count == 0 ? (0, 0) : (count, r.Byte("fingerprint hint"));
    }

    /// <summary>The one-byte hint of a keyed fingerprint.</summary>
    public static byte Hint(ulong keyed) => (byte)keyed;

    /// <summary>Whether a Counts slice (the peer's count and hint) looks like ours: most likely the same items, unproven.</summary>
    public static bool LooksAgreeing(long remoteCount, byte hint, long localCount, ulong localKeyed) =>
        remoteCount > 0 && remoteCount == localCount && hint == Hint(localKeyed);

    /// <summary>A varint item count, at most <see cref="long.MaxValue"/>.</summary>
    public static long ReadCount(ref FrameReader r)
    {
        ulong count = r.Varint("count");
        if (count > long.MaxValue) throw new SyncProtocolException("count out of range");
        return (long)count;
    }

    public ulong ReadFp(ref FrameReader r)
    {
        Span<byte> bytes = stackalloc byte[8];
        bytes.Clear();
        r.Bytes(Width, "fingerprint").CopyTo(bytes);
        return BinaryPrimitives.ReadUInt64LittleEndian(bytes);
    }

    /// <summary>A Split's fan-out, checked against the node's width and the frame's node limit.</summary>
    public static int ReadFanout(ref FrameReader r, OpenNode node, int tasks, int maxRanges)
    {
        UInt128 span = node.Hi - node.Lo;
        int m = r.Count("fan-out", 1, NativeReconciliation.MaxFanout);
        if (m < 2 || (UInt128)m > span) throw new SyncProtocolException($"cannot split a node into {m}");
        if (tasks + m > maxRanges) throw new SyncProtocolException("too many nodes in one frame");
        return m;
    }

    /// <summary>An item entry: type, varint k, then per item the time delta (the first from the node's lower bound) and hash.</summary>
    public static void WriteItems(ref FrameWriter w, EntryType type, OpenNode node, List<SyncItem> items)
    {
        w.Byte((byte)type);
        w.Varint((ulong)items.Count);
        long previous = node.From.Timestamp;
        foreach (var x in items)
        {
            w.Varint(unchecked((ulong)(x.Timestamp - previous)));
            previous = x.Timestamp;
            w.Hash(x.Hash);
        }
    }

    /// <summary>Checks an item list without keeping it: the items must ascend inside their node.</summary>
    public static void SkipItems(ref FrameReader r, OpenNode node, int maxItems)
    {
        int k = r.Count("item count", 33, maxItems);
        long previous = node.From.Timestamp;
        SyncItem last = default;
        for (int i = 0; i < k; i++)
        {
            previous = unchecked(previous + (long)r.Varint("item time delta"));
            var item = new SyncItem(previous, r.Hash("item hash"));
            if (!node.Contains(item) || (i > 0 && last >= item))
                throw new SyncProtocolException("items must ascend inside their node");
            last = item;
        }
    }

    /// <summary>The items of an entry already checked by <see cref="SkipItems"/>, into <paramref name="items"/>.</summary>
    public static List<SyncItem> ReadItems(ref FrameReader r, OpenNode node, int maxItems, List<SyncItem> items)
    {
        int k = r.Count("item count", 33, maxItems);
        items.Clear();
        long previous = node.From.Timestamp;
        for (int i = 0; i < k; i++)
        {
            previous = unchecked(previous + (long)r.Varint("item time delta"));
            items.Add(new SyncItem(previous, r.Hash("item hash")));
        }
        return items;
    }
}
