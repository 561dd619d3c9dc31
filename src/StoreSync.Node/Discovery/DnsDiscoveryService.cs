using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StoreSync.Libp2p.Discovery.Dns;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Node.Hosting;
using StoreSync.Waku;
using StoreSync.Waku.Peers;

namespace StoreSync.Node.Discovery;

/// <summary>DNS discovery in the node (nwaku's --dns-discovery-url): walks the EIP-1459 tree at start and every
/// <see cref="NodeOptions.DnsDiscoveryInterval"/> seconds, and offers every record it lists to the peer manager as a
/// <see cref="PeerSources.DnsDiscovery"/> peer. A tree whose root does not verify against the URL's key is refused whole.</summary>
/// <remarks>Started after the peer manager, so the offers land in a running book. Records with a UDP port are also
/// pinged by discv5 when it runs, which puts the ones that answer into its table (nwaku uses DNS-found nodes as discv5
/// bootstrap nodes too).</remarks>
public sealed class DnsDiscoveryService(NodeOptions options, IPeerSink peers, Discv5Service discv5, WakuMetrics metrics,
    ILogger<DnsDiscoveryService> logger) : IHostedService
{
    /// <summary>One walk may take this long in all before it is given up (each lookup is bounded by the resolver too).</summary>
    static readonly TimeSpan WalkTimeout = TimeSpan.FromMinutes(2);

    /// <summary>After a walk that failed, the next waits this long, doubling up to the interval.</summary>
    static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(30);

    /// <summary>Records discv5 pings per walk: enough to seed its table, bounded whatever the tree lists.</summary>
    const int MaxDiscv5Pings = 16;

    readonly CancellationTokenSource _stopping = new();
    readonly long[] _walks = new long[3];
    long _badRecords, _lastRecords;
    ulong _highestSeq;
    Task? _loop;

    enum Outcome { Ok, Refused, Failed }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.DnsDiscovery && options.DnsDiscoveryUrl.Length == 0)
            logger.LogWarning("--dns-discovery is deprecated and does nothing by itself (as in nwaku): give --dns-discovery-url enrtree://…");
        var tree = options.DnsDiscoveryTree();
        if (tree is null || options.BackfillPeers.Count > 0) return Task.CompletedTask;
        var servers = options.DnsNameServerEndPoints();
        RegisterMetrics();
        logger.LogInformation("DNS discovery of {Tree} through {Servers}, every {Interval} s", tree, string.Join(", ", servers), options.DnsDiscoveryInterval);
        _loop = Task.Run(() => RunAsync(tree, new EnrTreeWalker(new DnsTxtResolver(servers), logger), _stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    async Task RunAsync(EnrTreeUrl tree, EnrTreeWalker walker, CancellationToken ct)
    {
        var interval = TimeSpan.FromSeconds(options.DnsDiscoveryInterval);
        var retry = FirstRetry;
        while (!ct.IsCancellationRequested)
        {
            var outcome = await WalkOnceAsync(tree, walker, ct).ConfigureAwait(false);
            if (ct.IsCancellationRequested) return;
            Interlocked.Increment(ref _walks[(int)outcome]);
            var wait = outcome == Outcome.Ok ? interval : retry;
            retry = outcome == Outcome.Ok ? FirstRetry : TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, interval.Ticks));
            try { await Task.Delay(wait < interval ? wait : interval, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    async Task<Outcome> WalkOnceAsync(EnrTreeUrl tree, EnrTreeWalker walker, CancellationToken ct)
    {
        EnrTreeContents contents;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(WalkTimeout);
        try { contents = await walker.WalkAsync(tree, timeout.Token).ConfigureAwait(false); }
        catch (DnsDiscoveryException e) when (e.BadSignature)
        {
            logger.LogError("DNS discovery refused the tree {Tree}: {Reason}; nothing from it is dialed", tree, e.Reason);
            return Outcome.Refused;
        }
        catch (DnsDiscoveryException e)
        {
            logger.LogWarning("DNS discovery of {Tree} failed: {Name}: {Reason}", tree, e.Name, e.Reason);
            return Outcome.Failed;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            logger.LogWarning("DNS discovery of {Tree} gave up after {Seconds} s", tree, WalkTimeout.TotalSeconds);
            return Outcome.Failed;
        }
        catch (OperationCanceledException) { return Outcome.Failed; }

        // A root older than one already read is a stale cache or a replay: the list it names may hold nodes since removed.
        ulong seq = contents.Trees[0].Seq;
        if (seq < _highestSeq)
        {
            logger.LogWarning("DNS discovery of {Tree}: root seq {Seq} is older than {Highest} read before; its records are not offered", tree, seq, _highestSeq);
            return Outcome.Refused;
        }
        _highestSeq = seq;

        int offered = 0, bad = 0;
        var forDiscv5 = new List<EnrRecord>();
        foreach (var text in contents.Records)
        {
            if (!EnrRecord.TryParse(text, out var record, out var why))
            {
                bad++;
                logger.LogWarning("DNS discovery of {Tree}: a listed record is refused: {Reason}", tree, why);
                continue;
            }
            if (peers.Offer(DiscoveredPeer.FromEnr(record!, PeerSources.DnsDiscovery))) offered++;
            if (forDiscv5.Count < MaxDiscv5Pings && discv5.Node?.EndPointOf(record!) is not null) forDiscv5.Add(record!);
        }
        Interlocked.Add(ref _badRecords, bad);
        Interlocked.Exchange(ref _lastRecords, contents.Records.Count - bad);
        logger.LogInformation("DNS discovery of {Tree} (seq {Seq}, {Trees} tree(s)): {Records} records, {Offered} taken by the peer book, {Bad} refused, {Problems} problems",
            tree, seq, contents.Trees.Count, contents.Records.Count, offered, bad, contents.Problems.Count);
        if (discv5.Node is { } node)
            foreach (var record in forDiscv5)
                _ = PingAsync(node, record, ct);
        return Outcome.Ok;
    }

    async Task PingAsync(Libp2p.Discovery.Discv5.Discv5Node node, EnrRecord record, CancellationToken ct)
    {
        try { await node.PingAsync(record, ct).ConfigureAwait(false); }
        catch (Exception e) when (e is Libp2p.Discovery.Discv5.Discv5Exception or OperationCanceledException or ObjectDisposedException or IOException or InvalidOperationException)
        {
            logger.LogDebug("discv5 PING of a DNS-listed node failed: {Reason}", e.Message);
        }
    }

    void RegisterMetrics()
    {
        static KeyValuePair<string, object?> Tag(string value) => new("result", value);
        metrics.ObserveCounter("storesync_dns_discovery_walks", "{walk}", "Walks of the DNS discovery tree, by result (ok, refused: bad signature or old seq, failed: DNS)",
            () => [new(Interlocked.Read(ref _walks[0]), Tag("ok")), new(Interlocked.Read(ref _walks[1]), Tag("refused")), new(Interlocked.Read(ref _walks[2]), Tag("failed"))]);
        metrics.ObserveCounter("storesync_dns_discovery_records_refused", "{record}", "Records listed by a verified tree that did not decode or verify",
            () => [new(Interlocked.Read(ref _badRecords))]);
        metrics.ObserveGauge("storesync_dns_discovery_records", "{record}", "Valid records the last verified walk of the tree listed",
            () => [new(Interlocked.Read(ref _lastRecords))]);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null) await _loop.ConfigureAwait(false);
        _stopping.Dispose();
    }
}
