using StoreSync.Libp2p;

namespace StoreSync.Waku;

/// <summary>Reads the single length-prefixed request of a Waku request/response protocol within a deadline, so a peer that
/// opens a stream and then stalls cannot pin a handler (and a graceful stop) for the life of its connection.</summary>
public static class RequestReader
{
    /// <summary>From the stream's negotiation to the request's last byte; an honest client sends it at once.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <exception cref="TimeoutException">The request did not arrive in time.</exception>
    /// <exception cref="InvalidDataException">The announced length exceeds <paramref name="maxBytes"/> or the prefix is malformed.</exception>
    /// <exception cref="EndOfStreamException">The peer half-closed before a whole request.</exception>
    public static async Task<byte[]> ReadAsync(Stream stream, int maxBytes, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(Timeout);
        try
        {
            return await LengthPrefixed.ReadAsync(stream, maxBytes, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"no complete request within {Timeout.TotalSeconds:0} s");
        }
    }
}
