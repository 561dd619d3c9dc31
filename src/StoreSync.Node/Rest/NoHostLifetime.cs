using Microsoft.Extensions.Hosting;

namespace StoreSync.Node.Rest;

/// <summary>The REST app runs inside the node's host, which owns signals and shutdown; this lifetime does nothing.</summary>
internal sealed class NoHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
