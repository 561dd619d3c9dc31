using Microsoft.Extensions.Logging.Abstractions;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Node.Hosting;
using StoreSync.Testing.Storage;
using StoreSync.Waku;
using StoreSync.Waku.Communities;
using StoreSync.Waku.Ingress;
using StoreSync.Waku.Relay;

namespace StoreSync.Interop.Tests.Pubsub;

/// <summary>Waku relay as the node composes it, in this process: our gossipsub router (<see cref="OurRouter"/>, Waku
/// preset with Waku's message id and size) under <see cref="WakuRelay"/>, its validator, ingress and group commit into a
/// real RocksDB store.</summary>
internal sealed class OurRelayNode : IAsyncDisposable
{
    readonly WakuMetrics _metrics = new();

    OurRelayNode(OurRouter router, string pubsubTopic)
    {
        Router = router;
        var served = new ServedTopics([pubsubTopic]);
        var ingress = new MessageIngress(Store.Store, MessageValidator.Default, served, _metrics, NullLogger<MessageIngress>.Instance, new CommunityPolicy(served));
        Ingest = new RelayIngest(Store.Store, _metrics, RelayMetrics, NullLogger<RelayIngest>.Instance);
        var options = new RelayOptions(16, RlnRequired: false);
        var validator = new RelayValidator(options, MessageValidator.Default, ingress, Ingest, new RecentHashes(), RelayMetrics, NullLogger<RelayValidator>.Instance);
        Relay = new WakuRelay(router.Router, options, validator, RelayMetrics, NullLogger<WakuRelay>.Instance);
        Relay.Subscribe(pubsubTopic);
    }

    public OurRouter Router { get; }

    public TempStore Store { get; } = new();

    public RelayMetrics RelayMetrics { get; } = new();

    public RelayIngest Ingest { get; }

    public WakuRelay Relay { get; }

    public static async Task<OurRelayNode> StartAsync(string pubsubTopic, CancellationToken ct)
    {
        var options = OurRouter.WakuOnLoopback with { MessageId = RelayMessageId.Function, MaxMessageSize = MessageValidator.DefaultMaxMessageBytes };
        return new OurRelayNode(await OurRouter.StartAsync(ct, options), pubsubTopic);
    }

    public long Stored(string pubsubTopic) => Store.Store.GetFigures(pubsubTopic).Messages;

    public bool Has(string pubsubTopic, WakuMessage message) => Store.Store.Contains(MessageHash.Compute(pubsubTopic, message));

    public async ValueTask DisposeAsync()
    {
        Relay.Dispose();
        await Router.DisposeAsync();
        await Ingest.StopAsync();
        Store.Dispose();
        _metrics.Dispose();
        RelayMetrics.Dispose();
    }
}
