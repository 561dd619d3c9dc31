using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using StoreSync.Core;
using StoreSync.Node.Rest;
using StoreSync.Storage;
using StoreSync.Waku;
using StoreSync.Waku.Ingress;

namespace StoreSync.Node.Hosting;

/// <summary>Composes a running store node: store, query engine, ingress, REST API and metrics, on the generic host.</summary>
public static class StoreNodeHost
{
    public static IHost Build(NodeOptions options, Action<ILoggingBuilder>? logging = null)
    {
        var errors = options.Validate();
        if (errors.Count > 0) throw new InvalidOperationException("invalid configuration:\n  " + string.Join("\n  ", errors));

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = Directory.GetCurrentDirectory() });
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; })
            .SetMinimumLevel(LogLevel.Information)
            .AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging?.Invoke(builder.Logging);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(sp => MessageStore.Open(Path.GetFullPath(options.DataDir), null, sp.GetRequiredService<ILoggerFactory>().CreateLogger<MessageStore>()));
        builder.Services.AddSingleton(sp => new StoreQueryEngine(sp.GetRequiredService<MessageStore>()));
        builder.Services.AddSingleton(new MessageValidator { MaxMessageBytes = options.MaxMessageBytes });
        builder.Services.AddSingleton<IServedTopics>(new ServedTopics(options.ServedPubsubTopics()));
        builder.Services.AddSingleton<WakuMetrics>();
        builder.Services.AddSingleton<MessageIngress>();
        builder.Services.AddSingleton<INodeInfo, LocalNodeInfo>();
        builder.Services.AddHostedService<StoreLifetimeService>();
        if (options.Rest)
        {
            builder.Services.AddSingleton<RestServer>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<RestServer>());
        }
        if (options.MetricsServer)
        {
            builder.Services.AddOpenTelemetry()
                .ConfigureResource(r => r.AddService("storesync"))
                .WithMetrics(m => m.AddMeter(WakuMetrics.MeterName).AddRuntimeInstrumentation()
                    .AddPrometheusHttpListener(o =>
                    {
                        o.Host = options.MetricsServerAddress;
                        o.Port = options.MetricsServerPort;
                        o.ScrapeEndpointPath = "/metrics";
                    }));
        }
        return builder.Build();
    }
}

/// <summary>Opens the store at start (so a locked or corrupt store fails fast) and registers store-size gauges.</summary>
internal sealed class StoreLifetimeService(MessageStore store, WakuMetrics metrics, NodeOptions options, ILogger<StoreLifetimeService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var stats = store.GetStatistics();
        metrics.ObserveGauge("storesync_store_messages", "{message}", "Messages in the store", () => [new(store.GetStatistics().Messages)]);
        metrics.ObserveGauge("storesync_store_bytes", "By", "Bytes of messages in the store", () => [new(store.GetStatistics().Bytes)]);
        logger.LogInformation("Store {DataDir} open: {Messages} messages, {Bytes} bytes", Path.GetFullPath(options.DataDir), stats.Messages, stats.Bytes);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        logger.LogInformation("Store closing");
        return Task.CompletedTask;
    }
}

/// <summary>Node info before networking is up: no peer id, no listen addresses.</summary>
internal sealed class LocalNodeInfo : INodeInfo
{
    public string PeerId => "";
    public IReadOnlyList<string> ListenAddresses => [];
    public int ConnectedPeers => 0;
}
