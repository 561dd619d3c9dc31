using System.Diagnostics;
using System.Security.Cryptography;

namespace StoreSync.Libp2p.Ping;

/// <summary>libp2p ping <c>/ipfs/ping/1.0.0</c>: the dialer sends 32 random bytes, the listener echoes them, repeatedly on one stream.</summary>
public static class PingProtocol
{
    public const string ProtocolId = "/ipfs/ping/1.0.0";
    public const int PayloadSize = 32;

    /// <summary>Pings answered on one stream; js sends one per stream, go-libp2p one every 15 s, so this is hours of keep-alive.</summary>
    public const int MaxPingsPerStream = 4096;

    /// <summary>A peer that stops between pings for longer than this loses the stream.</summary>
    public static readonly TimeSpan IdleBetweenPings = TimeSpan.FromSeconds(60);

    /// <summary>Listener side: echoes every 32-byte payload until the peer closes, stalls, or reaches <see cref="MaxPingsPerStream"/>.</summary>
    public static async Task HandleAsync(Stream stream, CancellationToken ct)
    {
        var buffer = new byte[PayloadSize];
        for (int i = 0; i < MaxPingsPerStream; i++)
        {
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
            idle.CancelAfter(IdleBetweenPings);
            int read = await stream.ReadAtLeastAsync(buffer, PayloadSize, throwOnEndOfStream: false, idle.Token).ConfigureAwait(false);
            if (read == 0) return;
            if (read < PayloadSize) throw new InvalidDataException($"ping payload of {read} bytes, expected {PayloadSize}");
            await stream.WriteAsync(buffer, idle.Token).ConfigureAwait(false);
            await stream.FlushAsync(idle.Token).ConfigureAwait(false);
        }
    }

    /// <summary>Dialer side: one round trip on an open ping stream.</summary>
    /// <exception cref="InvalidDataException">The echo differs from what was sent.</exception>
    public static async Task<TimeSpan> PingAsync(Stream stream, CancellationToken ct)
    {
        var sent = RandomNumberGenerator.GetBytes(PayloadSize);
        var received = new byte[PayloadSize];
        long start = Stopwatch.GetTimestamp();
        await stream.WriteAsync(sent, ct).ConfigureAwait(false);
        await stream.FlushAsync(ct).ConfigureAwait(false);
        await stream.ReadExactlyAsync(received, ct).ConfigureAwait(false);
        var rtt = Stopwatch.GetElapsedTime(start);
        if (!sent.AsSpan().SequenceEqual(received)) throw new InvalidDataException("ping echo differs from the payload sent");
        return rtt;
    }
}
