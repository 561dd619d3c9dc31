using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Reconciliation;
using StoreSync.Simulations.Engine;
using StoreSync.Simulations.Scenarios;
using StoreSync.Waku.Proto;

namespace StoreSync.Simulations.Model;

/// <summary>Every message published in a run: its sync item (real Waku hash), size on the transfer wire, and how far it spread.</summary>
/// <remarks>
/// Payloads are pseudo-random bytes from a per-message seed, so a message can be rebuilt byte for byte (RocksDB
/// storage re-ingests it and recomputes the same hash) without keeping payloads in memory.
/// </remarks>
internal sealed class MessageCatalog
{
    struct Entry
    {
        public SyncItem Item;
        public ulong PayloadSeed;
        public long Published;
        public long ReachedMost, ReachedAll; // virtual times, −1 until reached
        public int Community, Size, WireBytes, Holders;
        public bool Recoverable;
    }

    Entry[] _entries = new Entry[1024];
    readonly Dictionary<MessageHash, int> _byHash = [];
    readonly List<long>[] _recoverable;
    readonly int[] _eligible;
    readonly int[] _mostThreshold;

    public MessageCatalog(Scenario scenario, IReadOnlyList<int> eligibleNodesPerCommunity)
    {
        Scenario = scenario;
        _recoverable = scenario.Communities.Select(_ => new List<long>()).ToArray();
        _eligible = eligibleNodesPerCommunity.ToArray();
        _mostThreshold = _eligible.Select(n => (int)Math.Ceiling(n * 0.99)).ToArray();
    }

    public Scenario Scenario { get; }

    public int Count { get; private set; }

    public long Recoverable { get; private set; }

    public SyncItem Item(int m) => _entries[m].Item;

    public int Community(int m) => _entries[m].Community;

    public int WireBytes(int m) => _entries[m].WireBytes;

    public int Holders(int m) => _entries[m].Holders;

    public long Published(int m) => _entries[m].Published;

    public int IndexOf(in MessageHash hash) => _byHash[hash];

    public int IndexOf(in SyncItem item) => _byHash[item.Hash];

    /// <summary>Creates the next message of a community at virtual time <paramref name="now"/>.</summary>
    public int Publish(int community, long now, SimRandom rng)
    {
        var c = Scenario.Communities[community];
        int size = c.MinSize == c.MaxSize ? c.MinSize : rng.Between(c.MinSize, c.MaxSize);
        ulong seed = rng.NextUInt64();
        long timestamp = Scenario.Epoch + now;
        var payload = Payload(seed, size);
        var hash = MessageHash.Compute(c.PubsubTopic, payload, c.ContentTopic, default, timestamp);
        while (_byHash.ContainsKey(hash))
        {
            // Two equal payloads at one instant in one topic would be one Waku message; draw another payload.
            seed = rng.NextUInt64();
            payload = Payload(seed, size);
            hash = MessageHash.Compute(c.PubsubTopic, payload, c.ContentTopic, default, timestamp);
        }
        if (Count == _entries.Length) Array.Resize(ref _entries, _entries.Length * 2);
        int m = Count++;
        _entries[m] = new Entry
        {
            Item = new SyncItem(timestamp, hash), PayloadSeed = seed, Published = now, ReachedMost = -1, ReachedAll = -1,
            Community = community, Size = size, WireBytes = TransferBytes(c, payload, timestamp),
        };
        _byHash.Add(hash, m);
        return m;
    }

    static byte[] Payload(ulong seed, int size)
    {
        var payload = new byte[size];
        new SimRandom(seed, 0).Fill(payload);
        return payload;
    }

    /// <summary>The message as the transfer protocol carries it, for RocksDB storage.</summary>
    public WakuMessage BuildMessage(int m)
    {
        ref var e = ref _entries[m];
        var c = Scenario.Communities[e.Community];
        return new WakuMessage { Payload = ByteString.CopyFrom(Payload(e.PayloadSeed, e.Size)), ContentTopic = c.ContentTopic, Timestamp = e.Item.Timestamp };
    }

    // One length-prefixed WakuMessageAndTopic per message on /vac/waku/transfer/1.0.0.
    static int TransferBytes(Community c, byte[] payload, long timestamp)
    {
        var framed = new WakuMessageAndTopic
        {
            PubsubTopic = c.PubsubTopic,
            Message = new WakuMessage { Payload = ByteString.CopyFrom(payload), ContentTopic = c.ContentTopic, Timestamp = timestamp },
        };
        int size = framed.CalculateSize();
        return size + CodedOutputStream.ComputeLengthSize(size);
    }

    /// <summary>Marks a message as received live by at least one node (only those can ever be recovered by sync).</summary>
    public void MarkRecoverable(int m)
    {
        _entries[m].Recoverable = true;
        _recoverable[_entries[m].Community].Add(_entries[m].Item.Timestamp);
        Recoverable++;
    }

    /// <summary>Recoverable messages of a community published so far with timestamp ≥ <paramref name="from"/>.</summary>
    public long RecoverableFrom(int community, long from)
    {
        var list = _recoverable[community];
        int lo = 0, hi = list.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (list[mid] < from) lo = mid + 1; else hi = mid;
        }
        return list.Count - lo;
    }

    public long RecoverableCount(int community) => _recoverable[community].Count;

    /// <summary>A node gained the message; records when it first reached 99 % and all of the nodes that store its community.</summary>
    public void Gained(int m, long now)
    {
        ref var e = ref _entries[m];
        e.Holders++;
        if (e.ReachedMost < 0 && e.Holders >= _mostThreshold[e.Community]) e.ReachedMost = now;
        if (e.ReachedAll < 0 && e.Holders >= _eligible[e.Community]) e.ReachedAll = now;
    }

    public void Lost(int m) => _entries[m].Holders--;

    /// <summary>Spread delays (time from publication to 99 % / all nodes) of recoverable messages, and how many never got there.</summary>
    public (List<long> Most, List<long> All, long NeverMost, long NeverAll) SpreadDelays()
    {
        var most = new List<long>();
        var all = new List<long>();
        long neverMost = 0, neverAll = 0;
        for (int m = 0; m < Count; m++)
        {
            ref var e = ref _entries[m];
            if (!e.Recoverable) continue;
            if (e.ReachedMost >= 0) most.Add(e.ReachedMost - e.Published); else neverMost++;
            if (e.ReachedAll >= 0) all.Add(e.ReachedAll - e.Published); else neverAll++;
        }
        most.Sort();
        all.Sort();
        return (most, all, neverMost, neverAll);
    }
}
