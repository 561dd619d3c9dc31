using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace StoreSync.Libp2p.WebSocket;

/// <summary>Limits and TLS material of the WebSocket transport (listening and dialing /ws and /wss).</summary>
public sealed record WebSocketOptions
{
    /// <summary>Largest WebSocket message accepted, over all its fragments. js-libp2p sends one message per Noise frame
    /// (at most 65,537 bytes); a larger message is closed with 1009 once this many bytes have arrived.</summary>
    public int MaxMessageBytes { get; init; } = 1024 * 1024;

    /// <summary>Largest HTTP upgrade request or response head (request line and headers); longer is refused with 431.</summary>
    public int MaxHandshakeBytes { get; init; } = 8 * 1024;

    /// <summary>Most header lines in that head.</summary>
    public int MaxHeaderLines { get; init; } = 64;

    /// <summary>Empty fragments (continuation frames without payload) one message may have; a peer that sends more is closed with 1008.</summary>
    public int MaxEmptyFragmentsPerMessage { get; init; } = 16;

    /// <summary>The certificate (with its private key) a /wss listener presents; required to listen on /wss.</summary>
    public X509Certificate2? Certificate { get; init; }

    /// <summary>Checks a /wss server's certificate when dialing; null means the system's trust store and the name must match.</summary>
    public RemoteCertificateValidationCallback? ServerCertificateValidation { get; init; }

    /// <summary>The URL path of the upgrade request a dial sends (js-libp2p and nwaku use "/").</summary>
    public string Path { get; init; } = "/";
}
