using Microsoft.Extensions.Logging;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Pubsub.Pb;

namespace StoreSync.Libp2p.Pubsub;

/// <summary>What the router does with one RPC from a peer: subscriptions, then messages (the validation pipeline), then control.</summary>
public sealed partial class GossipsubRouter
{
    async ValueTask HandleRpcAsync(PubsubPeer peer, RPC rpc, CancellationToken ct)
    {
        lock (_gate)
        {
            // gossipsub-v1.1.md: below the graylist threshold every RPC of the peer is ignored.
            if (peer.Score < _options.Thresholds.GraylistThreshold)
            {
                Interlocked.Increment(ref _graylisted);
                return;
            }
            int n = 0;
            foreach (var sub in rpc.Subscriptions)
            {
                if (++n > MaxEntriesPerRpc) break;
                HandleSubscription(peer, sub);
            }
        }
        int messages = 0;
        foreach (var m in rpc.Publish)
        {
            if (++messages > MaxEntriesPerRpc) break;
            await HandleMessageAsync(peer, m, ct).ConfigureAwait(false);
        }
        if (rpc.Control is { } control) HandleControl(peer, control);
    }

    void HandleSubscription(PubsubPeer peer, RPC.Types.SubOpts sub)
    {
        if (!sub.HasTopicid) return;
        string topic = sub.Topicid;
        if (sub.Subscribe)
        {
            if (peer.Topics.Count < MaxTopicsPerPeer) peer.Topics.Add(topic);
            return;
        }
        peer.Topics.Remove(topic);
        if (_mesh.TryGetValue(topic, out var mesh) && mesh.Remove(peer)) _score.Prune(peer.Id, topic);
        if (_fanout.TryGetValue(topic, out var fanout)) fanout.Remove(peer);
    }

    /// <summary>
    /// The validation pipeline for one received message: topic, size and signature policy, message id, duplicate
    /// suppression by the seen cache, the topic validator, then accept (cache, forward to the mesh, deliver), ignore
    /// (drop) or reject (drop, P4 for the sender and for every peer that sent the same message).
    /// </summary>
    async ValueTask HandleMessageAsync(PubsubPeer from, Message m, CancellationToken ct)
    {
        Interlocked.Increment(ref _received);
        if (!m.HasTopic) { Reject(from, null, null); return; }
        string topic = m.Topic;
        TopicValidator? validator;
        lock (_gate)
        {
            // A message on a topic we are not subscribed to is not ours to judge or forward (go and js do the same).
            if (!_topics.Contains(topic)) { Interlocked.Increment(ref _ignored); return; }
            validator = _validators.GetValueOrDefault(topic);
        }
        var data = m.Data.Memory;
        if (data.Length > _options.MaxMessageSize || m.HasFrom || m.HasSeqno || m.HasSignature || m.HasKey)
        {
            // Too large, or origin-stamped/signed under StrictNoSign: invalid, the sender pays P4.
            Reject(from, topic, null);
            return;
        }
        if (!_options.MessageId(topic, data.Span, out var id)) { Reject(from, topic, null); return; }
        ulong key = SeenCache.KeyOf(id);
        CachedMessage entry;
        long now = NowMs;
        lock (_gate)
        {
            KeepPromise(key);
            if (!_seen.TryAdd(key, now))
            {
                Duplicate(from, key, id, topic, now);
                return;
            }
            entry = new CachedMessage(id, key, topic, now, from.Id);
            _mcache.Add(entry);
        }
        var message = new PubsubMessage(topic, data, id, from.Id);
        var result = validator is null ? ValidationResult.Accept : await RunValidatorAsync(validator, message, ct).ConfigureAwait(false);
        switch (result)
        {
            case ValidationResult.Accept:
                Accept(from, entry, message);
                break;
            case ValidationResult.Reject:
                Reject(from, topic, entry);
                break;
            default:
                lock (_gate) entry.Status = DeliveryStatus.Ignored;
                Interlocked.Increment(ref _ignored);
                break;
        }
    }

    void Accept(PubsubPeer from, CachedMessage entry, PubsubMessage message)
    {
        Interlocked.Increment(ref _accepted);
        var frame = RpcFrames.Publish(message.Topic, message.Data.Span);
        lock (_gate)
        {
            entry.Status = DeliveryStatus.Valid;
            _mcache.SetFrame(entry, frame);
            _score.FirstDelivery(from.Id, message.Topic);
            if (entry.Duplicates is { } duplicates)
                foreach (var p in duplicates) _score.NearFirstDelivery(p, message.Topic, entry.FirstSeenMs, NowMs);
            if (_mesh.TryGetValue(message.Topic, out var mesh))
            {
                foreach (var p in mesh)
                {
                    // Not back to the sender, nor to a peer that already sent it to us while it was validated.
                    if (p == from || (entry.Duplicates is { } d && d.Contains(p.Id))) continue;
                    SendFrame(p, frame);
                }
            }
        }
        Deliver(message);
    }

    void Reject(PubsubPeer from, string? topic, CachedMessage? entry)
    {
        Interlocked.Increment(ref _rejected);
        lock (_gate)
        {
            if (topic is not null) _score.InvalidDelivery(from.Id, topic);
            else _score.AddPenalty(from.Id, 1);
            if (entry is not null)
            {
                entry.Status = DeliveryStatus.Invalid;
                if (entry.Duplicates is { } duplicates && topic is not null)
                    foreach (var p in duplicates) PenaliseInvalid(p, topic);
            }
            Rescore(from);
            MaybeDisconnect(from);
        }
    }

    void PenaliseInvalid(PeerId peer, string topic)
    {
        _score.InvalidDelivery(peer, topic);
        if (_peers.TryGetValue(peer, out var p))
        {
            Rescore(p);
            MaybeDisconnect(p);
        }
    }

    /// <summary>A message seen before: its delivery record decides whether the sender earns P3 or pays P4.</summary>
    void Duplicate(PubsubPeer from, ulong key, byte[] id, string topic, long now)
    {
        Interlocked.Increment(ref _duplicates);
        if (!_mcache.TryGet(key, id, out var entry)) return;
        switch (entry.Status)
        {
            case DeliveryStatus.Validating:
                (entry.Duplicates ??= []).Add(from.Id);
                break;
            case DeliveryStatus.Valid:
                _score.NearFirstDelivery(from.Id, topic, entry.FirstSeenMs, now);
                break;
            case DeliveryStatus.Invalid:
                PenaliseInvalid(from.Id, topic);
                break;
        }
    }

    /// <summary>A peer whose score fell below the graylist threshold is disconnected when the options say so.</summary>
    void MaybeDisconnect(PubsubPeer peer)
    {
        if (!_options.DisconnectBadPeers || peer.Score >= _options.Thresholds.GraylistThreshold) return;
        var connection = peer.Connection;
        _log.LogInformation("Disconnecting pubsub peer {Peer}: score {Score} below the graylist threshold", peer.Id, peer.Score);
        _ = Task.Run(() => connection.CloseAsync("pubsub score below the graylist threshold"));
    }
}
