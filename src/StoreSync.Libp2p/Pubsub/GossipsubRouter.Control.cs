using Google.Protobuf;
using Microsoft.Extensions.Logging;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Pubsub.Pb;

namespace StoreSync.Libp2p.Pubsub;

/// <summary>The control messages of gossipsub v1.0/v1.1: IHAVE, IWANT, GRAFT and PRUNE (with backoff and peer exchange).</summary>
public sealed partial class GossipsubRouter
{
    void HandleControl(PubsubPeer peer, ControlMessage control)
    {
        var reply = new ControlMessage();
        List<byte[]>? frames = null;
        List<PeerId>? exchanged = null;
        lock (_gate)
        {
            if (peer.Score < _options.Thresholds.GraylistThreshold) return;
            long now = NowMs;
            int budget = MaxEntriesPerRpc;
            foreach (var ihave in control.Ihave)
            {
                if (--budget < 0) break;
                HandleIHave(peer, ihave, reply, now);
            }
            foreach (var iwant in control.Iwant)
            {
                if (--budget < 0) break;
                HandleIWant(peer, iwant, ref frames);
            }
            foreach (var graft in control.Graft)
            {
                if (--budget < 0) break;
                HandleGraft(peer, graft, reply, now);
            }
            foreach (var prune in control.Prune)
            {
                if (--budget < 0) break;
                HandlePrune(peer, prune, now, ref exchanged);
            }
            // IDONTWANT (v1.2) is recognised and ignored: we speak v1.1.
            if (reply.Iwant.Count > 0 || reply.Prune.Count > 0) SendControl(peer, reply);
            if (frames is not null)
                foreach (var f in frames) SendFrame(peer, f);
            Rescore(peer);
        }
        if (exchanged is not null) FollowPeerExchange(exchanged);
    }

    /// <summary>IHAVE: ask (IWANT) for the ids we have not seen, bounded per heartbeat, and remember one as a promise.</summary>
    void HandleIHave(PubsubPeer peer, ControlIHave ihave, ControlMessage reply, long now)
    {
        if (peer.Score < _options.Thresholds.GossipThreshold) return;
        if (++peer.IHavesThisHeartbeat > _options.MaxIHaveMessages) return;
        if (!ihave.HasTopicID || !_topics.Contains(ihave.TopicID)) return;
        var want = new ControlIWant();
        foreach (var id in ihave.MessageIDs)
        {
            if (peer.IdsAskedThisHeartbeat >= _options.MaxIHaveLength) break;
            ulong key = SeenCache.KeyOf(id.Span);
            if (_seen.Contains(key)) continue;
            want.MessageIDs.Add(id);
            peer.IdsAskedThisHeartbeat++;
        }
        if (want.MessageIDs.Count == 0) return;
        reply.Iwant.Add(want);
        Interlocked.Add(ref _iwantIds, want.MessageIDs.Count);
        // One promise per IWANT (gossipsub-v1.1.md): a random one of the ids must arrive within the follow-up time.
        var promised = want.MessageIDs[Random.Shared.Next(want.MessageIDs.Count)];
        ulong promisedKey = SeenCache.KeyOf(promised.Span);
        if (!_promises.TryGetValue(promisedKey, out var list)) _promises[promisedKey] = list = [];
        list.Add((peer.Id, now + (long)_options.IWantFollowupTime.TotalMilliseconds));
    }

    /// <summary>IWANT: answer from the message cache, each message at most GossipRetransmission times per peer.</summary>
    void HandleIWant(PubsubPeer peer, ControlIWant iwant, ref List<byte[]>? frames)
    {
        if (peer.Score < _options.Thresholds.GossipThreshold) return;
        foreach (var id in iwant.MessageIDs)
        {
            var span = id.Span;
            if (!_mcache.TryGet(SeenCache.KeyOf(span), span, out var entry) || entry.Frame is null) continue;
            var counts = entry.Retransmissions ??= [];
            int sent = counts.GetValueOrDefault(peer.Id);
            if (sent >= _options.GossipRetransmission) continue;
            counts[peer.Id] = sent + 1;
            (frames ??= []).Add(entry.Frame);
        }
    }

    /// <summary>GRAFT: join the peer to our mesh unless backoff, score or a full mesh say otherwise (then PRUNE it back).</summary>
    void HandleGraft(PubsubPeer peer, ControlGraft graft, ControlMessage reply, long now)
    {
        if (!graft.HasTopicID) return;
        string topic = graft.TopicID;
        // Spam hardening as go-libp2p: a GRAFT for a topic we do not join is ignored, not answered.
        if (!_topics.Contains(topic) || !_mesh.TryGetValue(topic, out var mesh) || mesh.Contains(peer)) return;
        if (_backoffUntilMs.TryGetValue((topic, peer.Id), out long until) && until > now)
        {
            // P7: grafting during backoff; doubly so right after our PRUNE (a GRAFT flood).
            _score.AddPenalty(peer.Id, 1);
            if (until - (long)_options.PruneBackoff.TotalMilliseconds + (long)_options.GraftFloodThreshold.TotalMilliseconds > now)
                _score.AddPenalty(peer.Id, 1);
            reply.Prune.Add(MakePrune(topic, peer, _options.PruneBackoff, peerExchange: false));
            return;
        }
        if (peer.Score < 0)
        {
            reply.Prune.Add(MakePrune(topic, peer, _options.PruneBackoff, peerExchange: false));
            return;
        }
        // A full mesh takes no more inbound peers; outbound ones are still accepted (D_out, sybil resistance).
        if (mesh.Count >= _options.DHigh && !peer.IsOutboundConnection)
        {
            reply.Prune.Add(MakePrune(topic, peer, _options.PruneBackoff, peerExchange: true));
            return;
        }
        mesh.Add(peer);
        _score.Graft(peer.Id, topic, now);
    }

    /// <summary>PRUNE: leave the peer's mesh, honour its backoff, and (from a peer above accept-PX) note its peer exchange.</summary>
    void HandlePrune(PubsubPeer peer, ControlPrune prune, long now, ref List<PeerId>? exchanged)
    {
        if (!prune.HasTopicID) return;
        string topic = prune.TopicID;
        if (_mesh.TryGetValue(topic, out var mesh) && mesh.Remove(peer)) _score.Prune(peer.Id, topic);
        var backoff = prune.HasBackoff ? TimeSpan.FromSeconds(Math.Min(prune.Backoff, 24 * 3600)) : _options.PruneBackoff;
        SetBackoff(topic, peer.Id, backoff, now);
        if (prune.Peers.Count == 0) return;
        if (_score.Score(peer.Id, now) < _options.Thresholds.AcceptPXThreshold) return;
        foreach (var info in prune.Peers)
        {
            if ((exchanged?.Count ?? 0) >= _options.PrunePeers) break;
            if (!info.HasPeerID) continue;
            try
            {
                var id = PeerId.FromMultihash(info.PeerID.Span);
                if (id != _host.PeerId && !_peers.ContainsKey(id)) (exchanged ??= []).Add(id);
            }
            catch (FormatException)
            {
            }
        }
    }

    void FollowPeerExchange(List<PeerId> peers)
    {
        try
        {
            PeersExchanged?.Invoke(peers);
        }
        catch (Exception e)
        {
            _log.LogWarning(e, "A peer-exchange subscriber threw");
        }
        // Signed peer records are not read (spec/pubsub.md): a peer is dialled only where the host knows its addresses.
        foreach (var peer in peers)
        {
            var addresses = _host.AddressesOf(peer);
            if (addresses.Count == 0) continue;
            _ = Task.Run(async () =>
            {
                try
                {
                    await _host.DialAsync(addresses[0].WithPeerId(peer), _stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException or System.Net.Sockets.SocketException)
                {
                    _log.LogDebug("Dialling exchanged peer {Peer} failed: {Reason}", peer, e.Message);
                }
            });
        }
    }

    /// <summary>A PRUNE for the peer with our backoff (which we then also observe) and, if asked and enabled, peer exchange.</summary>
    ControlPrune MakePrune(string topic, PubsubPeer peer, TimeSpan backoff, bool peerExchange)
    {
        SetBackoff(topic, peer.Id, backoff, NowMs);
        var prune = new ControlPrune { TopicID = topic, Backoff = (ulong)backoff.TotalSeconds };
        if (!peerExchange || !_options.EnablePeerExchange) return prune;
        foreach (var p in Shuffled(Candidates(topic, null, c => c != peer && c.Score >= 0)))
        {
            if (prune.Peers.Count >= _options.PrunePeers) break;
            prune.Peers.Add(new PeerInfo { PeerID = ByteString.CopyFrom(p.Id.Multihash.Span) });
        }
        return prune;
    }

    void SetBackoff(string topic, PeerId peer, TimeSpan backoff, long now)
    {
        long until = now + (long)backoff.TotalMilliseconds;
        if (_backoffUntilMs.TryGetValue((topic, peer), out long current) && current >= until) return;
        _backoffUntilMs[(topic, peer)] = until;
    }

    /// <summary>The message arrived (from anyone): every IWANT promise for it is kept, as go-libp2p's gossip tracer counts it.</summary>
    void KeepPromise(ulong key) => _promises.Remove(key);
}
