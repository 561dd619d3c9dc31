using System.Buffers.Binary;
using Google.Protobuf;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Noise;
using StoreSync.Libp2p.Noise.Protos;
using StoreSync.Testing.Libp2p;

namespace StoreSync.Libp2p.Tests.Noise;

/// <summary>Every way a remote can break the handshake ends in a NoiseHandshakeException that says why.</summary>
public class NoiseHandshakeFailureTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    /// <summary>A responder that answers msg1 with a msg2 carrying whatever payload the test builds.</summary>
    private static async Task EvilResponderAsync(Stream s, Func<byte[], byte[]> payloadForStaticKey, CancellationToken ct)
    {
        var staticKey = X25519KeyPair.Generate();
        using var state = new XxHandshakeState(initiator: false, staticKey, X25519KeyPair.Generate());
        state.ReadMessage1(await ReadFrameAsync(s, ct));
        var message = new byte[NoiseHandshake.MaxMessageLength];
        int n = state.WriteMessage2(payloadForStaticKey(staticKey.Public), message);
        await WriteFrameAsync(s, message.AsSpan(0, n).ToArray(), ct);
    }

    private static byte[] Payload(IdentityKey identity, byte[] signedStaticKey) => new NoiseHandshakePayload
    {
        IdentityKey = ByteString.CopyFrom(identity.PublicKey.ToProtobuf()),
        IdentitySig = ByteString.CopyFrom(identity.Sign([.. "noise-libp2p-static-key:"u8, .. signedStaticKey])),
    }.ToByteArray();

    private static async Task<NoiseHandshakeException> InitiatorFailsAgainst(Func<Stream, CancellationToken, Task> remote, PeerId? expected = null)
    {
        using var timeout = new CancellationTokenSource(Bound);
        var (a, b) = DuplexPipe.Create();
        var remoteTask = Task.Run(async () =>
        {
            await using (b) await remote(b, timeout.Token);
        });
        var e = await Assert.ThrowsAsync<NoiseHandshakeException>(() =>
            NoiseHandshake.InitiateAsync(a, IdentityKey.Generate(KeyType.Ed25519), expected, timeout.Token));
        await a.DisposeAsync();
        await remoteTask.WaitAsync(timeout.Token);
        return e;
    }

    private static async Task<NoiseHandshakeException> ResponderFailsAgainst(Func<Stream, CancellationToken, Task> remote)
    {
        using var timeout = new CancellationTokenSource(Bound);
        var (a, b) = DuplexPipe.Create();
        var remoteTask = Task.Run(async () =>
        {
            await using (a) await remote(a, timeout.Token);
        });
        var e = await Assert.ThrowsAsync<NoiseHandshakeException>(() =>
            NoiseHandshake.RespondAsync(b, IdentityKey.Generate(KeyType.Secp256k1), timeout.Token));
        await b.DisposeAsync();
        await remoteTask.WaitAsync(timeout.Token);
        return e;
    }

    [Theory]
    [InlineData(KeyType.Ed25519)]
    [InlineData(KeyType.Secp256k1)]
    public async Task Signature_over_another_static_key_is_rejected(KeyType type)
    {
        var identity = IdentityKey.Generate(type);
        var e = await InitiatorFailsAgainst((s, ct) => EvilResponderAsync(s, _ => Payload(identity, X25519KeyPair.Generate().Public), ct));
        Assert.Contains("responder identity signature does not verify", e.Message);
    }

    [Fact]
    public async Task Other_peer_than_expected_is_rejected_before_msg3()
    {
        var actual = IdentityKey.Generate(KeyType.Ed25519);
        var expected = IdentityKey.Generate(KeyType.Ed25519).PeerId;
        var e = await InitiatorFailsAgainst((s, ct) => EvilResponderAsync(s, key => Payload(actual, key), ct), expected);
        Assert.Contains($"responder is peer {actual.PeerId}, expected {expected}", e.Message);
    }

    [Theory]
    [InlineData("ffff", "payload does not decode")]
    [InlineData("", "payload has no identity key")]
    [InlineData("0a03010203", "identity key does not decode")]
    public async Task Bad_payloads_are_rejected(string payloadHex, string fragment)
    {
        var e = await InitiatorFailsAgainst((s, ct) => EvilResponderAsync(s, _ => Hex.Bytes(payloadHex), ct));
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public async Task Truncated_msg2_is_rejected()
    {
        var e = await InitiatorFailsAgainst(async (s, ct) =>
        {
            await ReadFrameAsync(s, ct);
            await s.WriteAsync(Hex.Bytes("00c8ff2ee45601ec1b67310c7790404585"), ct); // 200 announced, 15 sent, then EOF
        });
        Assert.Contains("msg2 truncated: 200 bytes announced, connection closed after 15", e.Message);
    }

    [Fact]
    public async Task Oversized_length_prefix_with_too_few_bytes_is_rejected()
    {
        var e = await InitiatorFailsAgainst(async (s, ct) =>
        {
            await ReadFrameAsync(s, ct);
            await s.WriteAsync(new byte[] { 0xff, 0xff, 1, 2, 3 }, ct);
        });
        Assert.Contains("msg2 truncated: 65535 bytes announced, connection closed after 3", e.Message);
    }

    [Fact]
    public async Task Maximum_size_garbage_msg2_fails_to_decrypt()
    {
        var e = await InitiatorFailsAgainst(async (s, ct) =>
        {
            await ReadFrameAsync(s, ct);
            var frame = new byte[2 + NoiseHandshake.MaxMessageLength];
            Random.Shared.NextBytes(frame);
            BinaryPrimitives.WriteUInt16BigEndian(frame, NoiseHandshake.MaxMessageLength);
            await s.WriteAsync(frame, ct);
        });
        Assert.Contains("msg2 static key failed to decrypt", e.Message);
    }

    [Fact]
    public async Task Short_msg2_is_rejected()
    {
        var e = await InitiatorFailsAgainst(async (s, ct) =>
        {
            await ReadFrameAsync(s, ct);
            await WriteFrameAsync(s, new byte[40], ct);
        });
        Assert.Contains("msg2 is 40 bytes, shorter than the minimum 96", e.Message);
    }

    [Fact]
    public async Task Connection_closed_before_msg2_is_rejected()
    {
        var e = await InitiatorFailsAgainst(async (s, ct) => await ReadFrameAsync(s, ct));
        Assert.Contains("connection closed before msg2", e.Message);
    }

    [Fact]
    public async Task Low_order_ephemeral_key_is_rejected()
    {
        var e = await ResponderFailsAgainst(async (s, ct) => await WriteFrameAsync(s, new byte[32], ct));
        Assert.Contains("low-order X25519 public key", e.Message);
    }

    [Fact]
    public async Task Short_msg1_is_rejected()
    {
        var e = await ResponderFailsAgainst(async (s, ct) => await WriteFrameAsync(s, new byte[5], ct));
        Assert.Contains("msg1 is 5 bytes", e.Message);
    }

    [Fact]
    public async Task Responder_rejects_a_forged_msg3_signature()
    {
        var e = await ResponderFailsAgainst(async (s, ct) =>
        {
            var staticKey = X25519KeyPair.Generate();
            using var state = new XxHandshakeState(initiator: true, staticKey, X25519KeyPair.Generate());
            var message = new byte[NoiseHandshake.MaxMessageLength];
            await WriteFrameAsync(s, message.AsSpan(0, state.WriteMessage1(message)).ToArray(), ct);
            state.ReadMessage2(await ReadFrameAsync(s, ct));
            var forged = Payload(IdentityKey.Generate(KeyType.Secp256k1), X25519KeyPair.Generate().Public);
            await WriteFrameAsync(s, message.AsSpan(0, state.WriteMessage3(forged, message)).ToArray(), ct);
        });
        Assert.Contains("initiator identity signature does not verify", e.Message);
    }

    [Fact]
    public void Our_own_message_may_not_exceed_65535_bytes()
    {
        using var initiator = new XxHandshakeState(initiator: true, X25519KeyPair.Generate(), X25519KeyPair.Generate());
        using var responder = new XxHandshakeState(initiator: false, X25519KeyPair.Generate(), X25519KeyPair.Generate());
        var message = new byte[NoiseHandshake.MaxMessageLength];
        responder.ReadMessage1(message.AsSpan(0, initiator.WriteMessage1(message)));
        // 96 bytes of keys and tags plus 65440 bytes of payload would be 65536.
        var e = Assert.Throws<NoiseHandshakeException>(() => responder.WriteMessage2(new byte[65440], message));
        Assert.Contains("would exceed 65535", e.Message);
        Assert.Equal(NoiseHandshake.MaxMessageLength, responder.WriteMessage2(new byte[65439], message));
    }

    [Fact]
    public async Task Random_bytes_fail_both_sides()
    {
        var random = new Random(42);
        for (int i = 0; i < 40; i++)
        {
            var junk = new byte[random.Next(0, 3000)];
            random.NextBytes(junk);
            if (i % 4 == 0 && junk.Length >= 2) BinaryPrimitives.WriteUInt16BigEndian(junk, (ushort)(junk.Length - 2));
            await ResponderFailsAgainst(async (s, ct) => await s.WriteAsync(junk, ct));
            await InitiatorFailsAgainst(async (s, ct) =>
            {
                await ReadFrameAsync(s, ct);
                await s.WriteAsync(junk, ct);
            });
        }
    }

    [Fact]
    public async Task Silent_peer_ends_with_the_callers_timeout()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var (a, b) = DuplexPipe.Create();
        await using var _ = b;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            NoiseHandshake.InitiateAsync(a, IdentityKey.Generate(KeyType.Ed25519), null, timeout.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            NoiseHandshake.RespondAsync(b, IdentityKey.Generate(KeyType.Ed25519), timeout.Token));
    }

    private static async Task<byte[]> ReadFrameAsync(Stream s, CancellationToken ct)
    {
        var prefix = new byte[2];
        await s.ReadExactlyAsync(prefix, ct);
        var body = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
        await s.ReadExactlyAsync(body, ct);
        return body;
    }

    private static async Task WriteFrameAsync(Stream s, byte[] body, CancellationToken ct)
    {
        var frame = new byte[2 + body.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)body.Length);
        body.CopyTo(frame, 2);
        await s.WriteAsync(frame, ct);
        await s.FlushAsync(ct);
    }
}
