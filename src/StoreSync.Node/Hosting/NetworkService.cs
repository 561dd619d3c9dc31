using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Node.Rest;
using StoreSync.Waku;
using StoreSync.Waku.LightPush;
using StoreSync.Waku.Metadata;
using StoreSync.Waku.Store;

namespace StoreSync.Node.Hosting;

/// <summary>Starts the libp2p host with the Waku protocols, prints the node's full multiaddr, and stops it on shutdown (the peer manager dials static nodes).</summary>
public sealed class NetworkService(Libp2pHost host, NodeOptions options, StoreQueryService store, LightPushService lightPush,
    MetadataService metadata, WakuMetrics metrics, ILogger<NetworkService> logger, RelayService? relay = null) : IHostedService, INodeInfo
{
    public string PeerId => host.PeerId.ToString();

    /// <summary>Dialable addresses (TCP, then /ws or /wss), each ending in /p2p/: an unspecified listen IP (0.0.0.0, ::) is reported as the loopback address.</summary>
    public IReadOnlyList<string> ListenAddresses => [.. host.ListenAddresses.Select(Dialable).Select(a => a.ToString())];

    public int ConnectedPeers => host.Connections.Count;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        store.Attach(host);
        lightPush.Attach(host);
        metadata.Attach(host);
        relay?.Start(); // before listening, so the first peer's identify already lists the relay protocol
        metrics.ObserveGauge("storesync_connected_peers", "{peer}", "Open libp2p connections", () => [new(host.Connections.Count)]);
        await host.StartAsync(NodeListenAddresses.For(options), cancellationToken).ConfigureAwait(false);
        foreach (var address in ListenAddresses)
        {
            // Printed on stdout (not only logged) so scripts and tests can read the address to dial.
            Console.Out.WriteLine($"storesync node listening on {address}");
        }
        Console.Out.Flush();
    }

    static Multiaddr Dialable(Multiaddr address)
    {
        var s = address.ToString();
        if (s.StartsWith("/ip4/0.0.0.0/", StringComparison.Ordinal)) return Multiaddr.Parse("/ip4/127.0.0.1/" + s["/ip4/0.0.0.0/".Length..]);
        if (s.StartsWith("/ip6/::/", StringComparison.Ordinal)) return Multiaddr.Parse("/ip6/::1/" + s["/ip6/::/".Length..]);
        return address;
    }

    /// <summary>How long a stop waits for requests in flight (light pushes, queries) to be answered; well inside the host's 15 s shutdown timeout.</summary>
    public static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(8);

    /// <summary>Stops taking requests, answers those in flight (so an acknowledged light push is stored and none is cut off
    /// half-way), then closes every connection. The store is closed after this, by the host.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (relay is not null) await relay.StopAsync().ConfigureAwait(false);
        logger.LogInformation("Draining: no new connections or streams; waiting for {Handlers} request(s) in flight", host.RunningHandlers);
        int left = await host.DrainAsync(DrainTimeout, cancellationToken).ConfigureAwait(false);
        if (left > 0) logger.LogWarning("Drain timed out after {Seconds} s with {Handlers} stream handler(s) still running; closing their connections", DrainTimeout.TotalSeconds, left);
        else logger.LogInformation("Drained: every request in flight was answered");
        await host.DisposeAsync().ConfigureAwait(false);
    }
}
