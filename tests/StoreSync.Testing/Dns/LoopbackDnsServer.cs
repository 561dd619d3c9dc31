using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace StoreSync.Testing.Dns;

/// <summary>
/// A tiny authoritative DNS server for tests on 127.0.0.1 (UDP and TCP on the same port): answers TXT queries from a
/// table, splits long texts into 255-byte strings, truncates UDP answers over 512 bytes unless the query carries EDNS(0),
/// and can be told to truncate always or to answer with given raw bytes. Written apart from the client's codec, so the
/// two check each other.
/// </summary>
public sealed class LoopbackDnsServer : IAsyncDisposable
{
    readonly UdpClient _udp;
    readonly TcpListener _tcp;
    readonly CancellationTokenSource _stop = new();
    readonly Task _udpLoop;
    readonly Task _tcpLoop;
    readonly ConcurrentDictionary<string, IReadOnlyList<string>> _txt = new(StringComparer.OrdinalIgnoreCase);
    int _queries;

    public LoopbackDnsServer()
    {
        // DNS answers on one port over UDP and TCP; the UDP port the system picks may be taken over TCP by another process
        // (seen in a full run beside node processes), so another is picked, a bounded number of times.
        for (int attempt = 1; ; attempt++)
        {
            var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            int port = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
            var tcp = new TcpListener(IPAddress.Loopback, port);
            try { tcp.Start(); }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse && attempt < 16)
            {
                udp.Dispose();
                continue;
            }
            catch { udp.Dispose(); throw; }
            (_udp, _tcp) = (udp, tcp);
            break;
        }
        EndPoint = new IPEndPoint(IPAddress.Loopback, ((IPEndPoint)_udp.Client.LocalEndPoint!).Port);
        _udpLoop = Task.Run(ServeUdpAsync);
        _tcpLoop = Task.Run(ServeTcpAsync);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Every UDP answer has the truncation bit and no records, so the client must ask again over TCP.</summary>
    public bool AlwaysTruncateUdp { get; set; }

    /// <summary>When set and returning bytes for a query, those bytes are sent instead of the real answer.</summary>
    public Func<byte[], byte[]?>? RawAnswer { get; set; }

    /// <summary>Queries answered so far (UDP and TCP).</summary>
    public int Queries => Volatile.Read(ref _queries);

    public void SetTxt(string name, params string[] texts) => _txt[name.TrimEnd('.')] = texts;

    public void Remove(string name) => _txt.TryRemove(name.TrimEnd('.'), out _);

    async Task ServeUdpAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            UdpReceiveResult received;
            try { received = await _udp.ReceiveAsync(_stop.Token); }
            catch (OperationCanceledException) { return; }
            catch (SocketException) { continue; }
            var answer = Answer(received.Buffer, udp: true);
            if (answer is not null) await _udp.SendAsync(answer, received.RemoteEndPoint, _stop.Token);
        }
    }

    async Task ServeTcpAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _tcp.AcceptTcpClientAsync(_stop.Token); }
            catch (OperationCanceledException) { return; }
            catch (SocketException) { continue; }
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        var stream = client.GetStream();
                        var length = new byte[2];
                        await stream.ReadExactlyAsync(length, _stop.Token);
                        var query = new byte[BinaryPrimitives.ReadUInt16BigEndian(length)];
                        await stream.ReadExactlyAsync(query, _stop.Token);
                        var answer = Answer(query, udp: false);
                        if (answer is null) return;
                        var framed = new byte[2 + answer.Length];
                        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)answer.Length);
                        answer.CopyTo(framed, 2);
                        await stream.WriteAsync(framed, _stop.Token);
                    }
                    catch (Exception e) when (e is IOException or OperationCanceledException or SocketException) { }
                }
            });
        }
    }

    byte[]? Answer(byte[] query, bool udp)
    {
        Interlocked.Increment(ref _queries);
        if (RawAnswer?.Invoke(query) is { } raw) return raw;
        if (query.Length < 12) return null;
        // The question: uncompressed labels from offset 12, then type and class.
        int o = 12;
        var labels = new List<string>();
        while (o < query.Length && query[o] != 0)
        {
            int length = query[o];
            if (o + 1 + length > query.Length) return null;
            labels.Add(Encoding.ASCII.GetString(query, o + 1, length));
            o += 1 + length;
        }
        if (o + 5 > query.Length) return null;
        int questionEnd = o + 5;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(o + 1));
        bool edns = BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(10)) > 0;
        string name = string.Join('.', labels);
        bool known = _txt.TryGetValue(name, out var texts);

        var answers = new MemoryStream();
        int count = 0;
        if (known && type == 16)
        {
            foreach (var text in texts!)
            {
                var bytes = Encoding.UTF8.GetBytes(text);
                var rdata = new MemoryStream();
                for (int i = 0; i < bytes.Length || i == 0; i += 255)
                {
                    int n = Math.Min(255, bytes.Length - i);
                    rdata.WriteByte((byte)n);
                    rdata.Write(bytes, i, n);
                }
                answers.Write([0xC0, 0x0C, 0, 16, 0, 1, 0, 0, 0x0E, 0x10]);
                answers.Write([(byte)(rdata.Length >> 8), (byte)rdata.Length]);
                rdata.WriteTo(answers);
                count++;
            }
        }
        bool truncate = udp && (AlwaysTruncateUdp || (!edns && 12 + (questionEnd - 12) + answers.Length > 512));
        var response = new MemoryStream();
        response.Write(query, 0, 2);
        ushort flags = (ushort)(0x8400 | (query[2] & 0x01) << 8 | (truncate ? 0x0200 : 0) | (known ? 0 : 3));
        response.Write([(byte)(flags >> 8), (byte)flags, 0, 1, 0, (byte)(truncate ? 0 : count), 0, 0, 0, 0]);
        response.Write(query, 12, questionEnd - 12);
        if (!truncate) answers.WriteTo(response);
        return response.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _udp.Dispose();
        _tcp.Dispose();
        await Task.WhenAll(_udpLoop, _tcpLoop).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }
}
