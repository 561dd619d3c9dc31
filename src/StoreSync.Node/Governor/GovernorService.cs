using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using StoreSync.Waku;

namespace StoreSync.Node.Governor;

/// <summary>Loads the live bandwidth settings at start, samples the traffic accounts once a second for the dashboard, and
/// exports the governor's figures as OpenTelemetry instruments (read at scrape time from the accounts: no per-byte cost).</summary>
public sealed class GovernorService(ResourceGovernor governor, BandwidthSettings settings, TimeProvider? clock = null) : IHostedService, IDisposable
{
    readonly Meter _meter = new(WakuMetrics.MeterName);
    CancellationTokenSource? _stop;
    Task? _sampler;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        settings.Load();
        RegisterInstruments();
        _stop = new CancellationTokenSource();
        _sampler = SampleAsync(_stop.Token);
        return Task.CompletedTask;
    }

    async Task SampleAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(GovernorLimits.SampleInterval, clock ?? TimeProvider.System);
        try
        {
            governor.Sample();
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false)) governor.Sample();
        }
        catch (OperationCanceledException) { }
    }

    void RegisterInstruments()
    {
        static KeyValuePair<string, object?> Tag(string k, object? v) => new(k, v);
        IEnumerable<TrafficAccount> All() => [governor.Global, .. governor.CommunityAccounts];
        static string Label(TrafficAccount a) => a.Community ?? "";

        _meter.CreateObservableCounter("storesync_governor_bytes", () => All().SelectMany(a => new[]
        {
            new Measurement<long>(a.Upload.PacedBytes, Tag("community", Label(a)), Tag("direction", "up"), Tag("kind", "history")),
            new Measurement<long>(a.Upload.RealtimeBytes, Tag("community", Label(a)), Tag("direction", "up"), Tag("kind", "realtime")),
            new Measurement<long>(a.Download.PacedBytes, Tag("community", Label(a)), Tag("direction", "down"), Tag("kind", "history")),
            new Measurement<long>(a.Download.RealtimeBytes, Tag("community", Label(a)), Tag("direction", "down"), Tag("kind", "realtime")),
        }), "By", "Bytes charged to the governor's buckets, by community (empty = the node as a whole), direction and kind (history is paced, realtime is not)");
        _meter.CreateObservableGauge("storesync_governor_limit", () => All().SelectMany(a => new[]
        {
            new Measurement<long>(a.Upload.BytesPerSecond, Tag("community", Label(a)), Tag("direction", "up")),
            new Measurement<long>(a.Download.BytesPerSecond, Tag("community", Label(a)), Tag("direction", "down")),
        }), "By/s", "Bandwidth limits in force (0 = unlimited)");
        _meter.CreateObservableCounter("storesync_governor_cpu", () => All().SelectMany(a =>
            a.Cpu.Select(kv => new Measurement<double>(kv.Value / 1e9, Tag("community", Label(a)), Tag("protocol", kv.Key)))),
            "s", "Thread CPU time of protocol handler work (decode, query, encode, reconcile, hash, store), by community and protocol");
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stop?.Cancel();
        if (_sampler is not null) await _sampler.ConfigureAwait(false);
    }

    public void Dispose()
    {
        _stop?.Dispose();
        _meter.Dispose();
    }
}
