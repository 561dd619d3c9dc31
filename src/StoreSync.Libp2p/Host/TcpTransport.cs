using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Transports;

namespace StoreSync.Libp2p.Host;

/// <summary>TCP over IPv4 and IPv6: listening sockets for /ip4|ip6/…/tcp/… and dials to ip or dns addresses.</summary>
internal static class TcpTransport
{
    /// <summary>Binds and listens; port 0 picks a free port (read it back from the socket's LocalEndPoint).</summary>
    public static Socket Listen(TransportAddress address, int backlog, int socketBufferSize)
    {
        var (host, port, family) = (address.Host, address.Port, address.Family);
        if (!IPAddress.TryParse(host, out var ip))
            throw new UnsupportedTransportException($"cannot listen on {host}: a listen address needs an IP, not a DNS name");
        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (ip.AddressFamily == AddressFamily.InterNetworkV6) socket.DualMode = false; // /ip6 means IPv6 only; /ip4 gets its own socket
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            Configure(socket, socketBufferSize);
            socket.Bind(new IPEndPoint(ip, port));
            socket.Listen(backlog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Opens a TCP connection, resolving a DNS name first (every resolved address is tried in order).</summary>
    public static async Task<Socket> DialAsync(TransportAddress address, int socketBufferSize, CancellationToken ct)
    {
        var (host, port, family) = (address.Host, address.Port, address.Family);
        IPAddress[] candidates = IPAddress.TryParse(host, out var ip)
            ? [ip]
            : await Dns.GetHostAddressesAsync(host, family, ct).ConfigureAwait(false);
        if (candidates.Length == 0) throw new SocketException((int)SocketError.HostNotFound);
        Exception? last = null;
        foreach (var candidate in candidates.Take(8))
        {
            var socket = new Socket(candidate.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                Configure(socket, socketBufferSize);
                await socket.ConnectAsync(new IPEndPoint(candidate, port), ct).ConfigureAwait(false);
                return socket;
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw last!;
    }

    /// <summary>Large buffers let one connection fill a loopback or LAN pipe; Nagle off because yamux frames are already batched.</summary>
    public static void Configure(Socket socket, int socketBufferSize)
    {
        socket.NoDelay = true;
        if (socketBufferSize > 0)
        {
            socket.ReceiveBufferSize = socketBufferSize;
            socket.SendBufferSize = socketBufferSize;
        }
    }

    /// <summary>The addresses a wildcard listener (0.0.0.0 or ::) can actually be reached at: every up interface's address of that family.</summary>
    public static IEnumerable<IPAddress> ExpandWildcard(IPAddress wildcard)
    {
        var family = wildcard.AddressFamily;
        IEnumerable<IPAddress> found;
        try
        {
            found = NetworkInterface.GetAllNetworkInterfaces()
                .Where(n => n.OperationalStatus == OperationalStatus.Up)
                .SelectMany(n => n.GetIPProperties().UnicastAddresses)
                .Select(u => u.Address)
                .Where(a => a.AddressFamily == family && !a.IsIPv6LinkLocal)
                .ToList();
        }
        catch (NetworkInformationException)
        {
            found = [];
        }
        return found.Any() ? found : [family == AddressFamily.InterNetwork ? IPAddress.Loopback : IPAddress.IPv6Loopback];
    }
}
