namespace StoreSync.Libp2p.Noise;

/// <summary>A Noise handshake that failed: bad signature, wrong peer, truncated, oversized or undecodable message.</summary>
public sealed class NoiseHandshakeException : Exception
{
    public NoiseHandshakeException(string message) : base(message) { }

    public NoiseHandshakeException(string message, Exception inner) : base(message, inner) { }
}
