using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Discovery.Discv5;

/// <summary>
/// The packet and session half of discv5 (discv5-theory.md, "Sessions"): turns messages into packets and back, answers
/// an undecryptable packet with WHOAREYOU, answers a WHOAREYOU naming one of our packets with a handshake, and keeps
/// the sessions the handshakes establish. Knows nothing of requests, tables or lookups.
/// </summary>
/// <remarks>
/// One lock guards the session state and the send buffer; the receive loop is the only reader of the socket, so the
/// receive buffers and the rate limiter need none. Received messages are handed on outside the lock.
/// </remarks>
internal sealed class SessionLayer : IDisposable
{
    /// <summary>A random packet's fake message: at least the 16-byte tag, so it looks like any other message packet.</summary>
    const int RandomMessageLength = 20;

    readonly Socket _socket;
    readonly byte[] _privateKey;
    readonly byte[] _localIdBytes;
    readonly Func<EnrRecord> _localRecord;
    readonly Func<NodeId, EnrRecord?> _knownRecord;
    readonly TimeProvider _time;
    readonly Aes _localMasking;
    readonly Lock _gate = new();
    readonly SessionTable _sessions = new(Discv5Limits.MaxSessions);
    readonly Dictionary<NodeAddress, Challenge> _challenges = [];
    readonly Queue<(NodeAddress Address, long Stamp)> _challengeOrder = new();
    readonly Dictionary<UInt128, Awaiting> _awaiting = [];
    readonly Queue<UInt128> _awaitingOrder = new();
    readonly AddressRateLimiter _limiter;
    readonly byte[] _sendBuffer = new byte[Discv5Limits.MaxPacketSize];
    readonly byte[] _scratch = new byte[Discv5Limits.MaxPacketSize];
    readonly byte[] _plaintext = new byte[Discv5Limits.MaxPacketSize];
    readonly long[] _drops = new long[Enum.GetValues<PacketDropReason>().Length];

    sealed record Challenge(byte[] ChallengeData, EnrRecord? Known, long Stamp);

    /// <summary>A packet we sent: if its nonce comes back in a WHOAREYOU, its message goes again inside a handshake.</summary>
    sealed record Awaiting(NodeAddress Address, EnrRecord Record, byte[] Plaintext);

    public SessionLayer(Socket socket, ReadOnlySpan<byte> privateKey, NodeId localId, Func<EnrRecord> localRecord, Func<NodeId, EnrRecord?> knownRecord, TimeProvider time)
    {
        _socket = socket;
        _privateKey = privateKey.ToArray();
        _localIdBytes = localId.ToArray();
        _localRecord = localRecord;
        _knownRecord = knownRecord;
        _time = time;
        _localMasking = AesCtr.Create(_localIdBytes.AsSpan(0, 16));
        _limiter = new AddressRateLimiter(Discv5Limits.RateLimitBurst, Discv5Limits.RateLimitPerSecond, Discv5Limits.MaxTrackedAddresses, time);
    }

    /// <summary>A message arrived in a session: who sent it, their record as the session proved it, the message.</summary>
    public event Action<NodeAddress, EnrRecord, Discv5Message>? MessageReceived;

    /// <summary>A handshake completed, in either direction; the record is the peer's, proved by the handshake.</summary>
    public event Action<EnrRecord, IPEndPoint>? SessionEstablished;

    /// <summary>Datagrams dropped for each reason since start.</summary>
    public long Dropped(PacketDropReason reason) => Interlocked.Read(ref _drops[(int)reason]);

    public int SessionCount
    {
        get { lock (_gate) return _sessions.Count; }
    }

    /// <summary>Receives until cancelled, one datagram at a time.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        var buffer = new byte[Discv5Limits.MaxPacketSize + 1];
        EndPoint any = new IPEndPoint(_socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!ct.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try { received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { continue; } // an ICMP error for an earlier send; the socket is still good
            var from = (IPEndPoint)received.RemoteEndPoint;
            if (from.Address.IsIPv4MappedToIPv6) from = new IPEndPoint(from.Address.MapToIPv4(), from.Port);
            var reason = Handle(buffer.AsSpan(0, received.ReceivedBytes), from, out var inbound);
            if (reason != PacketDropReason.None) Interlocked.Increment(ref _drops[(int)reason]);
            if (inbound.Established) SessionEstablished?.Invoke(inbound.Record!, from);
            if (inbound.Message is { } message) MessageReceived?.Invoke(inbound.Address, inbound.Record!, message);
        }
    }

    /// <summary>Sends a request to <paramref name="record"/> at <paramref name="endPoint"/>: in its session, or as a random packet that draws a WHOAREYOU.</summary>
    public void SendRequest(EnrRecord record, IPEndPoint endPoint, Discv5Message message)
    {
        var plaintext = MessageCodec.Encode(message);
        var address = new NodeAddress(record.NodeId, endPoint);
        Span<byte> nonce = stackalloc byte[Discv5Limits.NonceLength];
        RandomNumberGenerator.Fill(nonce);
        lock (_gate)
        {
            if (_sessions.Get(address) is { } session) SendMessage(address, session.WriteKey, nonce, plaintext);
            else SendRandom(address, nonce);
            Remember(nonce, new Awaiting(address, record, plaintext));
        }
    }

    /// <summary>Sends a response in an established session; false when there is none (it expired or was evicted).</summary>
    public bool SendResponse(NodeAddress to, Discv5Message message)
    {
        var plaintext = MessageCodec.Encode(message);
        Span<byte> nonce = stackalloc byte[Discv5Limits.NonceLength];
        RandomNumberGenerator.Fill(nonce);
        lock (_gate)
        {
            if (_sessions.Get(to) is not { } session) return false;
            SendMessage(to, session.WriteKey, nonce, plaintext);
            return true;
        }
    }

    record struct Inbound(NodeAddress Address, EnrRecord? Record, Discv5Message? Message, bool Established);

    PacketDropReason Handle(ReadOnlySpan<byte> packet, IPEndPoint from, out Inbound inbound)
    {
        inbound = default;
        if (!_limiter.TryTake(from.Address, 1)) return PacketDropReason.RateLimited;
        var reason = PacketCodec.TryDecode(packet, _localMasking, _scratch, out var header);
        if (reason != PacketDropReason.None) return reason;
        switch (header.Flag)
        {
            case PacketFlag.Message:
                return OnMessage(header, from, out inbound);
            case PacketFlag.WhoAreYou:
                return OnWhoAreYou(header, from, out inbound);
            default:
                if (!_limiter.TryTake(from.Address, Discv5Limits.HandshakeCost)) return PacketDropReason.RateLimited;
                return OnHandshake(header, from, out inbound);
        }
    }

    PacketDropReason OnMessage(in PacketHeader header, IPEndPoint from, out Inbound inbound)
    {
        inbound = default;
        var address = new NodeAddress(new NodeId(header.SourceId), from);
        lock (_gate)
        {
            var session = _sessions.Get(address);
            if (session is not null && PacketCodec.TryOpen(header, session.ReadKey, _plaintext, out int length))
                return Deliver(address, session.Record, _plaintext.AsSpan(0, length), established: false, from, out inbound);
            // No session, or the sender's keys are not ours (it restarted, or we evicted it): ask it to prove who it is.
            SendWhoAreYou(address, header.Nonce);
            return session is null ? PacketDropReason.None : PacketDropReason.DecryptionFailed;
        }
    }

    PacketDropReason OnWhoAreYou(in PacketHeader header, IPEndPoint from, out Inbound inbound)
    {
        inbound = default;
        var key = NonceKey(header.Nonce);
        var challenge = WhoAreYouChallenge.Read(header.AuthData);
        lock (_gate)
        {
            if (!_awaiting.TryGetValue(key, out var awaiting) || !awaiting.Address.EndPoint.Equals(from)) return PacketDropReason.UnsolicitedWhoAreYou;
            // One handshake per packet: a WHOAREYOU for the handshake itself finds nothing here, so two nodes cannot loop.
            _awaiting.Remove(key);
            var challengeData = header.MessageAd.ToArray();
            var remoteId = awaiting.Record.NodeId.ToArray();
            var ephemeralKey = Secp256k1Signatures.GeneratePrivateKey();
            var ephemeralPublic = Secp256k1Signatures.PublicKeyOf(ephemeralKey);
            var secret = KeyAgreement.Ecdh(awaiting.Record.PublicKey.Span, ephemeralKey);
            var keys = KeyAgreement.DeriveKeys(secret, challengeData, _localIdBytes, remoteId);
            var signature = IdSignature.Sign(_privateKey, challengeData, ephemeralPublic, remoteId);
            var local = _localRecord();
            // The challenger names the sequence number of our record it holds; it gets ours only when that is stale.
            var record = challenge.EnrSeq < local.Seq ? local.Encode() : default;
            Span<byte> authData = stackalloc byte[Discv5Limits.HandshakeAuthDataHeadLength + 64 + 33 + Discv5Limits.MaxRecordLength];
            int authLength = HandshakeAuthData.Write(authData, _localIdBytes, signature, ephemeralPublic, record);
            var session = new Session(awaiting.Address, awaiting.Record, keys, weInitiated: true);
            _sessions.Put(session);
            Span<byte> nonce = stackalloc byte[Discv5Limits.NonceLength];
            RandomNumberGenerator.Fill(nonce);
            Send(awaiting.Address, PacketFlag.Handshake, nonce, authData[..authLength], awaiting.Plaintext, session.WriteKey);
            inbound = new Inbound(awaiting.Address, awaiting.Record, null, Established: true);
            return PacketDropReason.None;
        }
    }

    PacketDropReason OnHandshake(in PacketHeader header, IPEndPoint from, out Inbound inbound)
    {
        inbound = default;
        var auth = HandshakeAuthData.Read(header.AuthData);
        var sourceId = new NodeId(auth.SourceId);
        var address = new NodeAddress(sourceId, from);
        lock (_gate)
        {
            // The challenge is spent whatever happens next: one handshake attempt per WHOAREYOU.
            if (!_challenges.Remove(address, out var challenge)) return PacketDropReason.BadHandshake;
            if (_time.GetElapsedTime(challenge.Stamp) > Discv5Limits.ChallengeLifetime) return PacketDropReason.BadHandshake;
            if (auth.IdSignature.Length != Discv5Limits.V4SignatureLength || auth.EphemeralPublicKey.Length != Discv5Limits.V4PublicKeyLength)
                return PacketDropReason.BadHandshake;
            var record = challenge.Known;
            if (!auth.Record.IsEmpty)
            {
                if (!EnrRecord.TryDecode(auth.Record, out var sent, out _) || sent!.NodeId != sourceId) return PacketDropReason.BadHandshake;
                if (record is null || sent.Seq > record.Seq) record = sent;
            }
            if (record is null || record.NodeId != sourceId) return PacketDropReason.BadHandshake;
            if (!IdSignature.Verify(record.PublicKey.Span, auth.IdSignature, challenge.ChallengeData, auth.EphemeralPublicKey, _localIdBytes))
                return PacketDropReason.BadHandshake;
            byte[] secret;
            try { secret = KeyAgreement.Ecdh(auth.EphemeralPublicKey, _privateKey); }
            catch (FormatException) { return PacketDropReason.BadHandshake; }
            var keys = KeyAgreement.DeriveKeys(secret, challenge.ChallengeData, auth.SourceId, _localIdBytes);
            var session = new Session(address, record, keys, weInitiated: false);
            if (!PacketCodec.TryOpen(header, session.ReadKey, _plaintext, out int length))
            {
                session.Dispose();
                return PacketDropReason.DecryptionFailed;
            }
            _sessions.Put(session);
            return Deliver(address, record, _plaintext.AsSpan(0, length), established: true, from, out inbound);
        }
    }

    PacketDropReason Deliver(NodeAddress address, EnrRecord record, ReadOnlySpan<byte> plaintext, bool established, IPEndPoint from, out Inbound inbound)
    {
        inbound = new Inbound(address, record, null, established);
        Discv5Message message;
        try { message = MessageCodec.Decode(plaintext); }
        catch (Rlp.RlpException) { return PacketDropReason.BadMessage; }
        // A FINDNODE may cost five packets and a table scan; it pays for them before it is answered.
        if (message is FindNodeMessage && !_limiter.TryTake(from.Address, Discv5Limits.FindNodeCost)) return PacketDropReason.RateLimited;
        inbound = inbound with { Message = message };
        return PacketDropReason.None;
    }

    void SendWhoAreYou(NodeAddress address, ReadOnlySpan<byte> nonce)
    {
        long now = _time.GetTimestamp();
        if (_challenges.TryGetValue(address, out var pending) && _time.GetElapsedTime(pending.Stamp, now) < Discv5Limits.ChallengeResendInterval) return;
        var known = _knownRecord(address.Id);
        Span<byte> idNonce = stackalloc byte[Discv5Limits.IdNonceLength];
        RandomNumberGenerator.Fill(idNonce);
        Span<byte> authData = stackalloc byte[Discv5Limits.WhoAreYouAuthDataLength];
        WhoAreYouChallenge.Write(authData, idNonce, known?.Seq ?? 0);
        var challengeData = Send(address, PacketFlag.WhoAreYou, nonce, authData, default, key: null);
        while (_challengeOrder.Count >= Discv5Limits.MaxPendingChallenges)
        {
            var (old, stamp) = _challengeOrder.Dequeue();
            if (_challenges.TryGetValue(old, out var c) && c.Stamp == stamp) _challenges.Remove(old);
        }
        _challenges[address] = new Challenge(challengeData, known, now);
        _challengeOrder.Enqueue((address, now));
    }

    void SendMessage(NodeAddress to, AesGcm key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext) =>
        Send(to, PacketFlag.Message, nonce, _localIdBytes, plaintext, key);

    void SendRandom(NodeAddress to, ReadOnlySpan<byte> nonce) => Send(to, PacketFlag.Message, nonce, _localIdBytes, default, key: null, randomMessage: true);

    /// <summary>Writes, seals, masks and sends one packet; returns its unmasked header (a WHOAREYOU's challenge-data).</summary>
    byte[] Send(NodeAddress to, PacketFlag flag, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> authData, ReadOnlySpan<byte> plaintext, AesGcm? key, bool randomMessage = false)
    {
        Span<byte> iv = stackalloc byte[Discv5Limits.MaskingIvLength];
        RandomNumberGenerator.Fill(iv);
        int headerEnd = PacketCodec.WriteHeader(_sendBuffer, iv, flag, nonce, authData);
        var header = flag == PacketFlag.WhoAreYou ? _sendBuffer.AsSpan(0, headerEnd).ToArray() : [];
        Span<byte> idBytes = stackalloc byte[NodeId.Length];
        to.Id.CopyTo(idBytes);
        using var masking = AesCtr.Create(idBytes[..16]);
        int length = PacketCodec.Seal(_sendBuffer, headerEnd, plaintext, key, masking);
        if (randomMessage)
        {
            RandomNumberGenerator.Fill(_sendBuffer.AsSpan(headerEnd, RandomMessageLength));
            length = headerEnd + RandomMessageLength;
        }
        try { _socket.SendTo(_sendBuffer.AsSpan(0, length), SocketFlags.None, to.EndPoint); }
        catch (SocketException) { } // UDP: a lost datagram and a refused one look the same to the requester, who times out.
        catch (ObjectDisposedException) { }
        return header;
    }

    void Remember(ReadOnlySpan<byte> nonce, Awaiting awaiting)
    {
        var key = NonceKey(nonce);
        while (_awaitingOrder.Count >= Discv5Limits.MaxAwaitingPackets) _awaiting.Remove(_awaitingOrder.Dequeue());
        _awaiting[key] = awaiting;
        _awaitingOrder.Enqueue(key);
    }

    static UInt128 NonceKey(ReadOnlySpan<byte> nonce)
    {
        Span<byte> wide = stackalloc byte[16];
        nonce.CopyTo(wide);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(wide);
    }

    public void Dispose()
    {
        lock (_gate) _sessions.Clear();
        _localMasking.Dispose();
    }
}
