using System.CommandLine;
using Microsoft.Extensions.Hosting;
using StoreSync.Node.Hosting;

namespace StoreSync.Node.Cli;

/// <summary><c>storesync node</c>: runs the store node until Ctrl-C or SIGTERM.</summary>
internal static class NodeCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "JSON configuration file (section \"StoreSync\"); appsettings.json in the working folder is read too" };
        var preset = new Option<string?>("--preset") { Description = "Network preset: twn (cluster 1, shards 0..7 of 8, RLN) or status.prod (cluster 16, shards 1, 32, 64, 128, 256, no RLN); explicit settings override it" };
        var clusterId = new Option<uint?>("--cluster-id") { Description = "Waku cluster id (default 1, The Waku Network)" };
        var shards = new Option<uint[]>("--shard") { Description = "Shard served, repeatable (default 0..7)" };
        var shardsInNetwork = new Option<uint?>("--num-shards-in-network") { Description = "Shards of the cluster for autosharding (default 0 = static sharding only)" };
        var pubsubTopics = new Option<string[]>("--pubsub-topic") { Description = "Named pubsub topic served, repeatable" };
        var listen = new Option<string?>("--listen-address") { Description = "IP address to listen on (default 0.0.0.0)" };
        var tcpPort = new Option<int?>("--tcp-port") { Description = "libp2p TCP port (default 60000)" };
        var websocket = new Option<bool?>("--websocket-support") { Description = "Listen for libp2p over WebSocket too, for browsers (default false)" };
        var websocketPort = new Option<int?>("--websocket-port") { Description = "WebSocket port (default 8000; 0 = any free port)" };
        var websocketSecure = new Option<bool?>("--websocket-secure-support") { Description = "Serve /wss (TLS) instead of /ws on --websocket-port (default false)" };
        var websocketKey = new Option<string?>("--websocket-secure-key-path") { Description = "PEM private key for /wss" };
        var websocketCert = new Option<string?>("--websocket-secure-cert-path") { Description = "PEM certificate (chain) for /wss" };
        var discv5 = new Option<bool?>("--discv5-discovery") { Description = "Find peers and be found by discv5 over UDP (default false)" };
        var discv5Port = new Option<int?>("--discv5-udp-port") { Description = "discv5 UDP port (default 9000; 0 = any free port)" };
        var discv5Bootstrap = new Option<string[]>("--discv5-bootstrap-node") { Description = "Record (enr:...) discv5 starts from, repeatable" };
        var dnsUrl = new Option<string?>("--dns-discovery-url") { Description = "DNS node list enrtree://<key>@<domain> to bootstrap from (EIP-1459); turns DNS discovery on" };
        var dnsFlag = new Option<bool?>("--dns-discovery") { Description = "Deprecated as in nwaku, does nothing: --dns-discovery-url alone turns DNS discovery on" };
        var dnsServers = new Option<string[]>("--dns-addrs-name-server", "--dns-discovery-name-server") { Description = "Name server (IP or IP:port) asked for the tree, repeatable (default 1.1.1.1, 1.0.0.1)" };
        var peerExchange = new Option<bool?>("--peer-exchange") { Description = "Serve peer exchange: records of live peers discv5 found, to light clients (default true)" };
        var keyFile = new Option<string?>("--node-key-file") { Description = "Identity key file, created if missing (default DATA-DIR/node.key)" };
        var entryNodes = new Option<string[]>("--entry-node") { Description = "Bootstrap address, repeatable: enrtree://... (DNS discovery), enr:... (discv5 bootstrap, and dialled) or a /.../p2p/<peer id> multiaddr (dialled)" };
        var staticNodes = new Option<string[]>("--staticnode") { Description = "Multiaddr of a peer to keep connected, repeatable" };
        var maxConnections = new Option<int?>("--max-connections") { Description = "Maximum libp2p connections (default 50)" };
        var relayServiceRatio = new Option<string?>("--relay-service-ratio") { Description = "Split of --max-connections between relay and service peers (default 60:40)" };
        var peerStoreCapacity = new Option<int?>("--peer-store-capacity") { Description = "Most peers the peer book (DATA-DIR/peers.json) keeps (default 1000)" };
        var rest = new Option<bool?>("--rest") { Description = "Serve the REST API (default true)" };
        var restAddress = new Option<string?>("--rest-address") { Description = "REST listen address (default 127.0.0.1)" };
        var restPort = new Option<int?>("--rest-port") { Description = "REST port (default 8645)" };
        var metrics = new Option<bool?>("--metrics-server") { Description = "Serve Prometheus metrics (default true)" };
        var metricsAddress = new Option<string?>("--metrics-server-address") { Description = "Metrics listen address (default 127.0.0.1)" };
        var metricsPort = new Option<int?>("--metrics-server-port") { Description = "Metrics port (default 8008)" };
        var maxPage = new Option<int?>("--store-max-page-size") { Description = "Largest Store v3 page served (default 100)" };
        var uploadLimit = new Option<long?>("--upload-limit") { Description = "History bytes per second sent in all: store responses, sync (default 0 = unlimited)" };
        var downloadLimit = new Option<long?>("--download-limit") { Description = "History bytes per second received in all: sync, own store queries (default 0 = unlimited)" };
        var maxMessageSize = new Option<string?>("--max-msg-size") { Description = "Largest message accepted: KiB, KB or B, e.g. 150KiB (default 150KiB)" };
        var storeSync = new Option<bool?>("--store-sync") { Description = "Reconcile the store with peers that speak store sync (default true)" };
        var syncInterval = new Option<int?>("--store-sync-interval") { Description = "Seconds between syncs of the recent window with each peer (default 300)" };
        var syncRange = new Option<int?>("--store-sync-range") { Description = "Seconds of the recent window (default 3600)" };
        var syncJitter = new Option<int?>("--store-sync-relay-jitter") { Description = "Seconds before now left out of sync windows (default 20)" };
        var syncHistory = new Option<int?>("--store-sync-history-interval") { Description = "Seconds between whole-history syncs with each StoreSync peer (default 3600)" };
        var syncPeers = new Option<int?>("--store-sync-max-concurrent-peers") { Description = "Peers synced at the same time (default 2)" };
        var relay = new Option<bool?>("--relay") { Description = "Take part in Waku relay (gossipsub) on every served pubsub topic and store what it carries (default true)" };
        var rlnRelay = new Option<bool?>("--rln-relay") { Description = "The cluster requires RLN proofs: forward nothing received, publish nothing (default: true on cluster 1 only)" };
        var rateLimits = new Option<string[]>("--rate-limit")
        {
            Description = "Per-peer rate limit [store|lightpush:]VOLUME/PERIOD<ms|s|m|h>, e.g. store:100/1s; repeatable (default 50/s, bursts of 100, each)",
        };

        var command = new Command("node", """
            Run a Waku store node on the local store (RocksDB under --data-dir, default ./data). It listens for libp2p
            (TCP, Noise, Yamux) on --tcp-port (default 60000), with --websocket-support also over WebSocket (/ws, or /wss with
            --websocket-secure-support) on --websocket-port, and prints each multiaddr with /p2p/<peer id> on start (with
            --discv5-discovery also its record, "storesync node enr enr:...", discv5 on --discv5-udp-port); it serves
            Store v3 queries, light push (v3 and legacy), metadata and peer exchange there, to js-waku or any Waku client. REST API on
            127.0.0.1:8645 (GET /store/v3/messages, /health, /debug/v1/info, POST /lightpush/v3/message) and Prometheus
            metrics on 127.0.0.1:8008/metrics. Settings come from appsettings.json (section "StoreSync"), STORESYNC_*
            environment variables and these flags, in rising precedence. Ctrl-C or SIGTERM stops it cleanly: requests in
            flight are answered, then the store is closed. Store sync (reconciliation, native and nwaku mode, and transfer)
            runs with --staticnode peers and with every peer that announces it. Relay (gossipsub on /vac/waku/relay/2.0.0)
            runs on every served pubsub topic unless --relay false; on cluster 1 (or with --rln-relay) it forwards nothing.
            A peer manager dials peers from every source (static and entry nodes, discv5, the --dns-discovery-url tree) to hold its targets and keeps them in
            DATA-DIR/peers.json, so a restart reconnects.
            """)
        {
            config, preset, clusterId, shards, shardsInNetwork, pubsubTopics, listen, tcpPort, websocket, websocketPort, websocketSecure, websocketKey, websocketCert, discv5, discv5Port, discv5Bootstrap, dnsUrl, dnsFlag, dnsServers, peerExchange, keyFile, entryNodes, staticNodes, maxConnections,
            relayServiceRatio, peerStoreCapacity, rest, restAddress, restPort, metrics, metricsAddress, metricsPort, maxPage, rateLimits, uploadLimit, downloadLimit, maxMessageSize,
            storeSync, syncInterval, syncRange, syncJitter, syncHistory, syncPeers, relay, rlnRelay,
        };
        command.SetAction(async (parse, ct) =>
        {
            var flags = new Dictionary<string, string?>();
            void Set<T>(string key, Option<T> option)
            {
                var result = parse.GetResult(option);
                if (result is null || result.Implicit) return;
                object? value = parse.GetValue(option);
                if (value is System.Collections.IEnumerable list and not string)
                {
                    int i = 0;
                    foreach (var item in list) flags[$"{key}:{i++}"] = Convert.ToString(item, System.Globalization.CultureInfo.InvariantCulture);
                }
                else flags[key] = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture);
            }
            Set(nameof(NodeOptions.DataDir), CliOptions.DataDir);
            Set(nameof(NodeOptions.Preset), preset);
            Set(nameof(NodeOptions.ClusterId), clusterId);
            Set(nameof(NodeOptions.Shards), shards);
            Set(nameof(NodeOptions.NumShardsInNetwork), shardsInNetwork);
            Set(nameof(NodeOptions.PubsubTopics), pubsubTopics);
            Set(nameof(NodeOptions.ListenAddress), listen);
            Set(nameof(NodeOptions.TcpPort), tcpPort);
            Set(nameof(NodeOptions.WebsocketSupport), websocket);
            Set(nameof(NodeOptions.WebsocketPort), websocketPort);
            Set(nameof(NodeOptions.WebsocketSecureSupport), websocketSecure);
            Set(nameof(NodeOptions.WebsocketSecureKeyPath), websocketKey);
            Set(nameof(NodeOptions.WebsocketSecureCertPath), websocketCert);
            Set(nameof(NodeOptions.Discv5Discovery), discv5);
            Set(nameof(NodeOptions.Discv5UdpPort), discv5Port);
            Set(nameof(NodeOptions.Discv5BootstrapNodes), discv5Bootstrap);
            Set(nameof(NodeOptions.DnsDiscoveryUrl), dnsUrl);
            Set(nameof(NodeOptions.DnsDiscovery), dnsFlag);
            Set(nameof(NodeOptions.DnsAddrsNameServers), dnsServers);
            Set(nameof(NodeOptions.PeerExchange), peerExchange);
            Set(nameof(NodeOptions.NodeKeyFile), keyFile);
            Set(nameof(NodeOptions.EntryNodes), entryNodes);
            Set(nameof(NodeOptions.StaticNodes), staticNodes);
            Set(nameof(NodeOptions.MaxConnections), maxConnections);
            Set(nameof(NodeOptions.RelayServiceRatio), relayServiceRatio);
            Set(nameof(NodeOptions.PeerStoreCapacity), peerStoreCapacity);
            Set(nameof(NodeOptions.Rest), rest);
            Set(nameof(NodeOptions.RestAddress), restAddress);
            Set(nameof(NodeOptions.RestPort), restPort);
            Set(nameof(NodeOptions.MetricsServer), metrics);
            Set(nameof(NodeOptions.MetricsServerAddress), metricsAddress);
            Set(nameof(NodeOptions.MetricsServerPort), metricsPort);
            Set(nameof(NodeOptions.StoreMaxPageSize), maxPage);
            Set(nameof(NodeOptions.UploadBytesPerSecond), uploadLimit);
            Set(nameof(NodeOptions.DownloadBytesPerSecond), downloadLimit);
            Set(nameof(NodeOptions.RateLimits), rateLimits);
            if (parse.GetValue(maxMessageSize) is { } size)
                flags[nameof(NodeOptions.MaxMessageBytes)] = NodeOptions.TryParseMessageSize(size, out int bytes)
                    ? bytes.ToString(System.Globalization.CultureInfo.InvariantCulture)
                    : throw new CliUsageException($"--max-msg-size: '{size}' is not a size such as 150KiB, 200KB or 1500B");
            Set(nameof(NodeOptions.StoreSync), storeSync);
            Set(nameof(NodeOptions.StoreSyncInterval), syncInterval);
            Set(nameof(NodeOptions.StoreSyncRange), syncRange);
            Set(nameof(NodeOptions.StoreSyncRelayJitter), syncJitter);
            Set(nameof(NodeOptions.StoreSyncHistoryInterval), syncHistory);
            Set(nameof(NodeOptions.StoreSyncMaxConcurrentPeers), syncPeers);
            Set(nameof(NodeOptions.Relay), relay);
            Set(nameof(NodeOptions.RlnRelay), rlnRelay);

            var options = NodeConfiguration.Load(parse.GetValue(config), flags);
            // Network values are checked with every other setting at start, so one run lists all that is wrong (exit 1).
            using var host = StoreNodeHost.Build(options);
            await host.RunAsync(ct).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
