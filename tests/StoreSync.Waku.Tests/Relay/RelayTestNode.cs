using Microsoft.Extensions.Logging.Abstractions;
using StoreSync.Core;
using StoreSync.Testing.Pubsub;
using StoreSync.Testing.Storage;
using StoreSync.Waku.Communities;
using StoreSync.Waku.Ingress;
using StoreSync.Waku.Relay;

namespace StoreSync.Waku.Tests.Relay;

/// <summary>Waku relay over an in-memory router, with a real store, ingress and community policy.</summary>
internal sealed class RelayTestNode : IAsyncDisposable
{
    public const string P0 = "/waku/2/rs/16/32", P1 = "/waku/2/rs/16/64";

    public TempStore Store { get; } = new();
    public WakuMetrics Metrics { get; } = new();
    public RelayMetrics RelayMetrics { get; } = new();
    public CommunityPolicy Policy { get; }
    public MessageIngress Ingress { get; }
    public RelayIngest Ingest { get; }
    public RelayValidator Validator { get; }
    public InMemoryPubsub Router { get; }
    public WakuRelay Relay { get; }

    public RelayTestNode(InMemoryPubsubNetwork network, bool rlnRequired = false, TimeSpan? flushInterval = null)
    {
        var served = new Served(P0, P1);
        Policy = new CommunityPolicy(served);
        Ingress = new MessageIngress(Store.Store, MessageValidator.Default, served, Metrics, NullLogger<MessageIngress>.Instance, Policy);
        Ingest = new RelayIngest(Store.Store, Metrics, RelayMetrics, NullLogger<RelayIngest>.Instance, flushInterval: flushInterval);
        var options = new RelayOptions(16, rlnRequired);
        Validator = new RelayValidator(options, MessageValidator.Default, Ingress, Ingest, new RecentHashes(), RelayMetrics, NullLogger<RelayValidator>.Instance);
        Router = new InMemoryPubsub(network, RelayMessageId.Function);
        Relay = new WakuRelay(Router, options, Validator, RelayMetrics, NullLogger<WakuRelay>.Instance);
        Relay.Subscribe(P0);
        Relay.Subscribe(P1);
    }

    public bool Has(string pubsubTopic, Core.Proto.WakuMessage message) => Store.Store.Contains(MessageHash.Compute(pubsubTopic, message));

    public async ValueTask DisposeAsync()
    {
        Relay.Dispose();
        await Ingest.StopAsync();
        Store.Dispose();
        Metrics.Dispose();
        RelayMetrics.Dispose();
    }

    sealed class Served(params string[] topics) : IServedTopics
    {
        public bool Serves(string pubsubTopic) => topics.Contains(pubsubTopic);
        public IReadOnlyCollection<string> PubsubTopics => topics;
    }
}
