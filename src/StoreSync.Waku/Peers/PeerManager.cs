using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identify;
using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Waku.Peers;

/// <summary>Dials peers from the <see cref="PeerBook"/> to hold the <see cref="PeerTargets"/>, prunes surplus inbound relay
/// peers, keeps the book current from the host's connection events, and saves it (spec/discovery.md, "Peer manager").</summary>
/// <remarks>
/// Sources feed it through <see cref="IPeerSink"/>; a new peer wakes the loop, which otherwise runs every
/// <see cref="Interval"/> (every <see cref="BusyInterval"/> while a round dialed someone, so targets fill quickly). Peers it
/// connects that announce store sync join the sync schedule by identify, as any peer does.
/// </remarks>
public sealed class PeerManager : IPeerSink, IAsyncDisposable
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(30);

    /// <summary>The next round after one that dialed: soon, so the targets fill in seconds, not in 30 s steps.</summary>
    public static readonly TimeSpan BusyInterval = TimeSpan.FromSeconds(2);

    static readonly Meter PeersMeter = new(WakuMetrics.MeterName);
    static readonly Counter<long> Dials = PeersMeter.CreateCounter<long>("storesync_peer_dials", "{dial}", "Dials the peer manager made, by outcome");

    readonly Libp2pHost _host;
    readonly PeerTargets _targets;
    readonly ushort _cluster;
    readonly IReadOnlyList<ushort> _served;
    readonly IRelayShards? _relay;
    readonly string? _bookPath;
    readonly ILogger _logger;
    readonly SemaphoreSlim _wake = new(0);
    readonly CancellationTokenSource _stopping = new();
    long _savedVersion = -1;
    bool _started;
    int _disposed;
    Task? _loop;

    public PeerManager(Libp2pHost host, PeerBook book, PeerTargets targets, ushort cluster, IReadOnlyList<ushort> servedShards,
        ILogger logger, IRelayShards? relay = null, string? bookPath = null, TimeSpan? interval = null)
    {
        _host = host;
        Book = book;
        _targets = targets;
        _cluster = cluster;
        _served = servedShards;
        _relay = relay;
        _bookPath = bookPath;
        _logger = logger;
        Interval = interval ?? DefaultInterval;
    }

    public PeerBook Book { get; }

    public TimeSpan Interval { get; }

    public PeerTargets Targets => _targets;

    /// <summary>Rounds run since start (for tests and the figures).</summary>
    public long Rounds => Interlocked.Read(ref _rounds);
    long _rounds;

    public IReadOnlyList<ushort> RelayShards => _relay?.RelayShards ?? [];

    /// <summary>Peers in relay's mesh on the shard (0 while relay is off).</summary>
    public int MeshPeers(ushort shard) => _relay?.MeshPeers(shard) ?? 0;

    /// <summary>Reads the saved book (if a path was given), follows the host's connections, and starts the loop.</summary>
    public void Start()
    {
        _started = true;
        if (_bookPath is not null)
        {
            int restored = Book.Restore(PeerBookFile.Load(_bookPath));
            if (restored > 0) _logger.LogInformation("Peer book: {Peers} peers restored from {Path}", restored, _bookPath);
            _savedVersion = Book.Version;
        }
        _host.PeerConnected += OnConnected;
        _host.PeerIdentified += OnIdentified;
        _host.PeerDisconnected += OnDisconnected;
        foreach (var c in _host.Connections) OnConnected(c);
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
    }

    public bool Offer(DiscoveredPeer peer)
    {
        bool known = Book.Find(peer.Id) is not null;
        if (!Book.Offer(peer)) return false;
        if (!known) Wake();
        return true;
    }

    /// <summary>Runs a round now (a new peer was found, relay wants peers on a shard).</summary>
    public void Wake()
    {
        if (_wake.CurrentCount == 0) _wake.Release();
    }

    void OnConnected(Connection c) => Book.Connected(c.RemotePeer, c.IsInbound ? null : c.RemoteAddress);

    void OnIdentified(Connection c, IdentifyInfo info) => Book.Identified(c.RemotePeer, info.ListenAddresses, info.Protocols);

    void OnDisconnected(Connection c, string reason)
    {
        if (_host.FindConnection(c.RemotePeer) is null) Book.Disconnected(c.RemotePeer);
        Wake();
    }

    async Task RunAsync(CancellationToken ct)
    {
        var random = new Random();
        while (!ct.IsCancellationRequested)
        {
            int dialed = 0;
            try { dialed = await RoundAsync(random, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { break; }
            SaveIfChanged();
            try { await _wake.WaitAsync(dialed > 0 ? BusyInterval : Interval, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
        }
    }

    /// <summary>One round: plan, dial in parallel, prune. Returns the number of dials started.</summary>
    public async Task<int> RoundAsync(Random random, CancellationToken ct)
    {
        Interlocked.Increment(ref _rounds);
        var connected = _host.Connections.GroupBy(c => c.RemotePeer).Select(g => new ConnectedPeer(g.Key, g.All(c => c.IsInbound))).ToList();
        var plan = ConnectivityPlan.Make(Book.Snapshot(), connected, _targets, _cluster, _served, RelayShards, Book.MayDial, random);
        foreach (var peer in plan.Prune)
        {
            if (_host.FindConnection(peer) is { } c)
            {
                _logger.LogInformation("Peer manager: disconnecting {Peer}, inbound relay peers above the target", peer);
                _ = c.CloseAsync("inbound relay peers above the target");
            }
        }
        if (plan.Dial.Count == 0) return 0;
        await Task.WhenAll(plan.Dial.Select(e => DialAsync(e, ct))).ConfigureAwait(false);
        return plan.Dial.Count;
    }

    async Task DialAsync(PeerBookEntry entry, CancellationToken ct)
    {
        string? failure = null;
        foreach (var address in entry.Addresses)
        {
            try
            {
                await _host.DialAsync(address.WithPeerId(entry.Id), ct).ConfigureAwait(false);
                Dials.Add(1, new KeyValuePair<string, object?>("outcome", "connected"));
                return;
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is IOException or TimeoutException or System.Net.Sockets.SocketException
                or UnsupportedTransportException or FormatException or OperationCanceledException or InvalidOperationException)
            {
                failure = e.Message;
            }
        }
        if (ct.IsCancellationRequested) return;
        Book.DialFailed(entry.Id);
        Dials.Add(1, new KeyValuePair<string, object?>("outcome", "failed"));
        var after = Book.Find(entry.Id);
        _logger.LogInformation("Peer manager: dial of {Peer} failed ({Reason}); {Failures} failure(s), next in {Seconds:0} s", entry.Id, failure,
            after?.Failures, Book.Backoff.Delay(after?.Failures ?? 0).TotalSeconds);
    }

    /// <summary>Writes the book if it changed since the last write (every round and at stop).</summary>
    public void SaveIfChanged()
    {
        if (_bookPath is null || !_started) return; // never overwrite the file with a book that was not read from it
        long version = Book.Version;
        if (version == Interlocked.Read(ref _savedVersion)) return;
        try
        {
            PeerBookFile.Save(_bookPath, Book.Snapshot());
            Interlocked.Exchange(ref _savedVersion, version);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Peer book not saved to {Path}: {Reason}", _bookPath, e.Message);
        }
    }

    /// <summary>Peers by capability and source, known and connected: the figures and the gauges read this.</summary>
    public PeerCounts Counts()
    {
        var entries = Book.Snapshot();
        var connected = _host.Connections.Select(c => c.RemotePeer).ToHashSet();
        return PeerCounts.Of(entries, connected, RelayShards, _cluster);
    }

    /// <summary>Stops the loop and saves the book; once (the node's service stops it, the container disposes it again).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _host.PeerConnected -= OnConnected;
        _host.PeerIdentified -= OnIdentified;
        _host.PeerDisconnected -= OnDisconnected;
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null) await _loop.ConfigureAwait(false);
        SaveIfChanged();
        _stopping.Dispose();
        _wake.Dispose();
    }
}
