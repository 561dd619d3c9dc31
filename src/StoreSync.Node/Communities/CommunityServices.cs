using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StoreSync.Waku.Communities;
using StoreSync.Waku.Ingress;
using StoreSync.Waku.Peers;

namespace StoreSync.Node.Communities;

/// <summary>Registers the community controls: the policy (ingress admission, query gate, sync policy), the registry, figures, penalties.</summary>
public static class CommunityServices
{
    /// <summary>Call before the network and REST services are registered: the communities must be in force before the first message arrives.</summary>
    public static IServiceCollection AddCommunities(this IServiceCollection services)
    {
        services.AddSingleton<CommunityMetrics>();
        services.AddSingleton<CommunityPolicy>();
        services.AddSingleton<ICommunityPolicy>(sp => sp.GetRequiredService<CommunityPolicy>());
        services.AddSingleton<IMessageAdmission>(sp => sp.GetRequiredService<CommunityPolicy>());
        services.AddSingleton<CommunityRegistry>();
        services.AddSingleton<CommunityFiguresSource>();
        services.AddSingleton<PeerPenalties>(_ => new PeerPenalties());
        services.AddHostedService<CommunityService>();
        return services;
    }
}

/// <summary>Puts the communities in force at start (state file merged with the configuration) and stops data deletions at shutdown.</summary>
internal sealed class CommunityService(CommunityRegistry registry, CommunityFiguresSource figures, CommunityMetrics metrics, ILogger<CommunityService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        registry.Load();
        figures.RegisterGauges(metrics);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await registry.StopDeletionsAsync().ConfigureAwait(false);
        logger.LogDebug("Community data deletions stopped");
    }
}
