namespace StoreSync.Core.Wire;

/// <summary>A peer broke a wire protocol (framing, limits, order, state); the stream or session it came on must end.</summary>
/// <remarks>
/// An <see cref="IOException"/>, as .NET's own HttpIOException is: to a caller a violation ends the exchange as a broken
/// connection does, and the libp2p violations (multistream, yamux) were IOExceptions before this base existed. Catch sites
/// that treat the peer differently for a violation (penalties, a status code) catch this type before IOException. The peer
/// is not part of it: the framing code that detects a violation sees a stream, the catch site knows whose it is.
/// </remarks>
public class ProtocolViolationException(string reason, Exception? innerException = null) : IOException(reason, innerException)
{
    /// <summary>What the peer did wrong, in words for logs and error responses (the exception's message).</summary>
    public string Reason { get; } = reason;
}
