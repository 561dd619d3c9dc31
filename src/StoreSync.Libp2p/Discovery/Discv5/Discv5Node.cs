using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Discovery.Discv5;

/// <summary>
/// A discv5 node (discv5-theory.md): a UDP socket, the session layer, requests matched to responses by request id with
/// timeouts and retries, a Kademlia table kept alive by PING, iterative and random-walk lookups. Generic: what a
/// discovered node is good for is the caller's predicate.
/// </summary>
public sealed class Discv5Node : IAsyncDisposable
{
    readonly Secp256k1IdentityKey _key;
    readonly Discv5Options _options;
    readonly ILogger _logger;
    readonly Socket _socket;
    readonly SessionLayer _sessions;
    readonly Dictionary<ulong, PendingRequest> _pending = [];
    readonly SemaphoreSlim _requestSlots = new(Discv5Limits.MaxPendingRequests);
    readonly Dictionary<NodeId, ulong> _announced = [];
    readonly Lock _gate = new();
    readonly CancellationTokenSource _stop = new();
    readonly Task _receiving;
    readonly Task _maintaining;
    EnrRecord _localRecord;
    long _invalidRecords, _distanceMismatches, _unexpectedResponses;

    Discv5Node(Secp256k1IdentityKey key, Discv5Options options, ILogger logger, Socket socket)
    {
        _key = key;
        _options = options;
        _logger = logger;
        _socket = socket;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        var builder = new EnrBuilder { Seq = (ulong)options.Time.GetUtcNow().ToUnixTimeMilliseconds() };
        // A restart must publish a newer record than any peer holds, so the first sequence number is the clock's.
        var advertised = options.AdvertisedAddress ?? (options.ListenAddress.Equals(IPAddress.Any) || options.ListenAddress.Equals(IPAddress.IPv6Any) ? null : options.ListenAddress);
        if (advertised is not null) builder.SetIp(advertised);
        // EIP-778: udp6 and tcp6 are the ports of ip6; a node that advertises only ip6 says so with them, not udp and tcp.
        if (advertised is { AddressFamily: AddressFamily.InterNetworkV6, IsIPv4MappedToIPv6: false })
        {
            builder.SetUdp6((ushort)LocalEndPoint.Port);
            if (options.TcpPort is { } tcp6) builder.SetTcp6(tcp6);
        }
        else
        {
            builder.SetUdp((ushort)LocalEndPoint.Port);
            if (options.TcpPort is { } tcp) builder.SetTcp(tcp);
        }
        options.ConfigureRecord?.Invoke(builder);
        _localRecord = builder.Sign(key);
        Table = new KademliaTable(_localRecord.NodeId);
        _sessions = new SessionLayer(socket, key.PrivateKeyBytes, _localRecord.NodeId, () => LocalRecord, id => Table.Get(id), options.Time);
        // In the table before anything runs, so a lookup made right after Start has somewhere to begin.
        foreach (var boot in options.BootstrapNodes) Learn(boot);
        _sessions.MessageReceived += OnMessage;
        _sessions.SessionEstablished += OnSessionEstablished;
        _receiving = Task.Run(() => _sessions.RunAsync(_stop.Token));
        _maintaining = Task.Run(() => MaintainAsync(_stop.Token));
    }

    /// <summary>Binds the UDP socket and starts receiving, table maintenance and the bootstrap.</summary>
    /// <exception cref="ArgumentException">The key is not secp256k1 (discv5's v4 identity scheme needs one).</exception>
    public static Discv5Node Start(IdentityKey key, Discv5Options options, ILogger? logger = null)
    {
        if (key is not Secp256k1IdentityKey secp) throw new ArgumentException($"discv5 needs a secp256k1 identity key, not {key.Type}", nameof(key));
        var socket = new Socket(options.ListenAddress.AddressFamily, SocketType.Dgram, ProtocolType.Udp)
        {
            // Bursts (a lookup's answers, a flood) should be dropped by the rate limiter, which counts them, not the kernel.
            ReceiveBufferSize = Discv5Limits.SocketReceiveBufferSize,
        };
        try
        {
            // "::" listens on IPv4 too (mapped addresses, which the session layer turns back into IPv4).
            if (options.ListenAddress.Equals(IPAddress.IPv6Any)) socket.DualMode = true;
            socket.Bind(new IPEndPoint(options.ListenAddress, options.Port));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new Discv5Node(secp, options, logger ?? NullLogger.Instance, socket);
    }

    /// <summary>The record's UDP endpoint this socket can send to: its IPv4 one on an IPv4 socket, its IPv6 one on an IPv6
    /// socket, either (IPv4 first) on a dual-mode one.</summary>
    public IPEndPoint? EndPointOf(EnrRecord record)
    {
        var v4 = record.Ip is { } ip && record.Udp is { } port ? new IPEndPoint(ip, port) : null;
        if (_socket.AddressFamily == AddressFamily.InterNetwork) return v4;
        var v6 = record.Ip6 is { } ip6 && (record.Udp6 ?? record.Udp) is { } port6 ? new IPEndPoint(ip6, port6) : null;
        return _socket.DualMode ? v4 ?? v6 : v6;
    }

    public EnrRecord LocalRecord
    {
        get { lock (_gate) return _localRecord; }
    }

    public NodeId LocalId => Table.LocalId;

    public IPEndPoint LocalEndPoint { get; }

    public KademliaTable Table { get; }

    /// <summary>A node was learned (from NODES or a handshake) or its record got a newer sequence number; raised once per (id, seq).</summary>
    public event Action<EnrRecord>? NodeDiscovered;

    /// <summary>Datagrams dropped for <paramref name="reason"/> since start.</summary>
    public long Dropped(PacketDropReason reason) => reason switch
    {
        PacketDropReason.UnexpectedResponse => Interlocked.Read(ref _unexpectedResponses),
        _ => _sessions.Dropped(reason),
    };

    /// <summary>Records refused from NODES answers: malformed or badly signed, and those at a distance that was not asked.</summary>
    public (long Invalid, long WrongDistance) RefusedRecords => (Interlocked.Read(ref _invalidRecords), Interlocked.Read(ref _distanceMismatches));

    public int SessionCount => _sessions.SessionCount;

    /// <summary>Re-signs the local record with <paramref name="change"/> applied and its sequence number bumped; peers learn it by PING.</summary>
    public EnrRecord UpdateLocalRecord(Action<EnrBuilder> change)
    {
        lock (_gate)
        {
            var builder = EnrBuilder.From(_localRecord);
            change(builder);
            return _localRecord = builder.Sign(_key);
        }
    }

    public async Task<PongMessage> PingAsync(EnrRecord node, CancellationToken ct)
    {
        var responses = await RequestAsync(node, id => new PingMessage(id, LocalRecord.Seq), 0x02, ct).ConfigureAwait(false);
        var pong = (PongMessage)responses[0];
        Table.Add(node, seenAlive: true);
        if (pong.EnrSeq > node.Seq) _ = RefreshRecordAsync(node);
        return pong;
    }

    /// <summary>Asks <paramref name="node"/> for the nodes at <paramref name="distances"/> from itself; every record returned is verified and must lie at one of them.</summary>
    public async Task<List<EnrRecord>> FindNodeAsync(EnrRecord node, IReadOnlyList<int> distances, CancellationToken ct)
    {
        var responses = await RequestAsync(node, id => new FindNodeMessage(id, distances), 0x04, ct).ConfigureAwait(false);
        var found = new List<EnrRecord>();
        foreach (var raw in responses.Cast<NodesMessage>().SelectMany(m => m.Records))
        {
            if (!EnrRecord.TryDecode(raw, out var record, out _))
            {
                Interlocked.Increment(ref _invalidRecords);
                continue;
            }
            if (!distances.Contains(NodeId.LogDistance(record!.NodeId, node.NodeId)))
            {
                Interlocked.Increment(ref _distanceMismatches);
                continue;
            }
            if (found.Count < Discv5Limits.MaxNodesPerResponse * MessageCodec.MaxNodesTotal) found.Add(record);
        }
        Table.Add(node, seenAlive: true);
        foreach (var record in found) Learn(record);
        return found;
    }

    /// <summary>An iterative lookup (alpha 3) for the nodes closest to <paramref name="target"/>; ends within the lookup timeout and query limit.</summary>
    public async Task<List<EnrRecord>> LookupAsync(NodeId target, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.LookupTimeout);
        var candidates = Table.Closest(target, Discv5Limits.LookupResults).ToDictionary(r => r.NodeId);
        var asked = new HashSet<NodeId>();
        var failed = new HashSet<NodeId>();
        int queries = 0;
        while (queries < Discv5Limits.MaxLookupQueries && !timeout.IsCancellationRequested)
        {
            var batch = Closest(candidates.Values, target, failed).Where(r => !asked.Contains(r.NodeId))
                .Take(Discv5Limits.LookupParallelism).ToList();
            if (batch.Count == 0) break;
            asked.UnionWith(batch.Select(r => r.NodeId));
            queries += batch.Count;
            var answers = await Task.WhenAll(batch.Select(r => TryFindNodeAsync(r, LookupDistances(target, r.NodeId), timeout.Token))).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            for (int i = 0; i < batch.Count; i++)
            {
                if (answers[i] is not { } found)
                {
                    failed.Add(batch[i].NodeId);
                    continue;
                }
                foreach (var record in found)
                    if (record.NodeId != LocalId && (!candidates.TryGetValue(record.NodeId, out var known) || known.Seq < record.Seq))
                        candidates[record.NodeId] = record;
            }
        }
        return Closest(candidates.Values, target, failed).ToList();
    }

    /// <summary>
    /// Discovered nodes that pass <paramref name="filter"/>, as they are found: first those in the table, then what
    /// random walks find, until cancelled. Walks back off while they find nothing new.
    /// </summary>
    public async IAsyncEnumerable<EnrRecord> DiscoverAsync(Func<EnrRecord, bool>? filter, [EnumeratorCancellation] CancellationToken ct)
    {
        var found = Channel.CreateBounded<EnrRecord>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest });
        void OnFound(EnrRecord record)
        {
            if (filter?.Invoke(record) ?? true) found.Writer.TryWrite(record);
        }
        using var walking = CancellationTokenSource.CreateLinkedTokenSource(ct);
        NodeDiscovered += OnFound;
        var walker = Task.Run(() => WalkAsync(walking.Token), CancellationToken.None);
        try
        {
            foreach (var record in Table.All())
                if (filter?.Invoke(record) ?? true) yield return record;
            await foreach (var record in found.Reader.ReadAllAsync(ct).ConfigureAwait(false)) yield return record;
        }
        finally
        {
            NodeDiscovered -= OnFound;
            await walking.CancelAsync().ConfigureAwait(false);
            await walker.ConfigureAwait(false);
        }
    }

    /// <summary>Up to <paramref name="count"/> nodes passing <paramref name="filter"/>: the table's, then random walks', within <paramref name="ct"/>.</summary>
    public async Task<List<EnrRecord>> FindPeersAsync(Func<EnrRecord, bool>? filter, int count, CancellationToken ct)
    {
        var result = new Dictionary<NodeId, EnrRecord>();
        try
        {
            await foreach (var record in DiscoverAsync(filter, ct).ConfigureAwait(false))
            {
                result[record.NodeId] = record;
                if (result.Count >= count) break;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        return [.. result.Values];
    }

    static IEnumerable<EnrRecord> Closest(IEnumerable<EnrRecord> records, NodeId target, HashSet<NodeId> failed) =>
        records.Where(r => !failed.Contains(r.NodeId)).OrderBy(r => NodeId.Xor(r.NodeId, target)).Take(Discv5Limits.LookupResults);

    /// <summary>The target's distance from the node asked, and its neighbours (as go-ethereum asks: d, d+1, d-1, …).</summary>
    internal static List<int> LookupDistances(NodeId target, NodeId asked)
    {
        int d = NodeId.LogDistance(target, asked);
        var distances = new List<int> { d };
        for (int i = 1; distances.Count < Discv5Limits.LookupDistances && i <= Discv5Limits.BucketCount; i++)
        {
            if (d + i <= Discv5Limits.BucketCount) distances.Add(d + i);
            if (d - i > 0 && distances.Count < Discv5Limits.LookupDistances) distances.Add(d - i);
        }
        return distances;
    }

    async Task<List<EnrRecord>?> TryFindNodeAsync(EnrRecord node, List<int> distances, CancellationToken ct)
    {
        try { return await FindNodeAsync(node, distances, ct).ConfigureAwait(false); }
        catch (Discv5Exception) { return null; }
        catch (OperationCanceledException) { return null; }
    }

    async Task<List<Discv5Message>> RequestAsync(EnrRecord node, Func<byte[], Discv5Message> make, byte responseType, CancellationToken ct)
    {
        var endPoint = EndPointOf(node) ?? throw new Discv5Exception($"node {node.NodeId} has no UDP endpoint in its record that this socket reaches");
        if (node.NodeId == LocalId) throw new Discv5Exception("a node does not send requests to itself");
        await _requestSlots.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            for (int attempt = 0; attempt <= _options.RequestRetries; attempt++)
            {
                var id = new byte[8];
                RandomNumberGenerator.Fill(id);
                ulong key = BinaryPrimitives.ReadUInt64BigEndian(id);
                var pending = new PendingRequest(new NodeAddress(node.NodeId, endPoint), responseType);
                lock (_gate) _pending[key] = pending;
                try
                {
                    _sessions.SendRequest(node, endPoint, make(id));
                    return await pending.Task.WaitAsync(_options.RequestTimeout, _options.Time, ct).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // Some NODES parts arrived but not all: what came is verified like the rest, so it is worth keeping.
                    if (pending.Partial() is { Count: > 0 } partial) return partial;
                }
                finally
                {
                    lock (_gate) _pending.Remove(key);
                }
            }
            throw new Discv5TimeoutException($"no answer from {node.NodeId} at {endPoint} after {_options.RequestRetries + 1} attempts");
        }
        finally
        {
            _requestSlots.Release();
        }
    }

    void OnMessage(NodeAddress from, EnrRecord record, Discv5Message message)
    {
        switch (message)
        {
            case PingMessage ping:
                _sessions.SendResponse(from, new PongMessage(ping.RequestId, LocalRecord.Seq, from.EndPoint.Address, (ushort)from.EndPoint.Port));
                if (ping.EnrSeq > record.Seq) _ = RefreshRecordAsync(record);
                break;
            case FindNodeMessage find:
                foreach (var nodes in NodesPacking.Split(find.RequestId, RecordsAt(find.Distances)))
                    _sessions.SendResponse(from, nodes);
                break;
            case TalkRequestMessage talk:
                // No application protocols run over TALKREQ here; an empty TALKRESP is the spec's "unknown protocol".
                _sessions.SendResponse(from, new TalkResponseMessage(talk.RequestId, []));
                break;
            default:
                PendingRequest? pending = null;
                if (message.RequestId.Length <= 8)
                {
                    Span<byte> wide = stackalloc byte[8];
                    message.RequestId.CopyTo(wide[(8 - message.RequestId.Length)..]);
                    lock (_gate) _pending.TryGetValue(BinaryPrimitives.ReadUInt64BigEndian(wide), out pending);
                }
                if (pending is null || !pending.Accept(from, message)) Interlocked.Increment(ref _unexpectedResponses);
                break;
        }
    }

    List<byte[]> RecordsAt(IReadOnlyList<int> distances)
    {
        var records = new List<byte[]>();
        foreach (int d in distances.Distinct())
        {
            var atDistance = d == 0 ? [LocalRecord] : Table.AtDistance(d);
            foreach (var record in atDistance)
            {
                if (records.Count >= Discv5Limits.MaxNodesPerResponse) return records;
                records.Add(record.ToArray());
            }
        }
        return records;
    }

    void OnSessionEstablished(EnrRecord record, IPEndPoint from)
    {
        // Only a node reachable where its record says goes in the table: others could not be found by anyone through us.
        bool reachable = EndPointOf(record) is { } advertised && advertised.Equals(from);
        if (reachable) Learn(record, seenAlive: true);
    }

    void Learn(EnrRecord record, bool seenAlive = false)
    {
        if (record.NodeId == LocalId || EndPointOf(record) is null) return;
        var result = Table.Add(record, seenAlive);
        if (result == KademliaTable.AddResult.BucketFull && Table.LeastRecentlySeen(record) is { } oldest) _ = CheckAliveAsync(oldest);
        lock (_gate)
        {
            if (_announced.TryGetValue(record.NodeId, out ulong seq) && seq >= record.Seq) return;
            if (_announced.Count >= Discv5Limits.MaxAnnouncedNodes) _announced.Clear();
            _announced[record.NodeId] = record.Seq;
        }
        try { NodeDiscovered?.Invoke(record); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _logger.LogWarning(e, "discv5: a NodeDiscovered handler failed for {NodeId}", record.NodeId);
        }
    }

    async Task RefreshRecordAsync(EnrRecord node)
    {
        try
        {
            var self = await FindNodeAsync(node, [0], _stop.Token).ConfigureAwait(false);
            if (self.Find(r => r.NodeId == node.NodeId) is { } fresh) Learn(fresh, seenAlive: true);
        }
        catch (Exception e) when (e is Discv5Exception or OperationCanceledException) { }
    }

    async Task CheckAliveAsync(EnrRecord node)
    {
        try { await PingAsync(node, _stop.Token).ConfigureAwait(false); }
        catch (Discv5Exception)
        {
            Table.Remove(node.NodeId);
        }
        catch (OperationCanceledException) { }
    }

    async Task MaintainAsync(CancellationToken ct)
    {
        try
        {
            await Task.WhenAll(_options.BootstrapNodes.Select(b => CheckAliveAsync(b))).ConfigureAwait(false);
            await LookupAsync(LocalId, ct).ConfigureAwait(false);
            var lastRefresh = _options.Time.GetTimestamp();
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(_options.RevalidateInterval, _options.Time, ct).ConfigureAwait(false);
                if (Table.NextToRevalidate() is { } node) await CheckAliveAsync(node).ConfigureAwait(false);
                if (_options.Time.GetElapsedTime(lastRefresh) >= _options.RefreshInterval)
                {
                    await LookupAsync(RandomId(), ct).ConfigureAwait(false);
                    lastRefresh = _options.Time.GetTimestamp();
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }

    async Task WalkAsync(CancellationToken ct)
    {
        var pause = TimeSpan.FromMilliseconds(250);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                int before;
                lock (_gate) before = _announced.Count;
                await LookupAsync(RandomId(), ct).ConfigureAwait(false);
                int after;
                lock (_gate) after = _announced.Count;
                pause = after != before ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, _options.RefreshInterval.Ticks));
                await Task.Delay(pause, _options.Time, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }

    static NodeId RandomId()
    {
        Span<byte> bytes = stackalloc byte[NodeId.Length];
        RandomNumberGenerator.Fill(bytes);
        return new NodeId(bytes);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        await Task.WhenAll(_receiving, _maintaining).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        _sessions.Dispose();
        _stop.Dispose();
        _requestSlots.Dispose();
    }
}
