using System.Diagnostics.Metrics;

namespace StoreSync.Waku.Sync;

/// <summary>Store sync instruments: sessions, round trips, bytes each way, items to fetch, fetched and sent (spec/node.md).</summary>
/// <remarks>Same meter name as <see cref="WakuMetrics"/>, so the node's exporter picks them up. Tags are bounded sets (mode, role, outcome, reason).</remarks>
public sealed class SyncMetrics : IDisposable
{
    readonly Meter _meter;

    public SyncMetrics(IMeterFactory? factory = null)
    {
        _meter = factory?.Create(WakuMetrics.MeterName) ?? new Meter(WakuMetrics.MeterName);
        Sessions = _meter.CreateCounter<long>("storesync_sync_sessions", "{session}", "Reconciliation sessions, by mode (native, nwaku), role (initiator, responder) and outcome");
        Frames = _meter.CreateCounter<long>("storesync_sync_frames", "{frame}", "Reconciliation frames, by mode and direction (in, out)");
        RoundTrips = _meter.CreateHistogram<long>("storesync_sync_round_trips", "{round_trip}", "Round trips per completed session",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64] });
        Bytes = _meter.CreateCounter<long>("storesync_sync_bytes", "By", "Sync bytes on the wire, by protocol (reconciliation, transfer) and direction (in, out)");
        ItemsToFetch = _meter.CreateCounter<long>("storesync_sync_items_to_fetch", "{message}", "Messages sessions found missing here (the peer pushes them)");
        ItemsToSend = _meter.CreateCounter<long>("storesync_sync_items_to_send", "{message}", "Messages sessions found missing at the peer");
        ItemsFetched = _meter.CreateCounter<long>("storesync_sync_items_fetched", "{message}", "Messages received by transfer and newly stored");
        ItemsSent = _meter.CreateCounter<long>("storesync_sync_items_sent", "{message}", "Messages pushed to peers by transfer");
        TransferRejected = _meter.CreateCounter<long>("storesync_sync_transfer_rejected", "{message}", "Pushed messages not stored, by reason");
        BackfillMessages = _meter.CreateCounter<long>("storesync_backfill_messages", "{message}", "Messages a swarm backfill fetched and stored");
        BackfillBytes = _meter.CreateCounter<long>("storesync_backfill_bytes", "By", "Transfer bytes a swarm backfill received");
        SessionDuration = _meter.CreateHistogram<double>("storesync_sync_session_duration", "s", "Wall time of a reconciliation session and its transfers",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300] });
    }

    public Counter<long> Sessions { get; }
    public Counter<long> Frames { get; }
    public Histogram<long> RoundTrips { get; }
    public Counter<long> Bytes { get; }
    public Counter<long> ItemsToFetch { get; }
    public Counter<long> ItemsToSend { get; }
    public Counter<long> ItemsFetched { get; }
    public Counter<long> ItemsSent { get; }
    public Counter<long> TransferRejected { get; }
    public Histogram<double> SessionDuration { get; }
    public Counter<long> BackfillMessages { get; }
    public Counter<long> BackfillBytes { get; }

    /// <summary>Registers an observable gauge (index sizes, build time, peers in sync) read at export time.</summary>
    public void ObserveGauge(string name, string unit, string description, Func<IEnumerable<Measurement<double>>> observe) =>
        _meter.CreateObservableGauge(name, observe, unit, description);

    internal static KeyValuePair<string, object?> Tag(string key, object? value) => new(key, value);

    public void Dispose() => _meter.Dispose();
}
