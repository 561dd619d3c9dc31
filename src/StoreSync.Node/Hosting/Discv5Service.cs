using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StoreSync.Libp2p.Discovery.Discv5;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Node.Discovery;

namespace StoreSync.Node.Hosting;

/// <summary>Runs discv5 (nwaku's --discv5-discovery) on the node's identity key and prints the node's record at start.</summary>
/// <remarks>
/// Started after the network service, so the record's "tcp" is the port libp2p really bound. The record advertises the
/// listen address unless that is the wildcard (then peers learn the address from PONG). Discovered peers are read from
/// <see cref="Node"/> (<see cref="Discv5Node.DiscoverAsync"/>); the Waku fields are written by <see cref="WakuRecordFields"/>, then <see cref="ConfigureRecord"/> may add more.
/// </remarks>
public sealed partial class Discv5Service(NodeOptions options, IdentityKey identity, Libp2pHost host, ILogger<Discv5Service> logger,
    Waku.WakuMetrics? metrics = null) : IHostedService
{
    /// <summary>The running discv5 node, or null when discovery is off.</summary>
    public Discv5Node? Node { get; private set; }

    /// <summary>The record's text form, or "" when discovery is off (what /debug/v1/info reports as enrUri).</summary>
    public string EnrUri => Node?.LocalRecord.ToText() ?? "";

    /// <summary>Further fields added to the record before it is first signed (after the Waku fields).</summary>
    public Action<EnrBuilder>? ConfigureRecord { get; set; }

    [GeneratedRegex(@"/tcp/(\d+)(/p2p/[^/]+)?$")]
    private static partial Regex TcpPort();

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Discv5Discovery) return Task.CompletedTask;
        // The plain TCP listen address (a /ws one ends in /ws) gives the record its "tcp".
        var tcp = host.ListenAddresses.Select(a => TcpPort().Match(a.ToString())).FirstOrDefault(m => m.Success);
        var bootstrap = options.AllDiscv5BootstrapNodes().Select(EnrRecord.Parse).ToList();
        Node = Discv5Node.Start(identity, new Discv5Options
        {
            ListenAddress = IPAddress.Parse(options.ListenAddress),
            Port = options.Discv5UdpPort,
            TcpPort = tcp is null ? null : ushort.Parse(tcp.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
            BootstrapNodes = bootstrap,
            ConfigureRecord = b =>
            {
                WakuRecordFields.Write(b, options, host, logger);
                ConfigureRecord?.Invoke(b);
            },
        }, logger);
        // Printed on stdout (not only logged) so scripts and other nodes' --discv5-bootstrap-node can take it.
        Console.Out.WriteLine($"storesync node enr {Node.LocalRecord.ToText()}");
        Console.Out.Flush();
        logger.LogInformation("discv5 listening on udp {EndPoint} with {Bootstrap} bootstrap node(s)", Node.LocalEndPoint, bootstrap.Count);
        RegisterMetrics(Node);
        return Task.CompletedTask;
    }

    /// <summary>Datagrams dropped by reason (junk, oversized, rate-limited, ...) and records refused from NODES answers:
    /// what an operator watches when someone floods or fuzzes the UDP port.</summary>
    void RegisterMetrics(Discv5Node node)
    {
        if (metrics is null) return;
        var reasons = Enum.GetValues<PacketDropReason>().Where(r => r != PacketDropReason.None).ToArray();
        var labels = reasons.Select(r => new KeyValuePair<string, object?>("reason", r.ToString())).ToArray();
        metrics.ObserveCounter("storesync_discv5_dropped_packets", "{packet}", "discv5 datagrams dropped unanswered, by reason",
            () => reasons.Select((r, i) => new System.Diagnostics.Metrics.Measurement<long>(node.Dropped(r), labels[i])));
        metrics.ObserveCounter("storesync_discv5_refused_records", "{record}", "Records refused from NODES answers: invalid, or at a distance not asked",
            () => [new(node.RefusedRecords.Invalid, new KeyValuePair<string, object?>("reason", "invalid")),
                   new(node.RefusedRecords.WrongDistance, new KeyValuePair<string, object?>("reason", "distance"))]);
        metrics.ObserveGauge("storesync_discv5_table_nodes", "{node}", "Nodes in the discv5 table", () => [new(node.Table.Count)]);
        metrics.ObserveGauge("storesync_discv5_sessions", "{session}", "discv5 sessions held", () => [new(node.SessionCount)]);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Node is not null) await Node.DisposeAsync().ConfigureAwait(false);
    }
}
