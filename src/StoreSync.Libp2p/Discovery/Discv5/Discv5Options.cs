using System.Net;
using StoreSync.Libp2p.Discovery.Enr;

namespace StoreSync.Libp2p.Discovery.Discv5;

/// <summary>Where a <see cref="Discv5Node"/> listens, what its record says, and its timing.</summary>
public sealed class Discv5Options
{
    /// <summary>The address the UDP socket binds (IPv4, IPv6, or "::" for both).</summary>
    public IPAddress ListenAddress { get; init; } = IPAddress.Any;

    /// <summary>The UDP port; 0 picks a free one (tests).</summary>
    public int Port { get; init; }

    /// <summary>The "ip" the record advertises; when null, the listen address unless it is the wildcard (then no "ip").</summary>
    public IPAddress? AdvertisedAddress { get; init; }

    /// <summary>The TCP port of the node's libp2p listener, put in the record beside its UDP port ("tcp" or "tcp6" by the same
    /// rule as "udp" or "udp6"); null: none.</summary>
    public ushort? TcpPort { get; init; }

    /// <summary>Records of nodes to start from (nwaku's --discv5-bootstrap-node).</summary>
    public IReadOnlyList<EnrRecord> BootstrapNodes { get; init; } = [];

    /// <summary>Adds fields of the protocols above discv5 (Waku's) to the record before it is first signed.</summary>
    public Action<EnrBuilder>? ConfigureRecord { get; init; }

    /// <summary>One attempt's wait for a response (chainsafe/discv5 uses 1 s; loaded test machines need more).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Further attempts after a timed-out one.</summary>
    public int RequestRetries { get; init; } = 1;

    /// <summary>How often the least recently seen node of a random bucket is pinged to check it is alive.</summary>
    public TimeSpan RevalidateInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often a random-walk lookup refreshes the table when no one is asking for peers.</summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A whole lookup ends after this, whatever is left to ask.</summary>
    public TimeSpan LookupTimeout { get; init; } = TimeSpan.FromSeconds(20);

    public TimeProvider Time { get; init; } = TimeProvider.System;
}
