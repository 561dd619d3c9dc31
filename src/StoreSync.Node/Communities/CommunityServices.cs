using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StoreSync.Storage;
using StoreSync.Storage.Retention;
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
        // One evictor per store: it enforces the communities' storage limits (configured by the registry) and refuses re-ingest
        // below a retention horizon.
        services.AddSingleton(sp => new Evictor(sp.GetRequiredService<MessageStore>(), RetentionConfiguration.Empty, new EvictorOptions(),
            sp.GetRequiredService<ILogger<Evictor>>()));
        services.AddSingleton<CommunityRegistry>();
        services.AddSingleton<CommunityFiguresSource>();
        services.AddSingleton<PeerPenalties>(_ => new PeerPenalties());
        services.AddHostedService<CommunityService>();
        return services;
    }
}

/// <summary>Puts the communities in force at start (state file merged with the configuration), runs the evictor, and stops both at shutdown.</summary>
internal sealed class CommunityService(CommunityRegistry registry, CommunityFiguresSource figures, CommunityMetrics metrics, ILogger<CommunityService> logger) : IHostedService
{
    readonly CancellationTokenSource _stopping = new();
    Task _eviction = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        registry.Load();
        figures.RegisterGauges(metrics);
        if (registry.Evictor is { } evictor) _eviction = Task.Run(() => evictor.RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        await registry.StopDeletionsAsync().ConfigureAwait(false);
        await _eviction.ConfigureAwait(false); // returns once the chunk in hand is written
        logger.LogDebug("Community data deletions and eviction stopped");
    }
}
