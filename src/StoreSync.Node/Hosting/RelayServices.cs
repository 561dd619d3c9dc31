using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StoreSync.Core;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Pubsub;
using StoreSync.Node.Governor;
using StoreSync.Storage;
using StoreSync.Waku;
using StoreSync.Waku.Ingress;
using StoreSync.Waku.Relay;

namespace StoreSync.Node.Hosting;

/// <summary>Relay's group commit as a hosted service: registered before the network service, so it stops after it and the
/// queue is written into the store before the store closes (spec/relay.md §5).</summary>
public sealed class RelayIngestService(RelayIngest ingest, ILogger<RelayIngestService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        int pending = ingest.Pending;
        await ingest.StopAsync().ConfigureAwait(false);
        logger.LogInformation("Relay ingest stopped: {Pending} queued message(s) written at the stop, {Written} in {Batches} batches in all",
            pending, ingest.Written, ingest.Batches);
    }
}

/// <summary>Registers the relay services when <see cref="NodeOptions.Relay"/> is on.</summary>
public static class RelayServices
{
    public static IServiceCollection AddRelay(this IServiceCollection services, NodeOptions options)
    {
        if (!options.Relay) return services;
        services.AddSingleton(options.RelaySettings());
        services.AddSingleton(sp => new RelayMetrics(sp.GetService<IMeterFactory>()));
        services.AddSingleton(new RecentHashes());
        services.AddSingleton(sp => new RelayIngest(sp.GetRequiredService<MessageStore>(), sp.GetRequiredService<WakuMetrics>(),
            sp.GetRequiredService<RelayMetrics>(), sp.GetRequiredService<ILogger<RelayIngest>>()));
        services.AddSingleton(sp => new RelayValidator(sp.GetRequiredService<RelayOptions>(), sp.GetRequiredService<MessageValidator>(),
            sp.GetRequiredService<MessageIngress>(), sp.GetRequiredService<RelayIngest>(), sp.GetRequiredService<RecentHashes>(),
            sp.GetRequiredService<RelayMetrics>(), sp.GetRequiredService<ILogger<RelayValidator>>()));
        services.AddSingleton(sp =>
        {
            var router = new GossipsubRouter(sp.GetRequiredService<Libp2pHost>(), RelayService.Options(options.MaxMessageBytes),
                sp.GetRequiredService<ILoggerFactory>());
            sp.GetRequiredService<RelayMetrics>().ObserveRouter(router);
            return router;
        });
        services.AddSingleton<IFiguresSource>(sp => new RelayFiguresSource(sp.GetRequiredService<GossipsubRouter>(), sp.GetRequiredService<RelayMetrics>()));
        services.AddSingleton(sp => new WakuRelay(sp.GetRequiredService<GossipsubRouter>(), sp.GetRequiredService<RelayOptions>(),
            sp.GetRequiredService<RelayValidator>(), sp.GetRequiredService<RelayMetrics>(), sp.GetRequiredService<ILogger<WakuRelay>>()));
        services.AddSingleton<RelayService>();
        services.AddHostedService<RelayIngestService>();
        return services;
    }
}
