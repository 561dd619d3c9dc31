using IPAddress = System.Net.IPAddress;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StoreSync.Core.Wire;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identify;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Pubsub.Pb;

namespace StoreSync.Libp2p.Pubsub;

/// <summary>
/// Gossipsub v1.1 (libp2p/specs pubsub/gossipsub/gossipsub-v1.1.md) on a <see cref="Libp2pHost"/>: mesh with GRAFT/PRUNE
/// and backoff, heartbeat, fanout, message cache with IHAVE/IWANT, seen cache, flood publishing, peer exchange and
/// peer scoring. Knows topics and bytes only; the options carry the message-id function and parameters.
/// </summary>
/// <remarks>
/// One lock guards the router's state (peers, mesh, fanout, caches, scores); nothing awaits under it. Each peer's RPCs
/// are read and handled in order by that peer's inbound stream loop; validators run outside the lock; frames to peers
/// are queued (<see cref="PubsubPeer"/>), so no peer's slowness reaches another's loop.
/// </remarks>
public sealed partial class GossipsubRouter : IPubsub, IAsyncDisposable
{
    /// <summary>Most topics one peer may announce; further subscriptions are ignored.</summary>
    public const int MaxTopicsPerPeer = 1024;

    /// <summary>Most subscription changes, messages or control entries taken from one RPC; the rest is ignored.</summary>
    public const int MaxEntriesPerRpc = 5000;

    readonly Libp2pHost _host;
    readonly GossipsubOptions _options;
    readonly ILogger _log;
    readonly Lock _gate = new();
    readonly CancellationTokenSource _stop = new();
    readonly Dictionary<PeerId, PubsubPeer> _peers = [];
    readonly HashSet<string> _topics = new(StringComparer.Ordinal);
    readonly Dictionary<string, HashSet<PubsubPeer>> _mesh = new(StringComparer.Ordinal);
    readonly Dictionary<string, HashSet<PubsubPeer>> _fanout = new(StringComparer.Ordinal);
    readonly Dictionary<string, long> _fanoutPublishedMs = new(StringComparer.Ordinal);
    readonly Dictionary<(string Topic, PeerId Peer), long> _backoffUntilMs = [];
    readonly Dictionary<string, TopicValidator> _validators = new(StringComparer.Ordinal);
    readonly Dictionary<ulong, List<(PeerId Peer, long DeadlineMs)>> _promises = [];
    readonly SeenCache _seen;
    readonly MessageCache _mcache;
    readonly PeerScore _score;
    Task? _heartbeat;
    long _heartbeats;
    long _lastDecayMs;
    long _received, _accepted, _ignored, _rejected, _duplicates, _framesSent, _bytesReceived, _bytesSent, _graylisted, _iwantIds;

    public GossipsubRouter(Libp2pHost host, GossipsubOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentOutOfRangeException.ThrowIfZero(options.ProtocolIds.Count);
        _host = host;
        _options = options;
        _log = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<GossipsubRouter>();
        _seen = new SeenCache(options.SeenCacheCapacity, options.SeenTtl);
        _mcache = new MessageCache(options.HistoryLength, options.HistoryGossip, options.MessageCacheMaxBytes);
        _score = new PeerScore(options.Score);
    }

    public GossipsubOptions Options => _options;

    /// <inheritdoc />
    public event Action<PubsubMessage>? MessageDelivered;

    /// <summary>Peer ids received in a PRUNE's peer exchange from a peer above the accept-PX threshold (dialled if their addresses are known).</summary>
    public event Action<IReadOnlyList<PeerId>>? PeersExchanged;

    /// <summary>Registers the protocol handlers and host events, adopts already connected peers and starts the heartbeat.</summary>
    public void Start()
    {
        foreach (var protocol in _options.ProtocolIds) _host.SetStreamHandler(protocol, HandleInboundStreamAsync);
        _host.PeerIdentified += OnPeerIdentified;
        _host.PeerDisconnected += OnPeerDisconnected;
        foreach (var connection in _host.Connections)
            if (connection.RemoteIdentify is { } info) OnPeerIdentified(connection, info);
        _lastDecayMs = NowMs;
        _heartbeat = Task.Run(() => HeartbeatLoopAsync(_stop.Token));
    }

    /// <inheritdoc />
    public IReadOnlyCollection<string> Subscriptions
    {
        get { lock (_gate) return [.. _topics]; }
    }

    /// <inheritdoc />
    public IReadOnlyCollection<PeerId> MeshPeers(string topic)
    {
        lock (_gate) return _mesh.TryGetValue(topic, out var mesh) ? [.. mesh.Select(p => p.Id)] : [];
    }

    /// <inheritdoc />
    public IReadOnlyCollection<PeerId> TopicPeers(string topic)
    {
        lock (_gate) return [.. _peers.Values.Where(p => p.Ready && p.Topics.Contains(topic)).Select(p => p.Id)];
    }

    /// <summary>Peers with an open outbound pubsub stream.</summary>
    public IReadOnlyCollection<PeerId> Peers
    {
        get { lock (_gate) return [.. _peers.Values.Where(p => p.Ready).Select(p => p.Id)]; }
    }

    /// <summary>The peer's current score (0 for a peer never seen).</summary>
    public double Score(PeerId peer)
    {
        lock (_gate) return _score.Score(peer, NowMs);
    }

    /// <summary>Peers whose score is below the graylist threshold now: connected ones (their RPCs are ignored) and
    /// disconnected ones whose score is kept for the retain time (a reconnect starts graylisted).</summary>
    public int GraylistedPeers
    {
        get { lock (_gate) return _score.CountBelow(_options.Thresholds.GraylistThreshold, NowMs); }
    }

    /// <summary>Sets P5, the application's own score of a peer (weighted by <see cref="PeerScoreParams.AppSpecificWeight"/>).</summary>
    public void SetApplicationScore(PeerId peer, double score)
    {
        lock (_gate) _score.SetApplicationScore(peer, score);
    }

    public GossipsubCounters Counters => new(
        Interlocked.Read(ref _received), Interlocked.Read(ref _accepted), Interlocked.Read(ref _ignored),
        Interlocked.Read(ref _rejected), Interlocked.Read(ref _duplicates), Interlocked.Read(ref _framesSent),
        DroppedFrames(), Interlocked.Read(ref _bytesReceived), Interlocked.Read(ref _bytesSent), Interlocked.Read(ref _graylisted),
        Interlocked.Read(ref _iwantIds));

    /// <summary>Entries and bytes the seen cache and the message cache hold now.</summary>
    public (int SeenIds, long SeenBytes, int CachedMessages, long CachedBytes) CacheSizes
    {
        get { lock (_gate) return (_seen.Count, _seen.Bytes, _mcache.Count, _mcache.Bytes); }
    }

    /// <inheritdoc />
    public void SetValidator(string topic, TopicValidator? validator)
    {
        lock (_gate)
        {
            if (validator is null) _validators.Remove(topic);
            else _validators[topic] = validator;
        }
    }

    /// <inheritdoc />
    public void Subscribe(string topic)
    {
        lock (_gate)
        {
            if (!_topics.Add(topic)) return;
            Broadcast(RpcFrames.Subscriptions([topic], subscribe: true));
            // Join (gossipsub-v1.0.md): start from the fanout peers if we published to the topic, then fill up to D.
            var mesh = new HashSet<PubsubPeer>();
            if (_fanout.Remove(topic, out var fanout))
                foreach (var p in fanout)
                    if (p.Score >= 0 && !InBackoff(topic, p.Id)) mesh.Add(p);
            _fanoutPublishedMs.Remove(topic);
            _mesh[topic] = mesh;
            if (mesh.Count < _options.D)
                foreach (var p in Shuffled(Candidates(topic, mesh, p => p.Score >= 0 && !InBackoff(topic, p.Id))).Take(_options.D - mesh.Count))
                    mesh.Add(p);
            long now = NowMs;
            foreach (var p in mesh)
            {
                _score.Graft(p.Id, topic, now);
                SendControl(p, new ControlMessage { Graft = { new ControlGraft { TopicID = topic } } });
            }
        }
    }

    /// <inheritdoc />
    public void Unsubscribe(string topic)
    {
        lock (_gate)
        {
            if (!_topics.Remove(topic)) return;
            Broadcast(RpcFrames.Subscriptions([topic], subscribe: false));
            if (!_mesh.Remove(topic, out var mesh)) return;
            foreach (var p in mesh)
            {
                _score.Prune(p.Id, topic);
                SendControl(p, new ControlMessage { Prune = { MakePrune(topic, p, _options.UnsubscribeBackoff, peerExchange: true) } });
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask<int> PublishAsync(string topic, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        if (data.Length > _options.MaxMessageSize)
            throw new PubsubPublishException(topic, $"{data.Length} bytes exceed the maximum message size of {_options.MaxMessageSize}");
        if (!_options.MessageId(topic, data.Span, out var id)) throw new PubsubPublishException(topic, "the message-id function refused the data");
        ulong key = SeenCache.KeyOf(id);
        CachedMessage entry;
        TopicValidator? validator;
        lock (_gate)
        {
            if (!_seen.TryAdd(key, NowMs)) throw new PubsubPublishException(topic, "duplicate (this message was already seen)");
            entry = new CachedMessage(id, key, topic, NowMs, _host.PeerId);
            _mcache.Add(entry);
            validator = _validators.GetValueOrDefault(topic);
        }
        var message = new PubsubMessage(topic, data, id, _host.PeerId);
        var result = validator is null ? ValidationResult.Accept : await RunValidatorAsync(validator, message, ct).ConfigureAwait(false);
        if (result != ValidationResult.Accept)
        {
            lock (_gate) entry.Status = result == ValidationResult.Reject ? DeliveryStatus.Invalid : DeliveryStatus.Ignored;
            throw new PubsubPublishException(topic, result == ValidationResult.Reject ? "rejected by the validator" : "ignored by the validator");
        }
        var frame = RpcFrames.Publish(topic, data.Span);
        int sent = 0;
        bool deliver;
        lock (_gate)
        {
            entry.Status = DeliveryStatus.Valid;
            _mcache.SetFrame(entry, frame);
            deliver = _topics.Contains(topic);
            foreach (var p in PublishTargets(topic))
                if (SendFrame(p, frame)) sent++;
        }
        if (deliver) Deliver(message);
        return sent;
    }

    /// <summary>Peers our own message goes to: every topic peer above the publish threshold (flood publish), else the mesh or fanout.</summary>
    List<PubsubPeer> PublishTargets(string topic)
    {
        double threshold = _options.Thresholds.PublishThreshold;
        if (_options.FloodPublish) return Candidates(topic, null, p => p.Score >= threshold);
        if (_mesh.TryGetValue(topic, out var mesh)) return [.. mesh];
        if (!_fanout.TryGetValue(topic, out var fanout))
        {
            fanout = [.. Shuffled(Candidates(topic, null, p => p.Score >= threshold)).Take(_options.D)];
            _fanout[topic] = fanout;
        }
        _fanoutPublishedMs[topic] = NowMs;
        return [.. fanout];
    }

    async ValueTask<ValidationResult> RunValidatorAsync(TopicValidator validator, PubsubMessage message, CancellationToken ct)
    {
        try
        {
            return await validator(message, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A validator that throws has not judged the message: ignore it (no penalty for the sender), and say so.
            _log.LogWarning(e, "Pubsub validator for {Topic} threw; message ignored", message.Topic);
            return ValidationResult.Ignore;
        }
    }

    void Deliver(PubsubMessage message)
    {
        try
        {
            MessageDelivered?.Invoke(message);
        }
        catch (Exception e)
        {
            _log.LogWarning(e, "A pubsub subscriber threw on a message of {Topic}", message.Topic);
        }
    }

    void OnPeerIdentified(Connection connection, IdentifyInfo info)
    {
        foreach (var protocol in _options.ProtocolIds)
        {
            if (!info.Protocols.Contains(protocol)) continue;
            EnsurePeer(connection);
            return;
        }
    }

    void OnPeerDisconnected(Connection connection, string reason)
    {
        if (_host.FindConnection(connection.RemotePeer) is not null) return;
        PubsubPeer? peer;
        lock (_gate) peer = _peers.GetValueOrDefault(connection.RemotePeer);
        if (peer is not null) RemovePeer(peer, "disconnected: " + reason);
    }

    /// <summary>The peer's state, created (and its outbound stream opened) on first sight.</summary>
    PubsubPeer EnsurePeer(Connection connection)
    {
        PubsubPeer peer;
        lock (_gate)
        {
            if (_peers.TryGetValue(connection.RemotePeer, out var known)) return known;
            peer = new PubsubPeer(connection.RemotePeer, connection, _options.MaxQueuedFramesPerPeer);
            _peers[peer.Id] = peer;
            _score.AddPeer(peer.Id, IpOf(connection.RemoteAddress));
            peer.Score = _score.Score(peer.Id, NowMs);
        }
        _ = Task.Run(() => RunOutboundAsync(peer));
        return peer;
    }

    async Task RunOutboundAsync(PubsubPeer peer)
    {
        var ct = _stop.Token;
        Libp2pStream? stream = null;
        string reason = "outbound stream ended";
        try
        {
            stream = await peer.Connection.NewStreamAsync(_options.ProtocolIds, ct).ConfigureAwait(false);
            lock (_gate)
            {
                if (!_peers.ContainsKey(peer.Id)) return;
                peer.Protocol = stream.Protocol;
                peer.Ready = true;
                // The first frame of a stream announces all our subscriptions (pubsub/README.md).
                if (_topics.Count > 0) SendFrame(peer, RpcFrames.Subscriptions(_topics, subscribe: true));
            }
            await peer.WriteLoopAsync(stream, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            reason = "outbound stream failed: " + e.Message;
        }
        finally
        {
            stream?.Reset();
        }
        RemovePeer(peer, reason);
    }

    void RemovePeer(PubsubPeer peer, string reason)
    {
        lock (_gate)
        {
            if (!_peers.TryGetValue(peer.Id, out var current) || current != peer) return;
            _peers.Remove(peer.Id);
            peer.Ready = false;
            foreach (var mesh in _mesh.Values) mesh.Remove(peer);
            foreach (var fanout in _fanout.Values) fanout.Remove(peer);
            _score.RemovePeer(peer.Id, NowMs);
        }
        peer.Complete();
        _log.LogDebug("Pubsub peer {Peer} removed: {Reason}", peer.Id, reason);
    }

    async Task HandleInboundStreamAsync(Libp2pStream stream, CancellationToken ct)
    {
        var peer = EnsurePeer(stream.Connection);
        lock (_gate) peer.HasInbound = true;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _stop.Token);
        using var reader = new RpcFrameReader(stream, _options.MaxRpcSize);
        try
        {
            for (long frames = 0; frames < long.MaxValue; frames++)
            {
                var frame = await reader.ReadAsync(linked.Token).ConfigureAwait(false);
                if (frame is null) return;
                Interlocked.Add(ref _bytesReceived, frame.Value.Length);
                var rpc = RpcFrameReader.Decode(frame.Value.Span);
                await HandleRpcAsync(peer, rpc, linked.Token).ConfigureAwait(false);
            }
        }
        catch (ProtocolViolationException e)
        {
            // An oversized or malformed frame: the stream cannot be resynchronised, so it ends, and the peer pays P7.
            lock (_gate)
            {
                _score.AddPenalty(peer.Id, 1);
                Rescore(peer);
            }
            _log.LogDebug("Pubsub stream of {Peer} reset: {Reason}", peer.Id, e.Reason);
            throw;
        }
    }

    void Broadcast(byte[] frame)
    {
        foreach (var p in _peers.Values)
            if (p.Ready) SendFrame(p, frame);
    }

    bool SendFrame(PubsubPeer peer, byte[] frame)
    {
        if (!peer.Send(frame)) return false;
        Interlocked.Increment(ref _framesSent);
        Interlocked.Add(ref _bytesSent, frame.Length);
        return true;
    }

    void SendControl(PubsubPeer peer, ControlMessage control)
    {
        if (peer.Ready) SendFrame(peer, RpcFrames.Control(control));
    }

    /// <summary>Ready peers subscribed to the topic, not in <paramref name="exclude"/>, that pass <paramref name="filter"/>.</summary>
    List<PubsubPeer> Candidates(string topic, HashSet<PubsubPeer>? exclude, Func<PubsubPeer, bool> filter)
    {
        var list = new List<PubsubPeer>();
        foreach (var p in _peers.Values)
            if (p.Ready && p.Topics.Contains(topic) && (exclude is null || !exclude.Contains(p)) && filter(p)) list.Add(p);
        return list;
    }

    static List<T> Shuffled<T>(List<T> list)
    {
        Random.Shared.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list));
        return list;
    }

    bool InBackoff(string topic, PeerId peer) => _backoffUntilMs.TryGetValue((topic, peer), out long until) && until > NowMs;

    void Rescore(PubsubPeer peer) => peer.Score = _score.Score(peer.Id, NowMs);

    long DroppedFrames()
    {
        lock (_gate) return _peers.Values.Sum(p => p.DroppedFrames);
    }

    long NowMs => _options.Time.GetUtcNow().ToUnixTimeMilliseconds();

    static IPAddress? IpOf(Multiaddr address)
    {
        foreach (var c in address.Components)
            if (c.Protocol == MultiaddrProtocol.Ip4 || c.Protocol == MultiaddrProtocol.Ip6) return new IPAddress(c.Value.Span);
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        _host.PeerIdentified -= OnPeerIdentified;
        _host.PeerDisconnected -= OnPeerDisconnected;
        foreach (var protocol in _options.ProtocolIds) _host.RemoveStreamHandler(protocol);
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_heartbeat is not null) await _heartbeat.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        List<PubsubPeer> peers;
        lock (_gate) peers = [.. _peers.Values];
        foreach (var p in peers) p.Complete();
        _stop.Dispose();
    }
}
