using System.Diagnostics.Metrics;

namespace StoreSync.Waku.Relay;

/// <summary>Waku relay's instruments (spec/node.md, "Metrics"): messages by outcome and reason, bytes, ingest batches.</summary>
/// <remarks>Same meter as <see cref="WakuMetrics"/>. Labels are bounded: outcome (accepted, ignored, rejected), reason
/// (<see cref="RelayReasons"/>), pubsub topic (subscribed topics only, which the configuration bounds).</remarks>
public sealed class RelayMetrics : IDisposable
{
    readonly Meter _meter;

    public RelayMetrics(IMeterFactory? factory = null)
    {
        _meter = factory?.Create(WakuMetrics.MeterName) ?? new Meter(WakuMetrics.MeterName);
        Messages = _meter.CreateCounter<long>("storesync_relay_messages", "{message}", "Relay messages validated, by outcome (accepted, ignored, rejected) and reason");
        Bytes = _meter.CreateCounter<long>("storesync_relay_bytes", "By", "Relay message data, by direction (in: validated, out: own publishes times the peers reached)");
        Published = _meter.CreateCounter<long>("storesync_relay_published", "{message}", "Messages this node published to relay (REST, light push)");
        IngestBatches = _meter.CreateHistogram<long>("storesync_relay_ingest_batch", "{message}", "Messages per relay group-commit write",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] });
    }

    public Counter<long> Messages { get; }
    public Counter<long> Bytes { get; }
    public Counter<long> Published { get; }
    public Histogram<long> IngestBatches { get; }

    // Plain counters too, for the figures and the dashboard (no exporter needed to read them).
    long _accepted, _ignored, _rejected, _duplicate, _stored, _bytesIn, _bytesOut;

    public long Accepted => Interlocked.Read(ref _accepted);
    public long Ignored => Interlocked.Read(ref _ignored);
    public long Rejected => Interlocked.Read(ref _rejected);
    public long Duplicates => Interlocked.Read(ref _duplicate);
    public long Stored => Interlocked.Read(ref _stored);
    public long BytesIn => Interlocked.Read(ref _bytesIn);
    public long BytesOut => Interlocked.Read(ref _bytesOut);
    public long Received => Accepted + Ignored + Rejected;

    public void Count(in RelayVerdict verdict, int bytes)
    {
        string outcome = verdict.Result switch
        {
            Libp2p.Pubsub.ValidationResult.Accept => "accepted",
            Libp2p.Pubsub.ValidationResult.Ignore => "ignored",
            _ => "rejected",
        };
        Messages.Add(1, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("reason", verdict.Reason));
        Bytes.Add(bytes, new KeyValuePair<string, object?>("direction", "in"));
        Interlocked.Add(ref _bytesIn, bytes);
        switch (verdict.Result)
        {
            case Libp2p.Pubsub.ValidationResult.Accept: Interlocked.Increment(ref _accepted); break;
            case Libp2p.Pubsub.ValidationResult.Ignore: Interlocked.Increment(ref _ignored); break;
            default: Interlocked.Increment(ref _rejected); break;
        }
        if (verdict.Reason == RelayReasons.Duplicate) Interlocked.Increment(ref _duplicate);
    }

    public void CountPublished(int bytes, int peers)
    {
        Published.Add(1);
        Bytes.Add((long)bytes * peers, new KeyValuePair<string, object?>("direction", "out"));
        Interlocked.Add(ref _bytesOut, (long)bytes * peers);
    }

    public void CountStored(int messages) => Interlocked.Add(ref _stored, messages);

    /// <summary>Registers an observable gauge (mesh peers per topic) read at export time.</summary>
    public void ObserveGauge(string name, string unit, string description, Func<IEnumerable<Measurement<long>>> observe) =>
        _meter.CreateObservableGauge(name, observe, unit, description);

    /// <summary>Registers the router's own figures, read at export time: messages by gossipsub outcome (these include what the
    /// router refuses before the validator runs: signed, oversized, seen-cache duplicates), RPC bytes on the wire, and the
    /// peers below the graylist threshold.</summary>
    public void ObserveRouter(Libp2p.Pubsub.GossipsubRouter router)
    {
        _meter.CreateObservableCounter("storesync_relay_gossipsub_messages", () =>
        {
            var c = router.Counters;
            return new Measurement<long>[]
            {
                new(c.MessagesReceived, Outcome("received")), new(c.MessagesAccepted, Outcome("accepted")),
                new(c.MessagesIgnored, Outcome("ignored")), new(c.MessagesRejected, Outcome("rejected")),
                new(c.Duplicates, Outcome("duplicate")),
            };
        }, "{message}", "Relay messages as gossipsub counts them, by outcome (received, accepted, ignored, rejected, duplicate)");
        _meter.CreateObservableCounter("storesync_relay_gossipsub_bytes", () =>
        {
            var c = router.Counters;
            return new Measurement<long>[] { new(c.BytesReceived, Direction("in")), new(c.BytesSent, Direction("out")) };
        }, "By", "Relay RPC frames on the wire, by direction (in, out)");
        _meter.CreateObservableCounter("storesync_relay_graylisted_rpcs", () => router.Counters.GraylistedRpcs, "{rpc}",
            "Relay RPCs ignored because their peer was below the graylist threshold");
        _meter.CreateObservableCounter("storesync_relay_gossipsub_iwant_ids", () => router.Counters.IWantIdsSent, "{message}",
            "Message ids asked for by IWANT after a peer's IHAVE (gossip repair)");
        _meter.CreateObservableGauge("storesync_relay_peers_graylisted", () => router.GraylistedPeers, "{peer}",
            "Relay peers whose score is below the graylist threshold (connected, or disconnected while their score is kept)");
    }

    static KeyValuePair<string, object?> Outcome(string outcome) => new("outcome", outcome);

    static KeyValuePair<string, object?> Direction(string direction) => new("direction", direction);

    public void Dispose() => _meter.Dispose();
}
