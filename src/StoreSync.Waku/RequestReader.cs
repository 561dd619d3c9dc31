using StoreSync.Core.Wire;
using StoreSync.Libp2p;
using StoreSync.Libp2p.Host;

namespace StoreSync.Waku;

/// <summary>Reads the single length-prefixed request of a Waku request/response protocol in two bounded phases.</summary>
/// <remarks>
/// An idle stream is tolerated: js-waku opens one stream per protocol in advance and uses it later, so the wait for the
/// request's first byte may last <see cref="IdleTimeout"/> (nim-libp2p's stream inactivity default), and ends at once when
/// the host starts draining (an idle stream is not a request in flight). From the first byte, the whole request must
/// arrive within <see cref="Timeout"/>, so a peer that starts a request and stalls cannot pin the handler.
/// </remarks>
public static class RequestReader
{
    /// <summary>How long a negotiated stream may stay silent before its first byte.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(5);

    /// <summary>From the request's first byte to its last; an honest client sends it in one go.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <exception cref="TimeoutException">No request began within <see cref="IdleTimeout"/>, or it did not complete within <see cref="Timeout"/>.</exception>
    /// <exception cref="StreamIdleException">The host began draining while the stream was idle.</exception>
    /// <exception cref="FrameTooLargeException">The announced length exceeds <paramref name="maxBytes"/>.</exception>
    /// <exception cref="ProtocolViolationException">The length prefix is malformed.</exception>
    /// <exception cref="EndOfStreamException">The peer half-closed before a whole request.</exception>
    public static Task<byte[]> ReadAsync(Stream stream, int maxBytes, CancellationToken ct) => ReadAsync(stream, maxBytes, IdleTimeout, Timeout, ct);

    /// <summary>The same with explicit phase limits (tests use short ones).</summary>
    internal static async Task<byte[]> ReadAsync(Stream stream, int maxBytes, TimeSpan idleTimeout, TimeSpan timeout, CancellationToken ct)
    {
        var draining = stream is Libp2pStream s ? s.Connection.HostDraining : CancellationToken.None;
        var first = new byte[1];
        using (var waiting = CancellationTokenSource.CreateLinkedTokenSource(ct, draining))
        {
            waiting.CancelAfter(idleTimeout);
            try
            {
                if (await stream.ReadAsync(first, waiting.Token).ConfigureAwait(false) == 0)
                    throw new EndOfStreamException("stream ended before a length-prefixed message");
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                if (draining.IsCancellationRequested) throw new StreamIdleException("idle stream closed: the node is stopping");
                throw new TimeoutException($"no request within {idleTimeout.TotalSeconds:0.#} s of opening the stream");
            }
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            return await LengthPrefixed.ReadAsync(new FirstByteStream(first[0], stream), maxBytes, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"request not complete within {timeout.TotalSeconds:0.#} s of its first byte");
        }
    }

    /// <summary>A read-only view that yields one already-read byte, then the rest of the stream.</summary>
    sealed class FirstByteStream(byte first, Stream rest) : ReadOnlyStream
    {
        bool _given;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (buffer.Length == 0) return 0;
            if (_given) return await rest.ReadAsync(buffer, ct).ConfigureAwait(false);
            _given = true;
            buffer.Span[0] = first;
            return 1;
        }
    }
}

/// <summary>An idle stream given up because the node is stopping: not an error of the peer.</summary>
public sealed class StreamIdleException(string message) : Exception(message);
