using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StoreSync.Libp2p.Host;
using StoreSync.Node.Hosting;
using StoreSync.Waku;
using StoreSync.Waku.PeerExchange;
using StoreSync.Waku.RateLimiting;

namespace StoreSync.Node.Discovery;

/// <summary>Mounts <c>/vac/waku/peer-exchange/2.0.0-alpha1</c> with <c>--peer-exchange</c>, answered from the discv5 table.</summary>
public static class PeerExchangeHosting
{
    /// <summary>Registers the server; call before the network service is added so the protocol is mounted before the
    /// host listens (identify then lists it from the first connection on).</summary>
    public static IServiceCollection AddPeerExchange(this IServiceCollection services, NodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.PeerExchange) return services;
        services.AddSingleton<IPeerExchangeSource, Discv5PeerExchangeSource>();
        services.AddSingleton(sp => new PeerExchangeService(sp.GetRequiredService<IPeerExchangeSource>(),
            new PerPeerRateLimiter(PeerExchangeService.DefaultRatePerSecond, PeerExchangeService.DefaultBurst),
            sp.GetRequiredService<ILogger<PeerExchangeService>>(), sp.GetRequiredService<WakuMetrics>()));
        services.AddHostedService<Mount>();
        return services;
    }

    sealed class Mount(PeerExchangeService service, Libp2pHost host, NodeOptions options, ILogger<PeerExchangeService> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            service.Attach(host);
            if (!options.Discv5Discovery)
                logger.LogInformation("Peer exchange is served, but without --discv5-discovery it has no peers to hand out");
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
