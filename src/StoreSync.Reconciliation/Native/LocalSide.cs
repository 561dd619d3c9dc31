using System.Runtime.InteropServices;
using StoreSync.Core;

namespace StoreSync.Reconciliation.Native;

/// <summary>Our side of the open nodes, read from the scope's item source: summaries, child fingerprints, item lists
/// and the single-difference search (spec/sync.md §3.2 rule 2).</summary>
/// <remarks>The buffers are reused from node to node; a list returned here is valid until the next call.</remarks>
internal sealed class LocalSide(ISyncItemSource source)
{
    /// <summary>Largest node (or run of sibling nodes) read once and cut in memory rather than by one index lookup per bound.</summary>
    const int SliceInMemoryLimit = 1 << 16;

    /// <summary>Reading a node's items beats index lookups while it holds fewer than this many items per bound.</summary>
    const int ItemsPerLookup = 48;

    /// <summary>A node of at most this many items is summarised from one store read instead of two index lookups.</summary>
    const int SmallNode = 128;

    readonly List<SyncItem> _scratch = [], _bounds = [];
    readonly List<Fingerprint> _fps = [];
    readonly SyncItem[] _probe = new SyncItem[1];

    /// <summary>Our items in <paramref name="node"/>, unless it holds more than <paramref name="limit"/>.</summary>
    public bool TryReadAll(OpenNode node, int limit, out List<SyncItem> items)
    {
        items = _scratch;
        items.Clear();
        return source.ReadAll(node.From, node.To, items, limit);
    }

    /// <summary>Whether we hold <paramref name="item"/> (one store read).</summary>
    public bool Holds(in SyncItem item) => source.Read(item, item.Successor(), _probe) != 0;

    /// <summary>Our summary of one node: a small node is cheaper to read (one store read) than two index lookups.</summary>
    public Fingerprint Fingerprint(OpenNode node)
    {
        _scratch.Clear();
        if (source.ReadAll(node.From, node.To, _scratch, SmallNode)) return Reconciliation.Fingerprint.Of(CollectionsMarshal.AsSpan(_scratch));
        return source.GetFingerprint(node.From, node.To);
    }

    /// <summary>Our fingerprints of the m slices of a node: a node of up to ItemsPerLookup items per child is read
    /// once and cut in memory, a larger one costs m + 1 index lookups.</summary>
    public List<Fingerprint> Children(OpenNode node, int m)
    {
        var slices = new Slices(node, m);
        _fps.Clear();
        _scratch.Clear();
        if (source.ReadAll(node.From, node.To, _scratch, (int)Math.Min(SliceInMemoryLimit, (long)ItemsPerLookup * (m + 1))))
        {
            int i = 0;
            for (int c = 0; c < m; c++)
            {
                var to = slices[c].To;
                ulong w0 = 0, w1 = 0, w2 = 0, w3 = 0;
                int count = 0;
                for (; i < _scratch.Count && _scratch[i] < to; i++, count++)
                {
                    var h = _scratch[i].Hash;
                    w0 ^= h.W0; w1 ^= h.W1; w2 ^= h.W2; w3 ^= h.W3;
                }
                _fps.Add(new Reconciliation.Fingerprint(new MessageHash(w0, w1, w2, w3), count));
            }
            return _fps;
        }
        _bounds.Clear();
        _bounds.Add(node.From);
        for (int c = 0; c < m; c++) { _bounds.Add(slices[c].To); _fps.Add(default); }
        source.GetFingerprints(CollectionsMarshal.AsSpan(_bounds), CollectionsMarshal.AsSpan(_fps));
        return _fps;
    }

    /// <summary>The node holds exactly two extra local items: finds x, y with fp(local ⊖ x ⊖ y) = the peer's fingerprint
    /// (C(n, 2) candidates, so only for nodes of at most <see cref="NativeReconciliation.PairSearchLimit"/> items).</summary>
    public (SyncItem X, SyncItem Y)? FindPair(OpenNode node, long localCount, ulong remoteFp, EntryCodec codec)
    {
        var scratch = _scratch;
        scratch.Clear();
        if (!source.ReadAll(node.From, node.To, scratch, NativeReconciliation.PairSearchLimit)) return null;
        var items = CollectionsMarshal.AsSpan(scratch);
        var xor = Reconciliation.Fingerprint.Of(items).Xor;
        (SyncItem, SyncItem)? found = null;
        for (int i = 0; i < items.Length; i++)
        {
            var without = xor.Xor(items[i].Hash);
            for (int j = i + 1; j < items.Length; j++)
            {
                if (codec.Keyed(without.Xor(items[j].Hash), localCount - 2) != remoteFp) continue;
                if (found is not null) return null; // two candidates: let splitting decide
                found = (items[i], items[j]);
            }
        }
        return found;
    }

    /// <summary>The node holds exactly one extra local item: finds x with fp(local ⊖ x) = the peer's fingerprint.</summary>
    public SyncItem? FindSingle(OpenNode node, long localCount, ulong remoteFp, EntryCodec codec)
    {
        var scratch = _scratch;
        scratch.Clear();
        if (!source.ReadAll(node.From, node.To, scratch, NativeReconciliation.SearchLimit)) return null;
        var xor = Reconciliation.Fingerprint.Of(CollectionsMarshal.AsSpan(scratch)).Xor;
        SyncItem? found = null;
        foreach (var x in scratch)
        {
            if (codec.Keyed(xor.Xor(x.Hash), localCount - 1) != remoteFp) continue;
            if (found is not null) return null; // two candidates: a 2^-64 event, let splitting decide
            found = x;
        }
        return found;
    }
}
