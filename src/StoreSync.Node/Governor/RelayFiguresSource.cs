using StoreSync.Libp2p.Pubsub;
using StoreSync.Waku.Relay;

namespace StoreSync.Node.Governor;

/// <summary>Relay's figures for the node (spec/relay.md §7): messages by gossipsub outcome, bytes on the wire, graylisted
/// peers, the validator's verdicts, and mesh and topic peers per subscribed pubsub topic.</summary>
public sealed class RelayFiguresSource(GossipsubRouter router, RelayMetrics metrics) : IFiguresSource
{
    public IEnumerable<KeyValuePair<string, object?>> Figures(string? community)
    {
        if (community is not null) yield break;
        var c = router.Counters;
        yield return new("relay", new
        {
            received = c.MessagesReceived,
            accepted = c.MessagesAccepted,
            ignored = c.MessagesIgnored,
            rejected = c.MessagesRejected,
            duplicate = c.Duplicates,
            bytesIn = c.BytesReceived,
            bytesOut = c.BytesSent,
            graylistedPeers = router.GraylistedPeers,
            graylistedRpcs = c.GraylistedRpcs,
            // The validator's verdicts (each message id once) and what the group commit stored.
            validator = new { accepted = metrics.Accepted, ignored = metrics.Ignored, rejected = metrics.Rejected, duplicate = metrics.Duplicates, stored = metrics.Stored },
            topics = router.Subscriptions.Order(StringComparer.Ordinal).ToDictionary(t => t,
                t => new { mesh = router.MeshPeers(t).Count, peers = router.TopicPeers(t).Count }),
        });
    }
}
