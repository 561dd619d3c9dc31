using System.Net.Security;
using System.Net.WebSockets;
using StoreSync.Libp2p.Transports;

namespace StoreSync.Libp2p.WebSocket;

/// <summary>Turns a connected TCP stream into the byte stream of /ws or /wss: TLS for /wss, the HTTP upgrade, then binary
/// WebSocket messages. Multistream-select, Noise and yamux run above it exactly as on TCP.</summary>
internal static class WebSocketTransport
{
    // Browsers and js-libp2p send no pings that need ours; yamux's keep-alive already detects dead connections.
    static readonly WebSocketCreationOptions Server = new() { IsServer = true, KeepAliveInterval = TimeSpan.Zero };
    static readonly WebSocketCreationOptions Client = new() { IsServer = false, KeepAliveInterval = TimeSpan.Zero };

    /// <summary>The listener's side. Takes ownership of <paramref name="tcp"/>: on failure everything is closed.</summary>
    public static async Task<Stream> AcceptAsync(Stream tcp, bool secure, WebSocketOptions options, CancellationToken ct)
    {
        Stream stream = tcp;
        try
        {
            if (secure)
            {
                var tls = new SslStream(tcp, leaveInnerStreamOpen: false);
                stream = tls;
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificate = options.Certificate ?? throw new InvalidOperationException("a /wss listener needs WebSocketOptions.Certificate"),
                    ClientCertificateRequired = false,
                    ApplicationProtocols = [SslApplicationProtocol.Http11],
                }, ct).ConfigureAwait(false);
            }
            var leftover = await WebSocketUpgrade.AcceptAsync(stream, options, ct).ConfigureAwait(false);
            return Open(stream, leftover, Server, options);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The dialer's side, to <paramref name="target"/> (its Host header and, for /wss, its TLS server name).</summary>
    public static async Task<Stream> ConnectAsync(Stream tcp, TransportAddress target, WebSocketOptions options, CancellationToken ct)
    {
        Stream stream = tcp;
        try
        {
            if (target.Kind == TransportKind.SecureWebSocket)
            {
                var tls = new SslStream(tcp, leaveInnerStreamOpen: false);
                stream = tls;
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = target.ServerName ?? target.Host,
                    RemoteCertificateValidationCallback = options.ServerCertificateValidation,
                    ApplicationProtocols = [SslApplicationProtocol.Http11],
                }, ct).ConfigureAwait(false);
            }
            var leftover = await WebSocketUpgrade.ConnectAsync(stream, target.HttpHost, options, ct).ConfigureAwait(false);
            return Open(stream, leftover, Client, options);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    static WebSocketByteStream Open(Stream stream, byte[] leftover, WebSocketCreationOptions creation, WebSocketOptions options)
    {
        if (leftover.Length > 0) stream = new PrefixedStream(stream, leftover);
        return new WebSocketByteStream(System.Net.WebSockets.WebSocket.CreateFromStream(stream, creation), options);
    }
}
