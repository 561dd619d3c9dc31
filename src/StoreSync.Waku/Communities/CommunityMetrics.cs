using System.Diagnostics.Metrics;

namespace StoreSync.Waku.Communities;

/// <summary>Per-community instruments, labelled <c>community</c> (configured names only, at most a few hundred: bounded).</summary>
/// <remarks>A meter of the node's meter name, so the host's OpenTelemetry exporter picks it up beside <see cref="WakuMetrics"/>.</remarks>
public sealed class CommunityMetrics : IDisposable
{
    readonly Meter _meter;

    public CommunityMetrics(IMeterFactory? factory = null)
    {
        _meter = factory?.Create(WakuMetrics.MeterName) ?? new Meter(WakuMetrics.MeterName);
        Rejected = _meter.CreateCounter<long>("storesync_community_rejected", "{message}", "Messages of a community refused, by reason");
        Control = _meter.CreateCounter<long>("storesync_community_control", "{message}", "Owner control messages seen, by outcome (applied, stale, invalid)");
        QueriesRefused = _meter.CreateCounter<long>("storesync_community_queries_refused", "{query}", "Store queries refused because the community is not served");
    }

    public Counter<long> Rejected { get; }
    public Counter<long> Control { get; }
    public Counter<long> QueriesRefused { get; }

    /// <summary>Registers an observable gauge with a community label (stored messages, bytes, serving state), read at export time.</summary>
    public void ObserveGauge(string name, string unit, string description, Func<IEnumerable<Measurement<long>>> observe) =>
        _meter.CreateObservableGauge(name, observe, unit, description);

    /// <inheritdoc cref="ObserveGauge(string, string, string, Func{IEnumerable{Measurement{long}}})"/>
    public void ObserveGauge(string name, string unit, string description, Func<IEnumerable<Measurement<double>>> observe) =>
        _meter.CreateObservableGauge(name, observe, unit, description);

    public void Dispose() => _meter.Dispose();
}
