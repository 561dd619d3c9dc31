using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Noise;
using StoreSync.Testing.Libp2p;
using V = StoreSync.Libp2p.Tests.Noise.NoiseXxVector;

namespace StoreSync.Libp2p.Tests.Noise;

/// <summary>Our XX state machine and handshake reproduce the js-libp2p-noise transcript byte for byte.</summary>
public class NoiseVectorTests
{
    private static IdentityKey Identity(string seed) => IdentityKey.FromPrivateKeyProtobuf(Hex.Bytes("08011220" + seed));

    private static X25519KeyPair Key(string hex) => X25519KeyPair.FromPrivate(Hex.Bytes(hex));

    private static string Body(string wire) => wire.Replace(" ", "")[4..];

    [Fact]
    public void Fixed_keys_give_the_reference_public_keys()
    {
        Assert.Equal(V.InitiatorStaticPublic, Hex.Of(Key(V.InitiatorStatic).Public));
        Assert.Equal(V.InitiatorEphemeralPublic, Hex.Of(Key(V.InitiatorEphemeral).Public));
        Assert.Equal(V.ResponderStaticPublic, Hex.Of(Key(V.ResponderStatic).Public));
        Assert.Equal(V.ResponderEphemeralPublic, Hex.Of(Key(V.ResponderEphemeral).Public));
        Assert.Equal(V.InitiatorPeerId, Identity(V.InitiatorIdentitySeed).PeerId.ToString());
        Assert.Equal(V.ResponderPeerId, Identity(V.ResponderIdentitySeed).PeerId.ToString());
    }

    [Theory]
    [MemberData(nameof(V.Names), MemberType = typeof(V))]
    public void Payloads_match_the_js_payloads(string name)
    {
        var v = V.Named(name);
        Assert.Equal(v.InitiatorPayload, Hex.Of(HandshakePayload.Create(Identity(V.InitiatorIdentitySeed), Key(V.InitiatorStatic).Public, v.StreamMuxers)));
        Assert.Equal(v.ResponderPayload, Hex.Of(HandshakePayload.Create(Identity(V.ResponderIdentitySeed), Key(V.ResponderStatic).Public, v.StreamMuxers)));
    }

    [Fact]
    public void Libp2p_payload_vector_for_the_static_key_0102()
    {
        var staticKey = X25519KeyPair.FromPrivate(Hex.Bytes("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"));
        Assert.Equal("07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c", Hex.Of(staticKey.Public));
        Assert.Equal(
            "0a24080112204cb5abf6ad79fbf5abbccafcc269d85cd2651ed4b885b5869f241aedf0a5ba2912407a74c87fa5584fa390f055ffbdea5fafc04876575255f9b15a40b0f232de9a003d3dbf1c5fb7a43a6f6afc772afc2d757cfbf610172bb7ba30d9556fffc9080f",
            Hex.Of(HandshakePayload.Create(Identity(V.ResponderIdentitySeed), staticKey.Public, null)));
    }

    [Theory]
    [MemberData(nameof(V.Names), MemberType = typeof(V))]
    public void State_machine_reproduces_messages_hash_and_split_keys(string name)
    {
        var v = V.Named(name);
        using var initiator = new XxHandshakeState(initiator: true, Key(V.InitiatorStatic), Key(V.InitiatorEphemeral));
        using var responder = new XxHandshakeState(initiator: false, Key(V.ResponderStatic), Key(V.ResponderEphemeral));
        var buffer = new byte[NoiseHandshake.MaxMessageLength];

        int n = initiator.WriteMessage1(buffer);
        Assert.Equal(Body(v.Msg1Wire), Hex.Of(buffer.AsSpan(0, n)));
        responder.ReadMessage1(buffer.AsSpan(0, n));

        n = responder.WriteMessage2(Hex.Bytes(v.ResponderPayload), buffer);
        Assert.Equal(Body(v.Msg2Wire), Hex.Of(buffer.AsSpan(0, n)));
        Assert.Equal(v.ResponderPayload, Hex.Of(initiator.ReadMessage2(buffer.AsSpan(0, n))));
        Assert.Equal(V.ResponderStaticPublic, Hex.Of(initiator.RemoteStatic));

        n = initiator.WriteMessage3(Hex.Bytes(v.InitiatorPayload), buffer);
        Assert.Equal(Body(v.Msg3Wire), Hex.Of(buffer.AsSpan(0, n)));
        Assert.Equal(v.InitiatorPayload, Hex.Of(responder.ReadMessage3(buffer.AsSpan(0, n))));
        Assert.Equal(V.InitiatorStaticPublic, Hex.Of(responder.RemoteStatic));

        Assert.Equal(v.HandshakeHash, Hex.Of(initiator.HandshakeHash));
        Assert.Equal(v.HandshakeHash, Hex.Of(responder.HandshakeHash));

        var (initiatorSend, initiatorReceive) = initiator.Split();
        var (responderSend, responderReceive) = responder.Split();
        Assert.Equal(V.K1, Hex.Of(initiatorSend.Key));
        Assert.Equal(V.K1, Hex.Of(responderReceive.Key));
        Assert.Equal(V.K2, Hex.Of(responderSend.Key));
        Assert.Equal(V.K2, Hex.Of(initiatorReceive.Key));

        var plaintext = Hex.Bytes(V.TransportPlaintext);
        var ciphertext = new byte[plaintext.Length + 16];
        initiatorSend.Encrypt([], plaintext, ciphertext);
        Assert.Equal(Body(V.TransportInitiatorToResponderWire), Hex.Of(ciphertext));
        responderSend.Encrypt([], plaintext, ciphertext);
        Assert.Equal(Body(V.TransportResponderToInitiatorWire), Hex.Of(ciphertext));
    }

    [Theory]
    [MemberData(nameof(V.Names), MemberType = typeof(V))]
    public async Task Handshake_over_a_pipe_writes_the_reference_wire_bytes(string name)
    {
        var v = V.Named(name);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var (a, b) = DuplexPipe.Create();
        var initiatorWire = new RecordingStream(a);
        var responderWire = new RecordingStream(b);
        var initiatorIdentity = Identity(V.InitiatorIdentitySeed);
        var responderIdentity = Identity(V.ResponderIdentitySeed);

        var responding = Task.Run(() => NoiseHandshake.RespondAsync(responderWire, responderIdentity, Key(V.ResponderStatic), Key(V.ResponderEphemeral), v.StreamMuxers, timeout.Token));
        await using var initiator = await NoiseHandshake.InitiateAsync(initiatorWire, initiatorIdentity, responderIdentity.PeerId,
            Key(V.InitiatorStatic), Key(V.InitiatorEphemeral), v.StreamMuxers, timeout.Token);
        await using var responder = await responding;

        Assert.Equal((v.Msg1Wire + v.Msg3Wire).Replace(" ", ""), Hex.Of(initiatorWire.TakeWritten()));
        Assert.Equal(v.Msg2Wire.Replace(" ", ""), Hex.Of(responderWire.TakeWritten()));
        Assert.Equal(v.HandshakeHash, Hex.Of(initiator.HandshakeHash));
        Assert.Equal(responderIdentity.PeerId, initiator.RemotePeer);
        Assert.Equal(initiatorIdentity.PeerId, responder.RemotePeer);
        Assert.Equal(initiatorIdentity.PublicKey, responder.RemotePublicKey);

        var plaintext = Hex.Bytes(V.TransportPlaintext);
        await initiator.WriteAsync(plaintext, timeout.Token);
        await initiator.FlushAsync(timeout.Token);
        Assert.Equal(V.TransportInitiatorToResponderWire.Replace(" ", ""), Hex.Of(initiatorWire.TakeWritten()));
        var received = new byte[plaintext.Length];
        await responder.ReadExactlyAsync(received, timeout.Token);
        Assert.Equal(plaintext, received);

        await responder.WriteAsync(plaintext, timeout.Token);
        await responder.FlushAsync(timeout.Token);
        Assert.Equal(V.TransportResponderToInitiatorWire.Replace(" ", ""), Hex.Of(responderWire.TakeWritten()));
        await initiator.ReadExactlyAsync(received, timeout.Token);
        Assert.Equal(plaintext, received);
    }
}
