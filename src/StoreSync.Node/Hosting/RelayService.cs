using System.Net;
using Microsoft.Extensions.Logging;
using StoreSync.Libp2p.Pubsub;
using StoreSync.Waku;
using StoreSync.Waku.Relay;

namespace StoreSync.Node.Hosting;

/// <summary>The node's Waku relay: a gossipsub router on the libp2p host with Waku's parameters, subscribed to every served
/// pubsub topic, started before the host listens and stopped before it drains (spec/relay.md, "In the node").</summary>
/// <remarks>The router's inbound stream loops last as long as the peer does, so they are ended first on a stop: the host's
/// drain then waits only for real requests in flight.</remarks>
public sealed class RelayService(GossipsubRouter router, WakuRelay relay, IServedTopics served, ILogger<RelayService> logger)
{
    public GossipsubRouter Router => router;

    public WakuRelay Relay => relay;

    /// <summary>Registers the relay protocol on the host and joins every served topic.</summary>
    public void Start()
    {
        router.Start();
        foreach (var topic in served.PubsubTopics) relay.Subscribe(topic);
        logger.LogInformation("Relay on {Protocol}: {Topics} pubsub topic(s), RLN rule {Rln}", RelayLimits.ProtocolId, served.PubsubTopics.Count,
            relay.Options.RlnRequired ? "on (nothing received is forwarded, nothing published)" : "off");
    }

    public async Task StopAsync() => await router.DisposeAsync().ConfigureAwait(false);

    /// <summary>Gossipsub as Waku relay runs it, for a node with this largest message. Loopback addresses are left out of P6
    /// (IP colocation): on one machine every peer is 127.0.0.1 or ::1, and penalising that would push a local test mesh
    /// or an operator's own nodes below zero; every routable or private address is counted as nwaku counts it.</summary>
    public static GossipsubOptions Options(int maxMessageBytes)
    {
        var waku = GossipsubOptions.Waku;
        return waku with
        {
            MessageId = RelayMessageId.Function,
            MaxMessageSize = maxMessageBytes,
            MaxRpcSize = maxMessageBytes + RpcOverheadBytes,
            Score = waku.Score with { IpColocationFactorWhitelist = LoopbackAddresses },
        };
    }

    /// <summary>nwaku's DefaultSafetyBufferProtocolOverhead: an RPC frame may exceed the largest message by this much.</summary>
    public const int RpcOverheadBytes = 64 * 1024;

    static readonly HashSet<IPAddress> LoopbackAddresses = [IPAddress.Loopback, IPAddress.IPv6Loopback, IPAddress.Loopback.MapToIPv6()];
}
