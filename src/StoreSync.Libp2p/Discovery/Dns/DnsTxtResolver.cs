using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace StoreSync.Libp2p.Discovery.Dns;

/// <summary>
/// A minimal stub resolver: asks the given recursive name servers for TXT records over UDP, and over TCP when the UDP
/// answer is truncated (RFC 7766). Each query has a random id and is tried <see cref="DnsDiscoveryLimits.QueryAttempts"/>
/// times per server, each try bounded by <see cref="DnsDiscoveryLimits.QueryTimeout"/>.
/// </summary>
public sealed class DnsTxtResolver : ITxtResolver
{
    /// <summary>Stray datagrams (wrong id, junk) read while waiting for one answer before the try is given up.</summary>
    const int MaxStrayDatagrams = 16;

    readonly IReadOnlyList<IPEndPoint> _servers;
    readonly TimeSpan _timeout;

    public DnsTxtResolver(IReadOnlyList<IPEndPoint> servers, TimeSpan? timeout = null)
    {
        if (servers.Count == 0) throw new ArgumentException("at least one name server is needed", nameof(servers));
        _servers = servers;
        _timeout = timeout ?? DnsDiscoveryLimits.QueryTimeout;
    }

    /// <summary>The name servers of /etc/resolv.conf, or none if it cannot be read.</summary>
    public static IReadOnlyList<IPEndPoint> SystemNameServers(string path = "/etc/resolv.conf")
    {
        if (!File.Exists(path)) return [];
        var servers = new List<IPEndPoint>();
        foreach (var line in File.ReadLines(path).Take(256))
        {
            var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 2 && fields[0] == "nameserver" && IPAddress.TryParse(fields[1], out var address))
                servers.Add(new IPEndPoint(address, 53));
        }
        return servers;
    }

    public async Task<IReadOnlyList<string>> ResolveTxtAsync(string name, CancellationToken cancellationToken)
    {
        DnsDiscoveryException? last = null;
        foreach (var server in _servers)
        {
            for (int attempt = 0; attempt < DnsDiscoveryLimits.QueryAttempts; attempt++)
            {
                ushort id = (ushort)RandomNumberGenerator.GetInt32(ushort.MaxValue + 1);
                var query = DnsMessage.TxtQuery(id, name);
                try
                {
                    var answer = await QueryUdpAsync(server, query, id, cancellationToken).ConfigureAwait(false);
                    if (answer is null)
                    {
                        last = new DnsDiscoveryException(name, $"no answer from {server} within {_timeout.TotalSeconds:0.#} s");
                        continue;
                    }
                    if (DnsMessage.IsTruncated(answer)) answer = await QueryTcpAsync(server, query, name, cancellationToken).ConfigureAwait(false);
                    return DnsMessage.ParseTxtAnswer(answer, id, name);
                }
                catch (DnsDiscoveryException e) { last = e; }
                catch (SocketException e) { last = new DnsDiscoveryException(name, $"{server}: {e.Message}"); }
                catch (IOException e) { last = new DnsDiscoveryException(name, $"{server}: {e.Message}"); }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    last = new DnsDiscoveryException(name, $"no TCP answer from {server} within {_timeout.TotalSeconds:0.#} s");
                }
            }
        }
        throw last!;
    }

    /// <summary>The first datagram from the server with our id, or null when the time runs out.</summary>
    async Task<byte[]?> QueryUdpAsync(IPEndPoint server, byte[] query, ushort id, CancellationToken cancellationToken)
    {
        using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        // Connecting filters out datagrams from any other address.
        await socket.ConnectAsync(server, cancellationToken).ConfigureAwait(false);
        await socket.SendAsync(query, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        var buffer = new byte[DnsDiscoveryLimits.MaxUdpResponseLength];
        for (int i = 0; i < MaxStrayDatagrams; i++)
        {
            int received;
            try { received = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested) { return null; }
            if (DnsMessage.IdOf(buffer.AsSpan(0, received)) == id) return buffer[..received];
        }
        return null;
    }

    async Task<byte[]> QueryTcpAsync(IPEndPoint server, byte[] query, string name, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server, timeout.Token).ConfigureAwait(false);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var framed = new byte[2 + query.Length];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)query.Length);
        query.CopyTo(framed, 2);
        await stream.WriteAsync(framed, timeout.Token).ConfigureAwait(false);
        var lengthBytes = new byte[2];
        await stream.ReadExactlyAsync(lengthBytes, timeout.Token).ConfigureAwait(false);
        int length = BinaryPrimitives.ReadUInt16BigEndian(lengthBytes);
        if (length > DnsDiscoveryLimits.MaxTcpResponseLength) throw new DnsDiscoveryException(name, $"TCP answer of {length} bytes is over {DnsDiscoveryLimits.MaxTcpResponseLength}");
        var answer = new byte[length];
        await stream.ReadExactlyAsync(answer, timeout.Token).ConfigureAwait(false);
        return answer;
    }
}
