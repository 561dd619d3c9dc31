using System.Buffers;
using System.Text;
using StoreSync.Core.Wire;

namespace StoreSync.Libp2p.Multistream;

/// <summary>multistream-select 1.0 (libp2p connections spec): agree on one protocol for a raw connection or a new stream.</summary>
public static class MultistreamSelect
{
    public const string ProtocolId = "/multistream/1.0.0";
    public const string NotAvailable = "na";
    public const string List = "ls";

    /// <summary>A listener answers at most this many proposals before giving up on a peer that never agrees.</summary>
    public const int MaxProposals = 64;

    /// <summary>Dialer: proposes each protocol in turn (the first together with the header, as js-libp2p does) and returns the one accepted.</summary>
    /// <exception cref="MultistreamException">The peer supports none of them or broke the framing.</exception>
    public static async Task<string> SelectAsync(Stream stream, IReadOnlyList<string> protocols, CancellationToken ct)
    {
        if (protocols.Count == 0) throw new ArgumentException("no protocol to propose", nameof(protocols));
        await MultistreamMessage.WriteAsync(stream, [ProtocolId, protocols[0]], ct).ConfigureAwait(false);
        var header = await MultistreamMessage.ReadLineAsync(stream, ct).ConfigureAwait(false);
        if (header != ProtocolId) throw new MultistreamException($"peer speaks '{Shorten(header)}', not {ProtocolId}");
        for (int i = 0; ; )
        {
            var answer = await MultistreamMessage.ReadLineAsync(stream, ct).ConfigureAwait(false);
            if (answer == protocols[i]) return answer;
            if (answer != NotAvailable) throw new MultistreamException($"peer answered '{Shorten(answer)}' to a proposal of {protocols[i]}");
            if (++i == protocols.Count) throw new MultistreamException($"peer supports none of: {string.Join(", ", protocols)}");
            await MultistreamMessage.WriteAsync(stream, [protocols[i]], ct).ConfigureAwait(false);
        }
    }

    /// <summary>Listener: answers proposals (<c>na</c> for unsupported ones, the list for <c>ls</c>) until one is supported.</summary>
    /// <param name="supported">Protocols to list for <c>ls</c> and to accept.</param>
    public static async Task<string> HandleAsync(Stream stream, IReadOnlyCollection<string> supported, CancellationToken ct)
    {
        await MultistreamMessage.WriteAsync(stream, [ProtocolId], ct).ConfigureAwait(false);
        var header = await MultistreamMessage.ReadLineAsync(stream, ct).ConfigureAwait(false);
        if (header != ProtocolId) throw new MultistreamException($"peer speaks '{Shorten(header)}', not {ProtocolId}");
        for (int i = 0; i < MaxProposals; i++)
        {
            var proposal = await MultistreamMessage.ReadLineAsync(stream, ct).ConfigureAwait(false);
            if (proposal == List)
            {
                await WriteListAsync(stream, supported, ct).ConfigureAwait(false);
                continue;
            }
            if (supported.Contains(proposal))
            {
                await MultistreamMessage.WriteAsync(stream, [proposal], ct).ConfigureAwait(false);
                return proposal;
            }
            await MultistreamMessage.WriteAsync(stream, [NotAvailable], ct).ConfigureAwait(false);
        }
        throw new MultistreamException($"peer made {MaxProposals} proposals without agreeing on one");
    }

    /// <summary>The <c>ls</c> answer: one message whose body is each protocol as its own message, then a newline (as js-libp2p writes it).</summary>
    static async Task WriteListAsync(Stream stream, IReadOnlyCollection<string> supported, CancellationToken ct)
    {
        int inner = 1;
        foreach (var p in supported) inner += MultistreamMessage.EncodedLength(p);
        var buffer = ArrayPool<byte>.Shared.Rent(inner + Varint.MaxLength);
        try
        {
            int at = Varint.Write(buffer, (ulong)inner);
            foreach (var p in supported) at += MultistreamMessage.Encode(buffer.AsSpan(at), p);
            buffer[at++] = (byte)'\n';
            await stream.WriteAsync(buffer.AsMemory(0, at), ct).ConfigureAwait(false);
            await stream.FlushAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Dialer side of <c>ls</c>: the protocols a listener supports (after the header exchange).</summary>
    public static async Task<IReadOnlyList<string>> ListAsync(Stream stream, CancellationToken ct)
    {
        await MultistreamMessage.WriteAsync(stream, [ProtocolId, List], ct).ConfigureAwait(false);
        var header = await MultistreamMessage.ReadLineAsync(stream, ct).ConfigureAwait(false);
        if (header != ProtocolId) throw new MultistreamException($"peer speaks '{Shorten(header)}', not {ProtocolId}");
        var body = await MultistreamMessage.ReadBodyAsync(stream, ct).ConfigureAwait(false);
        var protocols = new List<string>();
        int at = 0;
        while (at < body.Length && body[at] != (byte)'\n')
        {
            int n = Varint.Read(body.AsSpan(at), out ulong length);
            if (n == 0 || length == 0 || (ulong)(body.Length - at - n) < length) throw new MultistreamException("malformed ls answer");
            var line = body.AsSpan(at + n, (int)length);
            if (line[^1] != (byte)'\n') throw new MultistreamException("ls entry does not end with a newline");
            protocols.Add(Encoding.UTF8.GetString(line[..^1]));
            at += n + (int)length;
        }
        return protocols;
    }

    static string Shorten(string s) => s.Length <= 64 ? s : s[..61] + "...";
}
