using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Waku.Peers;

/// <summary>The peers the node knows, from every source, with their dial history: bounded, merged per peer, persisted by
/// <see cref="PeerBookFile"/> (spec/discovery.md, "Peer manager").</summary>
/// <remarks>
/// At most <see cref="Capacity"/> peers (nwaku's peer store capacity) and <see cref="MaxAddressesPerPeer"/> addresses each. When
/// a new peer finds the book full, the least worth keeping that is neither static nor connected goes: a given-up peer first,
/// then one never connected, then the one seen longest ago; when every entry is static or connected the new peer is refused.
/// Thread-safe: sources feed it from their own tasks while the manager reads snapshots.
/// </remarks>
public sealed class PeerBook : IPeerSink
{
    public const int DefaultCapacity = 1000;
    public const int MaxAddressesPerPeer = 8;
    public const int MaxProtocolsPerPeer = 32;

    readonly Dictionary<PeerId, PeerBookEntry> _peers = [];
    readonly HashSet<PeerId> _connected = [];
    readonly Lock _lock = new();
    readonly PeerId _self;
    readonly ushort? _cluster;
    readonly TimeProvider _clock;
    long _version;

    /// <param name="cluster">Peers whose record names another cluster are refused; null takes any.</param>
    public PeerBook(PeerId self, ushort? cluster = null, int capacity = DefaultCapacity, DialBackoff? backoff = null, TimeProvider? clock = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _self = self;
        _cluster = cluster;
        Capacity = capacity;
        Backoff = backoff ?? DialBackoff.Default;
        _clock = clock ?? TimeProvider.System;
    }

    public int Capacity { get; }

    public DialBackoff Backoff { get; }

    public int Count { get { lock (_lock) return _peers.Count; } }

    /// <summary>Grows on every change, so a saver writes only when something changed.</summary>
    public long Version => Interlocked.Read(ref _version);

    DateTimeOffset Now => _clock.GetUtcNow();

    public PeerBookEntry? Find(PeerId peer) { lock (_lock) return _peers.GetValueOrDefault(peer); }

    public IReadOnlyList<PeerBookEntry> Snapshot() { lock (_lock) return [.. _peers.Values]; }

    public bool IsConnected(PeerId peer) { lock (_lock) return _connected.Contains(peer); }

    /// <summary>Whether a dial of the peer may start now: not connected, and outside its backoff.</summary>
    public bool MayDial(PeerBookEntry entry) =>
        entry.Addresses.Count > 0 && !IsConnected(entry.Id) && Backoff.MayDial(entry.Failures, entry.LastFailure, entry.IsStatic, Now);

    public bool Offer(DiscoveredPeer peer)
    {
        if (peer.Id == _self) return false;
        if (_cluster is { } cluster && peer.Shards is { } shards && shards.ClusterId != cluster) return false;
        var addresses = peer.Addresses.Select(a => a.WithoutPeerId()).Distinct().Take(MaxAddressesPerPeer).ToList();
        lock (_lock)
        {
            var now = Now;
            if (_peers.TryGetValue(peer.Id, out var known))
            {
                bool newer = peer.Enr is not null && peer.Enr.Seq > known.EnrSeq;
                _peers[peer.Id] = known with
                {
                    Addresses = Merge(addresses, known.Addresses),
                    Sources = known.Sources | peer.Source,
                    RecordCapabilities = peer.Capabilities ?? known.RecordCapabilities,
                    Shards = peer.Shards ?? known.Shards,
                    Enr = newer || known.Enr is null ? peer.Enr?.ToText() ?? known.Enr : known.Enr,
                    EnrSeq = newer ? peer.Enr!.Seq : known.EnrSeq,
                    // A newer record is news of the peer: a given-up peer gets its dials back.
                    Failures = newer && Backoff.GivesUp(known.Failures, known.IsStatic) ? 0 : known.Failures,
                    LastSeen = now,
                };
                Changed();
                return true;
            }
            if (addresses.Count == 0) return false;
            if (_peers.Count >= Capacity && !EvictOne(peer.Source)) return false;
            _peers[peer.Id] = new PeerBookEntry(peer.Id, addresses, peer.Source, peer.Capabilities, peer.Shards, [],
                peer.Enr?.ToText(), peer.Enr?.Seq ?? 0, 0, null, null, now);
            Changed();
            return true;
        }
    }

    static List<Multiaddr> Merge(IReadOnlyList<Multiaddr> first, IReadOnlyList<Multiaddr> then) =>
        [.. first.Concat(then).Distinct().Take(MaxAddressesPerPeer)];

    bool EvictOne(PeerSources incoming)
    {
        var victim = _peers.Values
            .Where(e => !e.IsStatic && !_connected.Contains(e.Id))
            .OrderByDescending(e => Backoff.GivesUp(e.Failures, e.IsStatic))
            .ThenBy(e => e.LastConnected is not null)
            .ThenBy(e => e.LastConnected ?? e.LastSeen)
            .FirstOrDefault();
        // A static node always finds room; others only by pushing out a peer that never proved itself or gave up.
        if (victim is null) return false;
        if ((incoming & PeerSources.Static) == 0 && victim.LastConnected is not null && !Backoff.GivesUp(victim.Failures, false)) return false;
        _peers.Remove(victim.Id);
        return true;
    }

    /// <summary>A connection to the peer is up: its failures are cleared; an unknown peer that dialed us is added
    /// (<paramref name="dialedAddress"/> null), to be dialable once identify names its listen addresses.</summary>
    public void Connected(PeerId peer, Multiaddr? dialedAddress)
    {
        lock (_lock)
        {
            var now = Now;
            if (!_peers.TryGetValue(peer, out var known))
            {
                _connected.Add(peer);
                if (peer == _self || (_peers.Count >= Capacity && !EvictOne(PeerSources.Inbound))) return;
                // Addresses come from identify for a peer that dialed us.
                known = new PeerBookEntry(peer, [], dialedAddress is null ? PeerSources.Inbound : PeerSources.None, null, null, [], null, 0, 0, null, null, now);
            }
            _peers[peer] = known with
            {
                Addresses = dialedAddress is null ? known.Addresses : Merge([dialedAddress.WithoutPeerId()], known.Addresses),
                Failures = 0, LastFailure = null, LastConnected = now, LastSeen = now,
            };
            _connected.Add(peer);
            Changed();
        }
    }

    /// <summary>Identify arrived: its Waku protocols, and its listen addresses (for a peer that dialed us, the only way back).</summary>
    public void Identified(PeerId peer, IEnumerable<Multiaddr> listenAddresses, IEnumerable<string> protocols)
    {
        lock (_lock)
        {
            if (!_peers.TryGetValue(peer, out var known)) return;
            var waku = protocols.Where(PeerCapabilities.IsWaku).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Take(MaxProtocolsPerPeer).ToList();
            var listen = listenAddresses.Select(a => a.WithoutPeerId()).Where(IsDialable).ToList();
            _peers[peer] = known with { Protocols = waku, Addresses = Merge(known.Addresses, listen) };
            Changed();
        }
    }

    /// <summary>Addresses another node can dial: not the unspecified ones a peer may list.</summary>
    static bool IsDialable(Multiaddr address)
    {
        var text = address.ToString();
        return !text.StartsWith("/ip4/0.0.0.0/", StringComparison.Ordinal) && !text.StartsWith("/ip6/::/", StringComparison.Ordinal);
    }

    public void Disconnected(PeerId peer)
    {
        lock (_lock)
        {
            _connected.Remove(peer);
            if (_peers.TryGetValue(peer, out var known)) _peers[peer] = known with { LastSeen = Now };
            Changed();
        }
    }

    /// <summary>A dial failed: one more failure, the backoff grows.</summary>
    public void DialFailed(PeerId peer)
    {
        lock (_lock)
        {
            if (!_peers.TryGetValue(peer, out var known)) return;
            _peers[peer] = known with { Failures = known.Failures + 1, LastFailure = Now };
            Changed();
        }
    }

    /// <summary>Puts back entries read from the file (at start, before any source): within capacity, connection state cleared.</summary>
    public int Restore(IEnumerable<PeerBookEntry> entries)
    {
        int restored = 0;
        lock (_lock)
        {
            foreach (var e in entries)
            {
                if (e.Id == _self || _peers.ContainsKey(e.Id) || e.Addresses.Count == 0) continue;
                if (_cluster is { } cluster && e.Shards is { } shards && shards.ClusterId != cluster) continue;
                if (_peers.Count >= Capacity) break;
                _peers[e.Id] = e with { Addresses = [.. e.Addresses.Take(MaxAddressesPerPeer)], Protocols = [.. e.Protocols.Take(MaxProtocolsPerPeer)] };
                restored++;
            }
            Changed();
        }
        return restored;
    }

    void Changed() => Interlocked.Increment(ref _version);
}
