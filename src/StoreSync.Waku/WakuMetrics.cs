using System.Diagnostics.Metrics;

namespace StoreSync.Waku;

/// <summary>The node's instruments (System.Diagnostics.Metrics); the host exports them with OpenTelemetry.</summary>
/// <remarks>Tags are limited to the pubsub topic and the protocol, both bounded sets (configured topics, known codecs).</remarks>
public sealed class WakuMetrics : IDisposable
{
    public const string MeterName = "StoreSync";

    readonly Meter _meter;

    public WakuMetrics(IMeterFactory? factory = null)
    {
        _meter = factory?.Create(MeterName) ?? new Meter(MeterName);
        MessagesStored = _meter.CreateCounter<long>("storesync_messages_stored", "{message}", "Messages newly stored");
        MessagesRejected = _meter.CreateCounter<long>("storesync_messages_rejected", "{message}", "Messages refused by validation or hash check");
        MessagesServed = _meter.CreateCounter<long>("storesync_messages_served", "{message}", "Messages returned by store queries");
        BytesIn = _meter.CreateCounter<long>("storesync_bytes_in", "By", "Protocol bytes received");
        BytesOut = _meter.CreateCounter<long>("storesync_bytes_out", "By", "Protocol bytes sent");
        Queries = _meter.CreateCounter<long>("storesync_store_queries", "{query}", "Store queries answered, by status code");
        LightPushRequests = _meter.CreateCounter<long>("storesync_lightpush_requests", "{request}", "Light push requests answered, by protocol version and status code");
        QueryDuration = _meter.CreateHistogram<double>("storesync_store_query_duration", "s", "Store query latency",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });
    }

    public Counter<long> MessagesStored { get; }
    public Counter<long> MessagesRejected { get; }
    public Counter<long> MessagesServed { get; }
    public Counter<long> BytesIn { get; }
    public Counter<long> BytesOut { get; }
    public Counter<long> Queries { get; }
    public Counter<long> LightPushRequests { get; }
    public Histogram<double> QueryDuration { get; }

    /// <summary>Registers an observable gauge (store size, connected peers) read at export time.</summary>
    public void ObserveGauge(string name, string unit, string description, Func<IEnumerable<Measurement<long>>> observe) =>
        _meter.CreateObservableGauge(name, observe, unit, description);

    /// <summary>Registers an observable counter (a running total kept elsewhere, e.g. dropped packets) read at export time.</summary>
    public void ObserveCounter(string name, string unit, string description, Func<IEnumerable<Measurement<long>>> observe) =>
        _meter.CreateObservableCounter(name, observe, unit, description);

    /// <summary>The label value for a pubsub topic: the topic itself when the node serves it, else <see cref="OtherTopic"/>,
    /// so that a peer naming random topics cannot grow the label set.</summary>
    public static string TopicLabel(IServedTopics? served, string? pubsubTopic) =>
        pubsubTopic is not null && served is not null && served.Serves(pubsubTopic) ? pubsubTopic : OtherTopic;

    /// <summary>Label of queries without a pubsub topic, or naming one this node does not serve.</summary>
    public const string OtherTopic = "other";

    public void Dispose() => _meter.Dispose();
}
