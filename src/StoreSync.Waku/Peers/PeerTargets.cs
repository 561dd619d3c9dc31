namespace StoreSync.Waku.Peers;

/// <summary>How many peers of each kind the manager holds, from nwaku's defaults: 50 connections split relay:service 60:40,
/// a third of the relay peers dialed by us, the rest taken from inbound, each divided evenly over the relay shards.</summary>
/// <remarks>Store-sync peers are service peers; <see cref="SyncPeers"/> of them are dialed and kept (the schedule syncs with
/// every connected peer that announces sync, so these are the peers reconciliation starts from).</remarks>
public sealed record PeerTargets
{
    public const int DefaultMaxConnections = 50;
    public const string DefaultRelayServiceRatio = "60:40";

    /// <summary>Store-sync peers the manager dials when fewer are connected.</summary>
    public const int DefaultSyncPeers = 5;

    /// <summary>Dials the manager starts at once (nwaku's MaxParallelDials).</summary>
    public const int MaxParallelDials = 10;

    public int MaxConnections { get; init; } = DefaultMaxConnections;

    /// <summary>The relay share of <see cref="MaxConnections"/>, e.g. 0.6 for "60:40".</summary>
    public double RelayRatio { get; init; } = 0.6;

    public int SyncPeers { get; init; } = DefaultSyncPeers;

    public int MaxRelayPeers => (int)Math.Ceiling(MaxConnections * RelayRatio);

    public int MaxServicePeers => (int)Math.Floor(MaxConnections * (1 - RelayRatio));

    public int OutRelayPeers => MaxRelayPeers / 3;

    public int InRelayPeers => MaxRelayPeers - OutRelayPeers;

    /// <summary>Relay peers to dial per shard: the outbound target divided over the shards, at least one each.</summary>
    public int OutRelayPeersPerShard(int shards) => shards <= 0 ? 0 : Math.Max(1, OutRelayPeers / shards);

    /// <summary>Inbound relay peers kept per shard before the surplus is pruned (at least one each).</summary>
    public int InRelayPeersPerShard(int shards) => shards <= 0 ? 0 : Math.Max(1, InRelayPeers / shards);

    /// <summary>Parses nwaku's <c>--relay-service-ratio</c> "relay:service" (the two summing to 100).</summary>
    public static bool TryParseRatio(string text, out double relay)
    {
        relay = 0;
        var parts = text.Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int r) || !int.TryParse(parts[1], out int s) || r < 0 || s < 0 || r + s != 100) return false;
        relay = r / 100.0;
        return true;
    }
}
