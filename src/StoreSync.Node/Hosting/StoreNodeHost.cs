using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using StoreSync.Core;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Noise;
using StoreSync.Node.Communities;
using StoreSync.Node.Discovery;
using StoreSync.Node.Governor;
using StoreSync.Node.Rest;
using StoreSync.Storage;
using StoreSync.Storage.Query;
using StoreSync.Storage.Retention;
using StoreSync.Storage.Sync;
using StoreSync.Waku;
using StoreSync.Waku.Communities;
using StoreSync.Waku.Governor;
using StoreSync.Waku.Ingress;
using StoreSync.Waku.LightPush;
using StoreSync.Waku.Metadata;
using StoreSync.Waku.Peers;
using StoreSync.Waku.RateLimiting;
using StoreSync.Waku.Store;
using StoreSync.Waku.Sync;
using StoreSync.Waku.Sync.Backfill;

namespace StoreSync.Node.Hosting;

/// <summary>Composes a running store node: store, query engine, ingress, REST API and metrics, on the generic host.</summary>
public static class StoreNodeHost
{
    public static IHost Build(NodeOptions options, Action<ILoggingBuilder>? logging = null)
    {
        var errors = options.Validate();
        if (errors.Count > 0) throw new InvalidOperationException("invalid configuration:\n  " + string.Join("\n  ", errors));
        var webSocket = NodeListenAddresses.WebSocket(options); // before anything is created, so a bad certificate is a configuration error

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = Directory.GetCurrentDirectory() });
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; })
            .SetMinimumLevel(LogLevel.Information)
            .AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging?.Invoke(builder.Logging);
        builder.Services.Configure<Microsoft.Extensions.Hosting.HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(sp => MessageStore.Open(Path.GetFullPath(options.DataDir), null, sp.GetRequiredService<ILoggerFactory>().CreateLogger<MessageStore>()));
        builder.Services.AddSingleton(sp => new StoreQueryEngine(sp.GetRequiredService<MessageStore>(), new StoreQueryOptions { MaxPageSize = options.StoreMaxPageSize }));
        builder.Services.AddSingleton(new MessageValidator { MaxMessageBytes = options.MaxMessageBytes });
        builder.Services.AddSingleton<IServedTopics>(new ServedTopics(options.ServedPubsubTopics()));
        builder.Services.AddSingleton<WakuMetrics>();
        builder.Services.AddSingleton<MessageIngress>();
        builder.Services.AddHostedService<StoreLifetimeService>();
        builder.Services.AddCommunities();

        // The resource governor: bandwidth limits, traffic accounts and figures, the dashboard (spec/node.md).
        builder.Services.AddSingleton<ICommunityTopics, PolicyCommunityTopics>();
        builder.Services.AddSingleton(sp => new ResourceGovernor(options, sp.GetRequiredService<ICommunityTopics>()));
        builder.Services.AddSingleton<IResourceGovernor>(sp => sp.GetRequiredService<ResourceGovernor>());
        builder.Services.AddSingleton<BandwidthSettings>();
        builder.Services.AddSingleton<FiguresReport>();
        builder.Services.AddSingleton<GovernorEndpoints>();
        builder.Services.AddSingleton<GovernorService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<GovernorService>());

        // libp2p and the Waku protocols
        var keyFile = Path.IsPathRooted(options.NodeKeyFile) ? options.NodeKeyFile : Path.Combine(options.DataDir, options.NodeKeyFile);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(keyFile))!);
        var identity = IdentityKey.LoadOrCreate(keyFile, KeyType.Secp256k1);
        builder.Services.AddSingleton(sp => new Libp2pHost(identity,
            new StoreSync.Libp2p.Host.HostOptions
            {
                Security = new NoiseSecurity(), MaxConnections = options.MaxConnections, WebSocket = webSocket,
                AgentVersion = "storesync/" + typeof(StoreNodeHost).Assembly.GetName().Version,
            },
            sp.GetRequiredService<ILoggerFactory>()));
        // The registered PerPeerRateLimiter is the store's; light push has its own bucket per peer, so pushing does not use up queries.
        var (storeRate, storeBurst) = options.StoreRateLimit();
        builder.Services.AddSingleton(new PerPeerRateLimiter(storeRate, storeBurst));
        builder.Services.AddSingleton<StoreQueryServer>();
        builder.Services.AddSingleton<StoreQueryService>();
        var (pushRate, pushBurst) = options.LightPushRateLimit();
        builder.Services.AddSingleton(sp => new LightPushServer(sp.GetRequiredService<MessageIngress>(), new PerPeerRateLimiter(pushRate, pushBurst),
            sp.GetRequiredService<ILogger<LightPushServer>>(), sp.GetRequiredService<WakuMetrics>(), sp.GetRequiredService<PeerPenalties>(),
            relay: sp.GetService<StoreSync.Waku.Relay.WakuRelay>()));
        builder.Services.AddSingleton(sp => new LightPushService(sp.GetRequiredService<LightPushServer>(), options.MaxMessageBytes,
            sp.GetRequiredService<ILogger<LightPushService>>(), sp.GetRequiredService<WakuMetrics>(), sp.GetRequiredService<IResourceGovernor>()));
        builder.Services.AddSingleton(new MetadataProtocol(options.ClusterId, options.Shards));
        builder.Services.AddSingleton<MetadataService>();

        // Store sync (spec/sync.md §5): registered before the network service so the indexes are built and the protocols
        // attached before the host listens. Sync ranges start at the communities' retention horizons (the evictor's).
        builder.Services.AddSingleton<SyncMetrics>();
        builder.Services.AddSingleton(new SyncSessions());
        builder.Services.AddSingleton(sp => new SyncHorizon(sp.GetRequiredService<Evictor>(), options.MaxMessageBytes));
        builder.Services.AddSingleton(sp => new SyncIndexes(sp.GetRequiredService<MessageStore>(), options.ServedPubsubTopics(),
            directory: Path.Combine(Path.GetFullPath(options.DataDir), "sync-index")));
        builder.Services.AddSingleton(sp => new ReconciliationRunner(sp.GetRequiredService<Libp2pHost>(), sp.GetRequiredService<MessageStore>(),
            sp.GetRequiredService<PeerPenalties>(), sp.GetRequiredService<SyncMetrics>(), sp.GetRequiredService<ILogger<ReconciliationRunner>>(),
            policy: sp.GetService<ICommunityPolicy>(), governor: sp.GetRequiredService<IResourceGovernor>()));
        builder.Services.AddSingleton<ReconciliationService>();
        builder.Services.AddSingleton(sp => new TransferService(sp.GetRequiredService<MessageIngress>(), sp.GetRequiredService<MessageStore>(), sp.GetRequiredService<SyncSessions>(),
            sp.GetRequiredService<PeerPenalties>(), sp.GetRequiredService<SyncHorizon>(), sp.GetRequiredService<SyncMetrics>(), options.MaxMessageBytes,
            sp.GetRequiredService<ILogger<TransferService>>(), governor: sp.GetRequiredService<IResourceGovernor>()));
        builder.Services.AddSingleton<SyncFiguresSource>();
        builder.Services.AddSingleton<IFiguresSource>(sp => sp.GetRequiredService<SyncFiguresSource>());
        builder.Services.AddSingleton<IFiguresSource>(sp => new BackfillFiguresSource(sp.GetRequiredService<BackfillRegistry>()));
        builder.Services.AddSingleton<StoreSyncClient>();
        builder.Services.AddSingleton<BackfillRegistry>();
        builder.Services.AddSingleton<StoreSyncService>();
        builder.Services.AddSingleton<BackfillRunner>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<StoreSyncService>());
        // Relay (spec/relay.md): its group commit registered before the network service, so it is flushed after the host stops.
        builder.Services.AddRelay(options);
        builder.Services.AddPeerExchange(options);
        builder.Services.AddSingleton<NetworkService>();
        builder.Services.AddSingleton<INodeInfo>(sp => sp.GetRequiredService<NetworkService>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<NetworkService>());
        // discv5 after the network service: the record names the TCP port libp2p bound.
        builder.Services.AddSingleton(identity);
        builder.Services.AddSingleton<Discv5Service>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Discv5Service>());
        // The peer manager after discv5 (it reads discv5's finds) and so stopped before it and the host (spec/discovery.md).
        if (options.Relay) builder.Services.AddSingleton<IRelayShards>(sp => new RelayShardsOfNode(sp.GetRequiredService<Waku.Relay.WakuRelay>(), options));
        builder.Services.AddSingleton(sp => NewPeerManager(sp, options));
        builder.Services.AddSingleton<IPeerSink>(sp => sp.GetRequiredService<PeerManager>());
        builder.Services.AddSingleton<IFiguresSource>(sp => new PeerFiguresSource(sp.GetRequiredService<PeerManager>()));
        builder.Services.AddSingleton<PeerManagerService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PeerManagerService>());
        // DNS discovery after the peer manager: what it finds is offered to a running book.
        builder.Services.AddHostedService<DnsDiscoveryService>();
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

    static PeerManager NewPeerManager(IServiceProvider sp, NodeOptions options)
    {
        var host = sp.GetRequiredService<Libp2pHost>();
        var cluster = (ushort)options.ClusterId;
        PeerTargets.TryParseRatio(options.RelayServiceRatio, out var relayRatio);
        var targets = new PeerTargets { MaxConnections = options.MaxConnections, RelayRatio = relayRatio };
        return new PeerManager(host, new PeerBook(host.PeerId, cluster, options.PeerStoreCapacity), targets, cluster,
            [.. options.Shards.Select(s => (ushort)s)], sp.GetRequiredService<ILogger<PeerManager>>(), sp.GetService<IRelayShards>(),
            PeerManagerService.BookPath(options));
    }
}

/// <summary>Opens the store at start (so a locked or corrupt store fails fast) and registers store-size gauges.</summary>
internal sealed class StoreLifetimeService(MessageStore store, WakuMetrics metrics, NodeOptions options, IServedTopics served,
    ILogger<StoreLifetimeService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var stats = store.GetStatistics();
        // Read from the in-memory counters at each scrape (no database reads). Per-topic gauges cover served topics only: a bounded label set.
        TopicFigures Total() => store.PubsubTopics.Aggregate(default(TopicFigures), (sum, t) => sum + store.GetFigures(t.Topic));
        IEnumerable<Measurement<long>> PerTopic(Func<TopicFigures, long> figure) =>
            served.PubsubTopics.Select(t => new Measurement<long>(figure(store.GetFigures(t)), new KeyValuePair<string, object?>("pubsub_topic", t)));
        metrics.ObserveGauge("storesync_store_messages", "{message}", "Messages in the store", () => [new(Total().Messages)]);
        metrics.ObserveGauge("storesync_store_bytes", "By", "Bytes of messages in the store", () => [new(Total().Bytes)]);
        metrics.ObserveGauge("storesync_store_topic_messages", "{message}", "Messages in the store per served pubsub topic", () => PerTopic(f => f.Messages));
        metrics.ObserveGauge("storesync_store_topic_bytes", "By", "Bytes of messages in the store per served pubsub topic", () => PerTopic(f => f.Bytes));
        logger.LogInformation("Store {DataDir} open: {Messages} messages, {Bytes} bytes", Path.GetFullPath(options.DataDir), stats.Messages, stats.Bytes);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        logger.LogInformation("Store closing");
        return Task.CompletedTask;
    }
}
