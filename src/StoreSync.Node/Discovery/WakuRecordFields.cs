using System.Net;
using Microsoft.Extensions.Logging;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Node.Hosting;
using StoreSync.Waku.Enr;

namespace StoreSync.Node.Discovery;

/// <summary>The Waku fields of the node's own record (31/WAKU2-ENR), as nwaku writes them: <c>waku2</c> from the protocols
/// mounted, <c>rs</c>/<c>rsv</c> from the cluster and shards, <c>multiaddrs</c> for the WebSocket listen addresses.</summary>
public static class WakuRecordFields
{
    /// <summary>Adds the fields; called after the libp2p host started, so its protocols and bound ports are known.</summary>
    public static void Write(EnrBuilder builder, NodeOptions options, Libp2pHost host, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(host);
        builder.SetWakuCapabilities(WakuCapabilityProtocols.For(host.Protocols));
        // Named pubsub topics have no place in rs; a node serving only those writes no shard field.
        if (options.Shards.Count > 0)
            builder.SetRelayShards(RelayShards.Create((ushort)options.ClusterId, options.Shards.Select(s => (ushort)s)));
        var addresses = AdvertisedMultiaddrs(host.ListenAddresses);
        int written = builder.SetMultiaddrsThatFit(addresses);
        if (written < addresses.Count)
            logger.LogWarning("Node record: {Dropped} of {Count} WebSocket address(es) left out to stay within {Max} bytes",
                addresses.Count - written, addresses.Count, EnrKeys.MaxRecordLength);
    }

    /// <summary>The listen addresses ip+tcp cannot say (/ws, /wss), as nwaku's enrMultiaddrs; a wildcard address
    /// names no host a peer could dial, so it is left out.</summary>
    public static IReadOnlyList<Multiaddr> AdvertisedMultiaddrs(IEnumerable<Multiaddr> listenAddresses) =>
        [.. listenAddresses.Where(a => a.Components.Any(c => c.Protocol == MultiaddrProtocol.Ws || c.Protocol == MultiaddrProtocol.Wss) && !IsWildcard(a)).Select(a => a.WithoutPeerId())];

    static bool IsWildcard(Multiaddr address)
    {
        var first = address.Components[0];
        if (first.Protocol != MultiaddrProtocol.Ip4 && first.Protocol != MultiaddrProtocol.Ip6) return false;
        var ip = new IPAddress(first.Value.Span);
        return ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any);
    }
}
