using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Pubsub;

/// <summary>What the router remembers about one recent message id: its frame for IWANT, and its deliveries for scoring.</summary>
internal sealed class CachedMessage(byte[] id, ulong key, string topic, long firstSeenMs, PeerId firstPeer)
{
    public byte[] Id { get; } = id;

    public ulong Key { get; } = key;

    public string Topic { get; } = topic;

    public long FirstSeenMs { get; } = firstSeenMs;

    /// <summary>The peer that delivered it first (our own id for a local publish).</summary>
    public PeerId FirstPeer { get; } = firstPeer;

    public DeliveryStatus Status { get; set; }

    /// <summary>The RPC frame carrying the message, ready to send; null until accepted (only accepted messages are served).</summary>
    public byte[]? Frame { get; set; }

    /// <summary>Other peers that delivered it while it was being validated, or within the mesh delivery window after.</summary>
    public List<PeerId>? Duplicates { get; set; }

    /// <summary>How often each peer was sent it in answer to IWANT (bounded by GossipRetransmission).</summary>
    public Dictionary<PeerId, int>? Retransmissions { get; set; }
}

/// <summary>The state of a message in its delivery record (gossipsub-v1.1.md P2/P3/P4 bookkeeping).</summary>
internal enum DeliveryStatus
{
    Validating,
    Valid,
    Invalid,
    Ignored,
}

/// <summary>
/// The message cache (mcache) of gossipsub: the messages of the last <c>history length</c> heartbeats, in one window
/// per heartbeat, so that IWANT can be answered and the newest <c>history gossip</c> windows can be announced by IHAVE.
/// </summary>
/// <remarks>
/// Every message id is recorded here, also one being validated or rejected (without its frame), because the delivery
/// records of scoring live exactly as long. Bounded in payload bytes: when the frames held exceed the limit, whole
/// oldest windows go early. Keyed by <see cref="SeenCache.KeyOf"/>; a lookup compares the id too. Not thread-safe.
/// </remarks>
internal sealed class MessageCache
{
    readonly int _historyGossip;
    readonly long _maxBytes;
    readonly Dictionary<ulong, CachedMessage> _byKey = [];
    readonly LinkedList<List<CachedMessage>> _windows = new();
    long _bytes;

    public MessageCache(int historyLength, int historyGossip, long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(historyLength, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(historyGossip, historyLength);
        _historyGossip = historyGossip;
        _maxBytes = maxBytes;
        for (int i = 0; i < historyLength; i++) _windows.AddLast([]);
    }

    public int Count => _byKey.Count;

    /// <summary>Bytes of the frames held.</summary>
    public long Bytes => _bytes;

    public bool TryGet(ulong key, ReadOnlySpan<byte> id, out CachedMessage entry)
    {
        if (_byKey.TryGetValue(key, out entry!) && entry.Id.AsSpan().SequenceEqual(id)) return true;
        entry = null!;
        return false;
    }

    /// <summary>Records a newly seen message in the current window.</summary>
    public void Add(CachedMessage entry)
    {
        if (!_byKey.TryAdd(entry.Key, entry)) return;
        _windows.First!.Value.Add(entry);
    }

    /// <summary>Attaches the frame of an accepted message, so it is gossiped and served.</summary>
    public void SetFrame(CachedMessage entry, byte[] frame)
    {
        entry.Frame = frame;
        _bytes += frame.Length;
        while (_bytes > _maxBytes)
        {
            var node = _windows.Last!;
            while (node != _windows.First && node.Value.Count == 0) node = node.Previous!;
            if (node == _windows.First) break; // the current window alone is over the limit: keep it
            Clear(node.Value);
        }
    }

    /// <summary>Adds the ids of accepted messages on the topic from the newest history-gossip windows to <paramref name="ids"/>.</summary>
    public void GossipIds(string topic, List<byte[]> ids, int max)
    {
        int window = 0;
        for (var node = _windows.First; node is not null && window < _historyGossip; node = node.Next, window++)
        {
            foreach (var entry in node.Value)
            {
                if (entry.Frame is null || !string.Equals(entry.Topic, topic, StringComparison.Ordinal)) continue;
                if (ids.Count >= max) return;
                ids.Add(entry.Id);
            }
        }
    }

    /// <summary>The heartbeat's shift: the oldest window is forgotten, a new empty one begins.</summary>
    public void Shift()
    {
        var oldest = _windows.Last!;
        Clear(oldest.Value);
        _windows.RemoveLast();
        _windows.AddFirst(oldest);
    }

    void Clear(List<CachedMessage> window)
    {
        foreach (var entry in window)
        {
            _byKey.Remove(entry.Key);
            if (entry.Frame is not null) _bytes -= entry.Frame.Length;
        }
        window.Clear();
    }
}
