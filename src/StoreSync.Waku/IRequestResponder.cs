using Microsoft.Extensions.Logging;
using StoreSync.Libp2p.Host;

namespace StoreSync.Waku;

/// <summary>One Waku request/response protocol as <see cref="RequestResponseHandler"/> runs it: what it answers to a request,
/// what it answers to bytes it cannot read, and how an answer goes on the wire.</summary>
public interface IRequestResponder<TResponse>
{
    /// <summary>What a request is called in the log ("store query", "light push").</summary>
    string Name { get; }

    /// <summary>Requests announcing more are answered as unreadable without their body being read.</summary>
    int MaxRequestBytes { get; }

    /// <summary>How loudly bad input and given-up streams are logged.</summary>
    LogLevel RefusalLevel => LogLevel.Information;

    TResponse Answer(byte[] request, Libp2pStream stream);

    /// <summary>The answer when it needs I/O beyond the store (light push waits for its relay publish); by default <see cref="Answer"/>.</summary>
    ValueTask<TResponse> AnswerAsync(byte[] request, Libp2pStream stream, CancellationToken ct) => ValueTask.FromResult(Answer(request, stream));

    /// <summary>The answer to a request too large, cut short or malformed on the wire, so the peer learns why.</summary>
    TResponse Unreadable(string reason, Libp2pStream stream);

    /// <summary>Writes the answer (length-prefixed) and releases it.</summary>
    ValueTask WriteAsync(Libp2pStream stream, TResponse response, CancellationToken ct);

    /// <summary>Runs after the answer and the FIN (light push cuts off a penalised peer here).</summary>
    ValueTask AfterResponseAsync(Libp2pStream stream) => ValueTask.CompletedTask;
}
