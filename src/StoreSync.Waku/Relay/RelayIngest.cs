using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using StoreSync.Storage;

namespace StoreSync.Waku.Relay;

/// <summary>Group commit for relay: accepted messages wait in a bounded queue and one writer stores them, one RocksDB write
/// batch per <see cref="RelayLimits.IngestBatchMessages"/> messages or <see cref="RelayLimits.IngestFlushInterval"/>,
/// whichever comes first, so the network threads never wait for a write per message.</summary>
/// <remarks>When the queue is full the validators wait (backpressure reaches the senders' streams) rather than drop an
/// accepted message. <see cref="StopAsync"/> closes the queue and writes everything in it: nothing accepted is lost on a
/// graceful stop.</remarks>
public sealed class RelayIngest : IAsyncDisposable
{
    readonly MessageStore _store;
    readonly WakuMetrics _metrics;
    readonly RelayMetrics _relayMetrics;
    readonly ILogger<RelayIngest> _logger;
    readonly Channel<IngestItem> _queue;
    readonly Task _writer;
    readonly int _batchMessages;
    readonly TimeSpan _flushInterval;
    long _written, _batches;

    public RelayIngest(MessageStore store, WakuMetrics metrics, RelayMetrics relayMetrics, ILogger<RelayIngest> logger,
        int batchMessages = RelayLimits.IngestBatchMessages, TimeSpan? flushInterval = null, int capacity = RelayLimits.IngestQueueCapacity)
    {
        _store = store;
        _metrics = metrics;
        _relayMetrics = relayMetrics;
        _logger = logger;
        _batchMessages = batchMessages;
        _flushInterval = flushInterval ?? RelayLimits.IngestFlushInterval;
        _queue = Channel.CreateBounded<IngestItem>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true, FullMode = BoundedChannelFullMode.Wait,
        });
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>Messages handed to the store so far (new or already stored).</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Write batches so far (each one RocksDB write).</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Raised by the writer after each batch is in the store, with the batch's messages (for latency measurements).</summary>
    public event Action<IReadOnlyList<IngestItem>>? BatchWritten;

    /// <summary>Messages waiting for the writer.</summary>
    public int Pending => _queue.Reader.Count;

    /// <summary>Queues one accepted message; waits while the queue is full.</summary>
    /// <exception cref="ChannelClosedException">The node is stopping.</exception>
    public ValueTask EnqueueAsync(IngestItem item, CancellationToken ct) => _queue.Writer.WriteAsync(item, ct);

    async Task WriteLoopAsync()
    {
        var batch = new List<IngestItem>(_batchMessages);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            Drain(batch);
            if (batch.Count < _batchMessages)
            {
                // Give the batch up to the flush interval to fill: one write for many messages.
                using var window = new CancellationTokenSource(_flushInterval);
                try
                {
                    while (batch.Count < _batchMessages && await _queue.Reader.WaitToReadAsync(window.Token).ConfigureAwait(false)) Drain(batch);
                }
                catch (OperationCanceledException) { }
            }
            Write(batch);
            batch.Clear();
        }
    }

    void Drain(List<IngestItem> batch)
    {
        while (batch.Count < _batchMessages && _queue.Reader.TryRead(out var item)) batch.Add(item);
    }

    void Write(List<IngestItem> batch)
    {
        if (batch.Count == 0) return;
        try
        {
            var result = _store.Ingest(batch);
            if (result.Inserted > 0)
            {
                foreach (var group in result.InsertedHashes.Count == batch.Count ? CountByTopic(batch) : CountInserted(batch, result))
                    _metrics.MessagesStored.Add(group.Value, new KeyValuePair<string, object?>("pubsub_topic", group.Key));
                _relayMetrics.CountStored(result.Inserted);
            }
            _relayMetrics.IngestBatches.Record(batch.Count);
            BatchWritten?.Invoke(batch);
        }
        catch (Exception e) when (e is ObjectDisposedException or RocksDbSharp.RocksDbException or IOException)
        {
            _logger.LogError(e, "Relay ingest could not store a batch of {Count} messages", batch.Count);
        }
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _written, batch.Count);
    }

    static Dictionary<string, int> CountByTopic(List<IngestItem> batch)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var item in batch) counts[item.PubsubTopic] = counts.GetValueOrDefault(item.PubsubTopic) + 1;
        return counts;
    }

    static Dictionary<string, int> CountInserted(List<IngestItem> batch, IngestResult result)
    {
        var inserted = result.InsertedHashes.ToHashSet();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var item in batch)
            if (inserted.Contains(Core.MessageHash.Compute(item.PubsubTopic, item.Message)))
                counts[item.PubsubTopic] = counts.GetValueOrDefault(item.PubsubTopic) + 1;
        return counts;
    }

    /// <summary>Closes the queue and waits until every queued message is written.</summary>
    public async Task StopAsync()
    {
        _queue.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}
