using Google.Protobuf;
using Microsoft.Extensions.Logging;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p.Pubsub;

namespace StoreSync.Waku.Relay;

/// <summary>Waku relay (11/WAKU2-RELAY) over a pubsub router: pubsub topics are gossipsub topics, messages are encoded
/// WakuMessages, each topic runs <see cref="RelayValidator"/>; what it accepts is stored through <see cref="RelayIngest"/>.</summary>
/// <remarks>The router is any <see cref="IPubsub"/> built with <see cref="RelayMessageId.Function"/> and StrictNoSign
/// (the node's gossipsub on <see cref="RelayLimits.ProtocolId"/>). spec/relay.md.</remarks>
public sealed class WakuRelay : IDisposable
{
    readonly IPubsub _pubsub;
    readonly RelayValidator _validator;
    readonly RelayMetrics _metrics;
    readonly ILogger<WakuRelay> _logger;
    readonly Action<PubsubMessage> _onDelivered;

    public WakuRelay(IPubsub pubsub, RelayOptions options, RelayValidator validator, RelayMetrics metrics, ILogger<WakuRelay> logger)
    {
        _pubsub = pubsub;
        Options = options;
        _validator = validator;
        _metrics = metrics;
        _logger = logger;
        _onDelivered = OnDelivered;
        _pubsub.MessageDelivered += _onDelivered;
        metrics.ObserveGauge("storesync_relay_mesh_peers", "{peer}", "Peers in the gossipsub mesh, per subscribed pubsub topic",
            () => _pubsub.Subscriptions.Select(t => new System.Diagnostics.Metrics.Measurement<long>(_pubsub.MeshPeers(t).Count,
                new KeyValuePair<string, object?>("pubsub_topic", t))));
        metrics.ObserveGauge("storesync_relay_topic_peers", "{peer}", "Connected relay peers subscribed to each subscribed pubsub topic",
            () => _pubsub.Subscriptions.Select(t => new System.Diagnostics.Metrics.Measurement<long>(_pubsub.TopicPeers(t).Count,
                new KeyValuePair<string, object?>("pubsub_topic", t))));
    }

    public RelayOptions Options { get; }

    /// <summary>Messages kept for the REST API's <c>GET /relay/v1/messages</c>, by pubsub topic.</summary>
    public RelayMessageCache Cache { get; } = new();

    /// <summary>Messages kept for the REST API's <c>GET /relay/v1/auto/messages</c>, by content topic.</summary>
    public RelayMessageCache AutoCache { get; } = new();

    /// <summary>Whether this node may publish: not on a cluster that requires RLN proofs, which it cannot make.</summary>
    public bool CanPublish => !Options.RlnRequired;

    public IReadOnlyCollection<string> Subscriptions => _pubsub.Subscriptions;

    public IReadOnlyCollection<Libp2p.Identity.PeerId> MeshPeers(string pubsubTopic) => _pubsub.MeshPeers(pubsubTopic);

    /// <summary>Joins a pubsub topic with Waku's validator.</summary>
    public void Subscribe(string pubsubTopic)
    {
        PubsubTopic.Validate(pubsubTopic);
        _pubsub.SetValidator(pubsubTopic, _validator.For(pubsubTopic));
        _pubsub.Subscribe(pubsubTopic);
        _logger.LogInformation("Relay subscribed to {Topic}", pubsubTopic);
    }

    public void Unsubscribe(string pubsubTopic)
    {
        _pubsub.Unsubscribe(pubsubTopic);
        _pubsub.SetValidator(pubsubTopic, null);
        Cache.Unwatch(pubsubTopic);
        _logger.LogInformation("Relay unsubscribed from {Topic}", pubsubTopic);
    }

    /// <summary>Publishes a message (a zero timestamp is set to now, as nwaku does); returns the number of peers it was sent
    /// to. The message passes this node's own validator first, so it is stored too.</summary>
    /// <exception cref="RelayPublishException">Refused: an RLN cluster, the validator, a duplicate, or the router.</exception>
    public async ValueTask<int> PublishAsync(string pubsubTopic, WakuMessage message, CancellationToken ct)
    {
        if (!CanPublish) throw new RelayPublishException(pubsubTopic, "this node cannot attach RLN proofs, which this cluster requires");
        message.WithPayloadPresent();
        if (message.Timestamp == 0) message.Timestamp = Timestamp.Now();
        var data = message.ToByteArray();
        int peers;
        try
        {
            peers = await _pubsub.PublishAsync(pubsubTopic, data, ct).ConfigureAwait(false);
        }
        catch (PubsubPublishException e)
        {
            throw new RelayPublishException(pubsubTopic, e.Reason, e);
        }
        _metrics.CountPublished(data.Length, peers);
        return peers;
    }

    void OnDelivered(PubsubMessage message)
    {
        bool byPubsub = Cache.IsWatched(message.Topic);
        if (!byPubsub && AutoCache.Count == 0) return;
        try
        {
            var decoded = WakuMessage.Parser.ParseFrom(message.Data.Span);
            if (byPubsub) Cache.Add(message.Topic, decoded);
            AutoCache.Add(decoded.ContentTopic, decoded); // kept only when that content topic is watched
        }
        catch (InvalidProtocolBufferException)
        {
            // Delivered means validated, which decoded it: unreachable unless the router skipped the validator.
        }
    }

    public void Dispose() => _pubsub.MessageDelivered -= _onDelivered;
}
