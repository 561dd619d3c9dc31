using Google.Protobuf;
using StoreSync.Core.Wire;
using StoreSync.Libp2p.Pubsub;
using StoreSync.Libp2p.Pubsub.Pb;

namespace StoreSync.Libp2p.Tests.Pubsub;

/// <summary>The RPC framing: uvarint length ‖ RPC protobuf, bounded, and what bad input does.</summary>
public sealed class RpcFrameReaderTests : IDisposable
{
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(10));
    CancellationToken Ct => _timeout.Token;

    public void Dispose() => _timeout.Dispose();

    static MemoryStream Framed(params byte[][] frames)
    {
        var s = new MemoryStream();
        foreach (var f in frames)
        {
            var prefix = new byte[Varint.MaxLength];
            s.Write(prefix, 0, Varint.Write(prefix, (ulong)f.Length));
            s.Write(f);
        }
        s.Position = 0;
        return s;
    }

    [Fact]
    public async Task Reads_back_to_back_frames_and_a_clean_end()
    {
        var rpc = new RPC
        {
            Subscriptions = { new RPC.Types.SubOpts { Subscribe = true, Topicid = "t" } },
            Control = new ControlMessage
            {
                Ihave = { new ControlIHave { TopicID = "t", MessageIDs = { ByteString.CopyFrom(1, 2, 3) } } },
                Prune = { new ControlPrune { TopicID = "t", Backoff = 60, Peers = { new PeerInfo { PeerID = ByteString.CopyFrom(9) } } } },
            },
        };
        var published = RpcFrames.Publish("/waku/2/rs/1/0", new byte[300]);
        using var reader = new RpcFrameReader(Framed(rpc.ToByteArray(), published, []), 1024);
        var first = await reader.ReadAsync(Ct);
        Assert.Equal(rpc, RpcFrameReader.Decode(first!.Value.Span));
        var second = RpcFrameReader.Decode((await reader.ReadAsync(Ct))!.Value.Span);
        Assert.Equal("/waku/2/rs/1/0", second.Publish[0].Topic);
        Assert.Equal(300, second.Publish[0].Data.Length);
        Assert.False(second.Publish[0].HasFrom || second.Publish[0].HasSeqno || second.Publish[0].HasSignature || second.Publish[0].HasKey);
        Assert.Equal(0, (await reader.ReadAsync(Ct))!.Value.Length);
        Assert.Null(await reader.ReadAsync(Ct));
    }

    [Fact]
    public void The_hand_encoded_publish_frame_equals_the_protobuf_encoding()
    {
        var data = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        var expected = new RPC { Publish = { new Message { Data = ByteString.CopyFrom(data), Topic = "/vac/ü" } } }.ToByteArray();
        Assert.Equal(expected, RpcFrames.Publish("/vac/ü", data));
    }

    [Fact]
    public async Task A_frame_over_the_limit_is_refused_before_its_body_is_read()
    {
        var stream = new MemoryStream([0xff, 0xff, 0xff, 0xff, 0x0f]); // 4 GiB announced, nothing follows
        using var reader = new RpcFrameReader(stream, 1024);
        var e = await Assert.ThrowsAsync<FrameTooLargeException>(async () => await reader.ReadAsync(Ct));
        Assert.Equal(1024, e.Limit);
    }

    [Fact]
    public async Task A_frame_of_exactly_the_limit_is_read_across_many_small_reads()
    {
        var body = new RPC { Publish = { new Message { Data = ByteString.CopyFrom(new byte[200_000]), Topic = "t" } } }.ToByteArray();
        using var reader = new RpcFrameReader(new TrickleStream(Framed(body, body), 777), body.Length);
        for (int i = 0; i < 2; i++) Assert.Equal(200_000, RpcFrameReader.Decode((await reader.ReadAsync(Ct))!.Value.Span).Publish[0].Data.Length);
        Assert.Null(await reader.ReadAsync(Ct));
    }

    [Fact]
    public async Task A_malformed_prefix_is_a_protocol_violation()
    {
        using var reader = new RpcFrameReader(new MemoryStream([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), 1024);
        await Assert.ThrowsAsync<ProtocolViolationException>(async () => await reader.ReadAsync(Ct));
    }

    [Fact]
    public async Task A_stream_that_ends_inside_a_frame_is_an_end_of_stream()
    {
        using var reader = new RpcFrameReader(new MemoryStream([10, 1, 2, 3]), 1024);
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await reader.ReadAsync(Ct));
        using var inPrefix = new RpcFrameReader(new MemoryStream([0x80]), 1024);
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await inPrefix.ReadAsync(Ct));
    }

    [Fact]
    public void Garbage_that_is_not_an_RPC_is_a_protocol_violation()
    {
        Assert.Throws<ProtocolViolationException>(() => RpcFrameReader.Decode([0x12, 0x05, 0x01]));
        Assert.Throws<ProtocolViolationException>(() => RpcFrameReader.Decode([0xff, 0xff, 0xff]));
    }

    [Fact]
    public void Random_bytes_decode_or_fail_only_with_a_protocol_violation()
    {
        var random = new Random(14);
        for (int i = 0; i < 2000; i++)
        {
            var bytes = new byte[random.Next(0, 64)];
            random.NextBytes(bytes);
            try { RpcFrameReader.Decode(bytes); }
            catch (ProtocolViolationException) { }
        }
    }

    /// <summary>Returns at most <c>chunk</c> bytes per read, as a slow socket would.</summary>
    sealed class TrickleStream(Stream inner, int chunk) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, chunk));
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
