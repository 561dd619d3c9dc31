using StoreSync.Core;

namespace StoreSync.Node.Hosting;

/// <summary>Everything an operator can set for <c>storesync node</c>; bound from appsettings.json, STORESYNC_* variables and flags.</summary>
/// <remarks>Names follow nwaku's flags where nwaku has one (cluster-id, shard, tcp-port, staticnode, rate-limit, rest-*, metrics-server-*).</remarks>
public sealed partial class NodeOptions
{
    public const string Section = "StoreSync";

    public string DataDir { get; set; } = "data";

    /// <summary>The Waku Network is cluster 1 (nwaku's --preset twn); js-waku defaults to it too.</summary>
    public uint ClusterId { get; set; } = 1;

    /// <summary>Static shards served: pubsub topics /waku/2/rs/{ClusterId}/{shard}.</summary>
    public List<uint> Shards { get; set; } = [0, 1, 2, 3, 4, 5, 6, 7];

    /// <summary>Extra named pubsub topics served (nwaku's deprecated --pubsub-topic).</summary>
    public List<string> PubsubTopics { get; set; } = [];

    public string ListenAddress { get; set; } = "0.0.0.0";
    public int TcpPort { get; set; } = 60000;

    /// <summary>Listen for libp2p over WebSocket too (nwaku's --websocket-support), on ListenAddress and <see cref="WebsocketPort"/>: what browsers dial.</summary>
    public bool WebsocketSupport { get; set; }

    /// <summary>The WebSocket port (nwaku's --websocket-port, default 8000 as there); 0 picks a free one.</summary>
    public int WebsocketPort { get; set; } = 8000;

    /// <summary>Serve /wss (TLS) instead of /ws on that port (nwaku's --websocket-secure-support): browsers refuse plain ws except to localhost.</summary>
    public bool WebsocketSecureSupport { get; set; }

    /// <summary>PEM private key of the /wss certificate (nwaku's --websocket-secure-key-path).</summary>
    public string WebsocketSecureKeyPath { get; set; } = "";

    /// <summary>PEM certificate (chain) /wss presents (nwaku's --websocket-secure-cert-path).</summary>
    public string WebsocketSecureCertPath { get; set; } = "";

    /// <summary>Run discv5 (nwaku's --discv5-discovery): find peers and be found over UDP with the node's record.</summary>
    public bool Discv5Discovery { get; set; }

    /// <summary>The discv5 UDP port (nwaku's --discv5-udp-port, default 9000 as there); 0 picks a free one.</summary>
    public int Discv5UdpPort { get; set; } = 9000;

    /// <summary>Records (enr:…) discv5 starts from (nwaku's --discv5-bootstrap-node, repeatable).</summary>
    public List<string> Discv5BootstrapNodes { get; set; } = [];

    /// <summary>Serve peer exchange (nwaku's --peer-exchange, on by default as there): light clients get records of live
    /// Waku peers that discv5 found.</summary>
    public bool PeerExchange { get; set; } = true;

    /// <summary>File holding the node's identity key (libp2p PrivateKey protobuf); relative paths are under DataDir.</summary>
    public string NodeKeyFile { get; set; } = "node.key";

    public List<string> StaticNodes { get; set; } = [];
    public int MaxConnections { get; set; } = 50;

    /// <summary>nwaku's --relay-service-ratio: the split of MaxConnections between relay and service peers.</summary>
    public string RelayServiceRatio { get; set; } = global::StoreSync.Waku.Peers.PeerTargets.DefaultRelayServiceRatio;

    /// <summary>nwaku's --peer-store-capacity: the most peers the peer book keeps.</summary>
    public int PeerStoreCapacity { get; set; } = global::StoreSync.Waku.Peers.PeerBook.DefaultCapacity;

    public bool Rest { get; set; } = true;
    public string RestAddress { get; set; } = "127.0.0.1";
    public int RestPort { get; set; } = 8645;

    public bool MetricsServer { get; set; } = true;
    public string MetricsServerAddress { get; set; } = "127.0.0.1";
    public int MetricsServerPort { get; set; } = 8008;

    public int StoreMaxPageSize { get; set; } = 100;

    /// <summary>Store queries one peer may make per second before it gets 429 (0 = unlimited); a peer may burst to twice this.</summary>
    public double StoreQueriesPerSecondPerPeer { get; set; } = 50;

    /// <summary>Light push requests one peer may make per second before it gets 429 (0 = unlimited); a peer may burst to twice this.</summary>
    public double LightPushRequestsPerSecondPerPeer { get; set; } = 50;

    /// <summary>nwaku's <c>--rate-limit</c> values (<see cref="RateLimitSetting"/>); each replaces the per-second setting of its protocol.</summary>
    public List<string> RateLimits { get; set; } = [];

    public int MaxMessageBytes { get; set; } = MessageValidator.DefaultMaxMessageBytes;

    /// <summary>History bytes per second the node may send in all (store responses, sync); 0 = unlimited. spec/node.md.</summary>
    public long UploadBytesPerSecond { get; set; }

    /// <summary>History bytes per second the node may receive in all (sync transfer, its own store queries); 0 = unlimited.</summary>
    public long DownloadBytesPerSecond { get; set; }

    /// <summary>Each bucket's burst, in seconds of its rate (at least 1 KiB).</summary>
    public double BandwidthBurstSeconds { get; set; } = Governor.GovernorLimits.DefaultBurstSeconds;

    /// <summary>Per-community limits, by community name (section <c>StoreSync:CommunityBandwidth:&lt;name&gt;</c>).</summary>
    public Dictionary<string, Governor.BandwidthLimitOptions> CommunityBandwidth { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The store's per-peer rate and burst: from <see cref="RateLimits"/> if one names the store (or no protocol), else from <see cref="StoreQueriesPerSecondPerPeer"/>.</summary>
    public (double PerSecond, double Burst) StoreRateLimit() => RateLimitFor(RateLimitSetting.Store, StoreQueriesPerSecondPerPeer);

    /// <summary>Light push's per-peer rate and burst, chosen as for the store.</summary>
    public (double PerSecond, double Burst) LightPushRateLimit() => RateLimitFor(RateLimitSetting.LightPush, LightPushRequestsPerSecondPerPeer);

    (double, double) RateLimitFor(string protocol, double perSecond)
    {
        RateLimitSetting? chosen = null;
        foreach (var text in RateLimits)
        {
            // A protocol's own entry wins over a global one, whatever the order; among equals the last wins, as with flags.
            if (!RateLimitSetting.TryParse(text, out var setting, out _)) continue;
            if (setting!.Protocol == protocol || (setting.Protocol is null && chosen?.Protocol is null)) chosen = setting;
        }
        return chosen is null ? (perSecond, Math.Max(1, perSecond * 2)) : (chosen.PerSecond, chosen.Volume);
    }
    /// <summary>Communities by name (spec/communities.md); seeds the live set kept in DataDir/communities.json.</summary>
    public Dictionary<string, Communities.CommunityOptions> Communities { get; set; } = [];

    /// <summary>Store, serve and sync messages that belong to no community: true, false, or unset = only while no community is defined.</summary>
    public bool? StoreUnlisted { get; set; }

    /// <summary>Most bytes of messages the store keeps in all (0 = no global limit).</summary>
    public long MaxStoreBytes { get; set; }

    /// <summary>Reads nwaku's <c>--max-msg-size</c> form: a number with unit KiB (1024), KB (1000) or B, e.g. <c>150KiB</c>,
    /// <c>1500 B</c>; a bare number is bytes. Units are case-insensitive.</summary>
    public static bool TryParseMessageSize(string text, out int bytes)
    {
        bytes = 0;
        var t = text.Trim();
        int multiplier = 1;
        foreach (var (unit, factor) in new[] { ("KiB", 1024), ("KB", 1000), ("B", 1) })
        {
            if (!t.EndsWith(unit, StringComparison.OrdinalIgnoreCase)) continue;
            t = t[..^unit.Length].TrimEnd();
            multiplier = factor;
            break;
        }
        if (!long.TryParse(t, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n) || n * multiplier > int.MaxValue) return false;
        bytes = (int)(n * multiplier);
        return true;
    }

    /// <summary>Reconcile the store with peers (nwaku's --store-sync; on by default here: keeping history complete is the point).</summary>
    public bool StoreSync { get; set; } = true;

    /// <summary>Seconds between syncs of the recent window with each peer (nwaku's --store-sync-interval).</summary>
    public int StoreSyncInterval { get; set; } = 300;

    /// <summary>Seconds of the recent window (nwaku's --store-sync-range).</summary>
    public int StoreSyncRange { get; set; } = 3600;

    /// <summary>Seconds before now left out of every window, for messages still in flight (nwaku's --store-sync-relay-jitter).</summary>
    public int StoreSyncRelayJitter { get; set; } = 20;

    /// <summary>Seconds between whole-history syncs with each StoreSync peer (native mode only).</summary>
    public int StoreSyncHistoryInterval { get; set; } = 3600;

    /// <summary>Peers synced at the same time.</summary>
    public int StoreSyncMaxConcurrentPeers { get; set; } = 2;

    /// <summary>Set by <c>storesync backfill</c> (multiaddrs of the peers it fills from): the node runs that one swarm backfill
    /// and no sync schedule of its own (spec/sync.md §5.7).</summary>
    public List<string> BackfillPeers { get; set; } = [];

    public IEnumerable<string> ServedPubsubTopics() =>
        Shards.Select(s => PubsubTopic.ForShard(ClusterId, s)).Concat(PubsubTopics).Distinct(StringComparer.Ordinal);

    IEnumerable<string> WebsocketErrors()
    {
        if (WebsocketPort is < 0 or > 65535) yield return $"WebsocketPort (--websocket-port) {WebsocketPort} is not a port number";
        else if (WebsocketSupport && WebsocketPort != 0 && WebsocketPort == TcpPort)
            yield return $"WebsocketPort (--websocket-port) {WebsocketPort} is also the TCP port (--tcp-port): each needs its own";
        if (WebsocketSecureSupport && !WebsocketSupport)
            yield return "WebsocketSecureSupport (--websocket-secure-support) requires --websocket-support=true";
        if (!WebsocketSecureSupport) yield break;
        foreach (var (name, flag, path) in new[]
        {
            (nameof(WebsocketSecureCertPath), "--websocket-secure-cert-path", WebsocketSecureCertPath),
            (nameof(WebsocketSecureKeyPath), "--websocket-secure-key-path", WebsocketSecureKeyPath),
        })
        {
            if (string.IsNullOrWhiteSpace(path)) yield return $"{name} ({flag}) is empty: --websocket-secure-support needs a PEM file";
            else if (!File.Exists(path)) yield return $"{name} ({flag}) '{path}' does not exist";
        }
    }

    /// <summary>Every problem with the settings, each as a sentence naming the setting; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(DataDir)) errors.Add("DataDir (--data-dir) is empty");
        errors.AddRange(NetworkErrors());
        foreach (var t in PubsubTopics)
            if (!PubsubTopic.TryValidate(t, out var e)) errors.Add($"PubsubTopics (--pubsub-topic): {e}");
        if (Shards.Count == 0 && PubsubTopics.Count == 0) errors.Add("no shard and no pubsub topic configured: the node would serve nothing");
        if (TcpPort is < 0 or > 65535) errors.Add($"TcpPort (--tcp-port) {TcpPort} is not a port number");
        errors.AddRange(WebsocketErrors());
        if (Discv5UdpPort is < 0 or > 65535) errors.Add($"Discv5UdpPort (--discv5-udp-port) {Discv5UdpPort} is not a port number");
        foreach (var enr in Discv5BootstrapNodes)
            if (!global::StoreSync.Libp2p.Discovery.Enr.EnrRecord.TryParse(enr, out _, out var why))
                errors.Add($"Discv5BootstrapNodes (--discv5-bootstrap-node) '{enr}': {why}");
        errors.AddRange(DnsDiscoveryErrors());
        errors.AddRange(EntryNodeErrors());
        if (RestPort is < 0 or > 65535) errors.Add($"RestPort (--rest-port) {RestPort} is not a port number");
        if (MetricsServerPort is < 0 or > 65535) errors.Add($"MetricsServerPort (--metrics-server-port) {MetricsServerPort} is not a port number");
        else if (MetricsServer && MetricsServerPort == 0)
            errors.Add("MetricsServerPort (--metrics-server-port) 0: the metrics listener cannot pick a free port; give one, or --metrics-server false");
        if (!System.Net.IPAddress.TryParse(ListenAddress, out _)) errors.Add($"ListenAddress (--listen-address) '{ListenAddress}' is not an IP address");
        if (!System.Net.IPAddress.TryParse(RestAddress, out _)) errors.Add($"RestAddress (--rest-address) '{RestAddress}' is not an IP address");
        if (!System.Net.IPAddress.TryParse(MetricsServerAddress, out var metricsAddress)) errors.Add($"MetricsServerAddress (--metrics-server-address) '{MetricsServerAddress}' is not an IP address");
        else if (MetricsServer && metricsAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
            errors.Add($"MetricsServerAddress (--metrics-server-address) '{MetricsServerAddress}': the metrics listener (.NET's HttpListener) takes IPv4 addresses only");
        if (MaxConnections is < 1 or > 10_000) errors.Add($"MaxConnections (--max-connections) {MaxConnections} is outside 1..10000");
        if (!global::StoreSync.Waku.Peers.PeerTargets.TryParseRatio(RelayServiceRatio, out _))
            errors.Add($"RelayServiceRatio (--relay-service-ratio) '{RelayServiceRatio}' is not relay:service summing to 100");
        if (PeerStoreCapacity < MaxConnections || PeerStoreCapacity > 100_000)
            errors.Add($"PeerStoreCapacity (--peer-store-capacity) {PeerStoreCapacity} is outside MaxConnections..100000");
        if (StoreMaxPageSize is < 1 or > 100) errors.Add($"StoreMaxPageSize (--store-max-page-size) {StoreMaxPageSize} is outside 1..100 (Store v3 maximum)");
        if (StoreQueriesPerSecondPerPeer < 0) errors.Add("StoreQueriesPerSecondPerPeer must not be negative");
        if (LightPushRequestsPerSecondPerPeer < 0) errors.Add("LightPushRequestsPerSecondPerPeer must not be negative");
        foreach (var r in RateLimits)
            if (!RateLimitSetting.TryParse(r, out _, out var e)) errors.Add($"RateLimits (--rate-limit): {e}");
        if (MaxMessageBytes is < 1024 or > 64 * 1024 * 1024) errors.Add($"MaxMessageBytes {MaxMessageBytes} is outside 1 KiB..64 MiB");
        foreach (var e in new Governor.BandwidthLimitOptions { UploadBytesPerSecond = UploadBytesPerSecond, DownloadBytesPerSecond = DownloadBytesPerSecond }.Validate())
            errors.Add(e.Replace("UploadBytesPerSecond", "UploadBytesPerSecond (--upload-limit)").Replace("DownloadBytesPerSecond", "DownloadBytesPerSecond (--download-limit)"));
        if (!(BandwidthBurstSeconds >= Governor.GovernorLimits.MinBurstSeconds && BandwidthBurstSeconds <= Governor.GovernorLimits.MaxBurstSeconds))
            errors.Add($"BandwidthBurstSeconds {BandwidthBurstSeconds} is outside {Governor.GovernorLimits.MinBurstSeconds}..{Governor.GovernorLimits.MaxBurstSeconds}");
        foreach (var (name, limits) in CommunityBandwidth)
            foreach (var e in limits.Validate()) errors.Add($"CommunityBandwidth:{name}: {e}");
        if (MaxStoreBytes < 0) errors.Add($"MaxStoreBytes {MaxStoreBytes} is negative (0 = no global limit)");
        errors.AddRange(global::StoreSync.Node.Communities.CommunityRegistry.CheckConfigured(this));
        if (StoreSyncInterval is < 1 or > 86_400) errors.Add($"StoreSyncInterval (--store-sync-interval) {StoreSyncInterval} is outside 1..86400 s");
        if (StoreSyncRange is < 1 or > 30 * 86_400) errors.Add($"StoreSyncRange (--store-sync-range) {StoreSyncRange} is outside 1 s..30 days");
        if (StoreSyncRelayJitter is < 0 or > 3600) errors.Add($"StoreSyncRelayJitter (--store-sync-relay-jitter) {StoreSyncRelayJitter} is outside 0..3600 s");
        if (StoreSyncHistoryInterval is < 1 or > 7 * 86_400) errors.Add($"StoreSyncHistoryInterval (--store-sync-history-interval) {StoreSyncHistoryInterval} is outside 1 s..7 days");
        if (StoreSyncMaxConcurrentPeers is < 1 or > 64) errors.Add($"StoreSyncMaxConcurrentPeers (--store-sync-max-concurrent-peers) {StoreSyncMaxConcurrentPeers} is outside 1..64");
        return errors;
    }
}
