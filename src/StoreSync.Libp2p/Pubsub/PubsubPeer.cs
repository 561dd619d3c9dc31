using System.Buffers;
using System.Threading.Channels;
using StoreSync.Core.Wire;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Pubsub;

/// <summary>
/// One peer that speaks the router's protocol: the one long-lived outbound stream we write RPCs on (pubsub/README.md:
/// one stream per direction), its bounded send queue, and the topics it announced.
/// </summary>
/// <remarks>
/// Frames are queued, not written by the caller, so one slow peer never stalls the read loop that forwards to it;
/// the queue is bounded and a full queue drops the frame (<see cref="DroppedFrames"/>), as gossip repairs what a slow
/// peer misses. The writer coalesces queued frames into one write of up to <see cref="WriteBatchBytes"/>.
/// </remarks>
internal sealed class PubsubPeer
{
    const int WriteBatchBytes = 64 * 1024;

    readonly Channel<byte[]> _queue;
    long _dropped;

    public PubsubPeer(PeerId id, Connection connection, int maxQueuedFrames)
    {
        Id = id;
        Connection = connection;
        _queue = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(maxQueuedFrames)
        {
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails instead of evicting: we count the drop
            SingleReader = true,
        });
    }

    public PeerId Id { get; }

    /// <summary>The connection the outbound stream runs on (its direction counts for D_out, its address for P6).</summary>
    public Connection Connection { get; set; }

    /// <summary>The protocol the outbound stream negotiated, once open.</summary>
    public string? Protocol { get; set; }

    /// <summary>Topics the peer announced (router lock).</summary>
    public HashSet<string> Topics { get; } = new(StringComparer.Ordinal);

    /// <summary>True once the outbound stream is open: only then is the peer a topic peer.</summary>
    public bool Ready { get; set; }

    /// <summary>True once the peer has an inbound stream to us (we read its RPCs).</summary>
    public bool HasInbound { get; set; }

    /// <summary>The score as last computed (router lock).</summary>
    public double Score { get; set; }

    /// <summary>IHAVE messages handled from this peer in the current heartbeat (router lock).</summary>
    public int IHavesThisHeartbeat { get; set; }

    /// <summary>Message ids asked for by IWANT from this peer in the current heartbeat (router lock).</summary>
    public int IdsAskedThisHeartbeat { get; set; }

    public long DroppedFrames => Interlocked.Read(ref _dropped);

    public bool IsOutboundConnection => !Connection.IsInbound;

    /// <summary>Queues one RPC frame (without prefix); false (and counted) when the queue is full or closed.</summary>
    public bool Send(byte[] frame)
    {
        if (_queue.Writer.TryWrite(frame)) return true;
        Interlocked.Increment(ref _dropped);
        return false;
    }

    /// <summary>Stops the writer after the queued frames.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    /// <summary>Writes queued frames to the stream until the queue completes or a write fails.</summary>
    public async Task WriteLoopAsync(Stream stream, CancellationToken ct)
    {
        var batch = ArrayPool<byte>.Shared.Rent(WriteBatchBytes);
        try
        {
            var reader = _queue.Reader;
            while (await reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                int used = 0;
                while (reader.TryRead(out var frame))
                {
                    int size = LengthPrefixed.WireSize(frame.Length);
                    if (used + size > batch.Length && used > 0)
                    {
                        await stream.WriteAsync(batch.AsMemory(0, used), ct).ConfigureAwait(false);
                        used = 0;
                    }
                    if (size > batch.Length)
                    {
                        await LengthPrefixed.WriteAsync(stream, frame, ct).ConfigureAwait(false);
                        continue;
                    }
                    used += Varint.Write(batch.AsSpan(used), (ulong)frame.Length);
                    frame.CopyTo(batch, used);
                    used += frame.Length;
                }
                if (used > 0) await stream.WriteAsync(batch.AsMemory(0, used), ct).ConfigureAwait(false);
                await stream.FlushAsync(ct).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(batch);
        }
    }

    public override string ToString() => Id.ToString();
}
