using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using StoreSync.Core;
using StoreSync.Libp2p.Bandwidth;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Reconciliation;
using StoreSync.Storage;
using StoreSync.Waku.Governor;

namespace StoreSync.Waku.Sync;

/// <summary>Pushes the messages a peer lacks over one <c>/vac/waku/transfer/1.0.0</c> stream, newest first within each batch.</summary>
/// <remarks>
/// Batches are queued as a session finds them (nwaku mode: frame by frame, because nwaku accepts pushes only while its session
/// runs) or all at once at its end (native mode: one batch, so the whole backlog goes strictly newest first and a node that is
/// far behind gets the present before the past). The stream is opened on the first message and closed by <see cref="CompleteAsync"/>.
/// Messages evicted since the session found them are skipped. With a session lease, each queued message is claimed for this
/// sender, the batch under one lock (<see cref="SyncSessions.SessionLease.ClaimPushes"/>): one another session with the peer already has on its way is
/// not queued again, so a later session during a long paced transfer does not send the backlog twice. Claims are given up
/// when the transfer stream ends (written frames may still be buffered at the peer until then).
/// </remarks>
public sealed class TransferSender : IAsyncDisposable
{
    readonly Libp2pHost _host;
    readonly MessageStore _store;
    readonly PeerId _peer;
    readonly SyncMetrics _metrics;
    readonly ILogger _logger;
    readonly int _maxItems;
    readonly Channel<List<SyncItem>> _batches = Channel.CreateUnbounded<List<SyncItem>>(new UnboundedChannelOptions { SingleReader = true });
    readonly CancellationTokenSource _stop;
    readonly Task _pump;
    int _queued;

    readonly Func<string, string, bool>? _maySync;
    readonly IResourceGovernor _governor;
    readonly SyncSessions.SessionLease? _lease;
    readonly HashSet<MessageHash> _claimed = [];
    readonly Lock _claimLock = new();

    /// <param name="maySync">Checked per message at send time (a community may be turned off mid-session); null lets all through.</param>
    public TransferSender(Libp2pHost host, MessageStore store, PeerId peer, SyncMetrics metrics, ILogger logger, int maxItems, CancellationToken ct,
        Func<string, string, bool>? maySync = null, IResourceGovernor? governor = null, SyncSessions.SessionLease? lease = null)
    {
        _lease = lease;
        _maySync = maySync;
        _governor = governor ?? UnlimitedGovernor.Instance;
        _host = host;
        _store = store;
        _peer = peer;
        _metrics = metrics;
        _logger = logger;
        _maxItems = maxItems;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _pump = Task.Run(() => PumpAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Messages written so far.</summary>
    public int Sent { get; private set; }

    /// <summary>Bytes written so far (frames with their length prefixes).</summary>
    public long BytesSent { get; private set; }

    /// <summary>Queues items to push, newest first; beyond the per-session cap the rest waits for the next sync.</summary>
    public void Enqueue(IEnumerable<SyncItem> items)
    {
        var batch = ClaimAll(items);
        if (batch.Count == 0) return;
        NewestFirst(CollectionsMarshal.AsSpan(batch));
        int take = Math.Min(batch.Count, Math.Max(0, _maxItems - _queued));
        if (take == 0) return;
        if (take < batch.Count) batch.RemoveRange(take, batch.Count - take);
        _queued += take;
        _batches.Writer.TryWrite(batch);
    }

    // Every item is claimed, those beyond the cap included (as before: they are released when the stream ends).
    List<SyncItem> ClaimAll(IEnumerable<SyncItem> items)
    {
        if (_lease is null) return [.. items];
        var claimed = new List<SyncItem>(items.TryGetNonEnumeratedCount(out int count) ? count : 0);
        lock (_claimLock) _lease.ClaimPushes(items, _claimed, claimed);
        return claimed;
    }

    // Sessions hand their items in ascending order (ToSend, then Offered): reversing is then enough; a sort only when not.
    static void NewestFirst(Span<SyncItem> items)
    {
        for (int i = 1; i < items.Length; i++)
            if (items[i - 1].CompareTo(items[i]) > 0)
            {
                items.Sort();
                break;
            }
        items.Reverse();
    }

    void Release(in MessageHash hash)
    {
        if (_lease is null) return;
        lock (_claimLock)
            if (_claimed.Remove(hash)) _lease.ReleasePush(hash);
    }

    void ReleaseAll()
    {
        if (_lease is null) return;
        lock (_claimLock)
        {
            _lease.ReleasePushes(_claimed);
            _claimed.Clear();
        }
    }

    /// <summary>Waits until every queued message is written, then half-closes the stream.</summary>
    public async Task CompleteAsync()
    {
        _batches.Writer.TryComplete();
        await _pump.ConfigureAwait(false);
    }

    /// <summary>Frames are gathered into writes of about this size: one yamux frame and one Noise frame carry many messages, and
    /// the peer's yamux window (its download limit holding reads back) bounds what is in flight.</summary>
    public const int WriteChunkBytes = 256 << 10;

    // The frames gathered for the next write, all of one (pubsub, content topic): pacing is by scope.
    byte[] _buffer = [];
    int _used, _frames;
    string? _pubsub, _content;

    // Each message travels as its stored bytes: read without a copy (StoredBytesReader), framed without parsing
    // (TransferProtocol.WriteStored) straight into the write buffer, many frames per write. History upload is charged to each
    // message's communities and the node, write by write.
    async Task PumpAsync(CancellationToken ct)
    {
        Libp2pStream? stream = null;
        ThrottledStream? paced = null;
        _buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(WriteChunkBytes);

        async Task FlushAsync()
        {
            if (_used == 0) return;
            stream ??= await _host.NewStreamAsync(_peer, TransferProtocol.ProtocolId, ct).ConfigureAwait(false);
            paced ??= new ThrottledStream(stream, BandwidthChain.Unlimited, BandwidthChain.Unlimited);
            paced.WriteChain = _governor.HistoryUpload(TrafficScope.Of(_pubsub!, _content!));
            await paced.WriteAsync(_buffer.AsMemory(0, _used), ct).ConfigureAwait(false);
            Sent += _frames;
            BytesSent += _used;
            _metrics.ItemsSent.Add(_frames);
            _metrics.Bytes.Add(_used, SyncMetrics.Tag("protocol", "transfer"), SyncMetrics.Tag("direction", "out"));
            _used = _frames = 0;
        }

        try
        {
            await foreach (var batch in _batches.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                for (int next = 0; next < batch.Count;)
                {
                    next = Gather(batch, next);
                    await FlushAsync().ConfigureAwait(false);
                }
            }
            if (stream is not null) await stream.CloseWriteAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or Libp2p.Multistream.MultistreamException)
        {
            _logger.LogInformation("Transfer to {Peer} stopped after {Sent} messages: {Reason}", _peer, Sent, e.Message);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
            ReleaseAll();
            if (stream is not null) await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Frames the messages of <paramref name="batch"/> from <paramref name="next"/> into the write buffer while they fit
    /// and share one scope; returns the index of the first message left for the next write.</summary>
    /// <remarks>One snapshot per write, released before the write: a write may wait long on a paced peer, and a held snapshot
    /// would pin memtables and files meanwhile. The message that did not fit is read again by the next snapshot.</remarks>
    int Gather(List<SyncItem> batch, int next)
    {
        using var reader = _store.ReadStoredBytes();
        for (; next < batch.Count; next++)
        {
            var hash = batch[next].Hash;
            if (!reader.TryRead(hash) || (_maySync is not null && !_maySync(reader.PubsubTopic, reader.ContentTopic))) { Release(hash); continue; }
            var message = reader.Message;
            int size = TransferProtocol.StoredWireSize(reader.PubsubTopic, message.Length);
            if (_used > 0 && (_used + size > _buffer.Length || !string.Equals(_pubsub, reader.PubsubTopic, StringComparison.Ordinal)
                || !string.Equals(_content, reader.ContentTopic, StringComparison.Ordinal)))
                return next;
            (_pubsub, _content) = (reader.PubsubTopic, reader.ContentTopic);
            if (size > _buffer.Length)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(size);
            }
            _used += TransferProtocol.WriteStored(_buffer.AsSpan(_used), reader.PubsubTopic, message);
            _frames++;
            // The claim stays until the stream is done: a written frame may still wait in the peer's yamux window
            // (up to 1 MiB) while the peer's download limit holds its reads back.
        }
        return next;
    }

    public async ValueTask DisposeAsync()
    {
        _batches.Writer.TryComplete();
        _stop.Cancel();
        await _pump.ConfigureAwait(false);
        ReleaseAll();
        _stop.Dispose();
    }
}
