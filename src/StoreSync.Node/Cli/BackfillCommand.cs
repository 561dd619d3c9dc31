using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Node.Hosting;
using StoreSync.Waku.Sync.Backfill;

namespace StoreSync.Node.Cli;

/// <summary><c>storesync backfill</c>: fills the local store from several peers at once (swarm backfill, spec/sync.md §5.7), draws
/// its progress and exits with a summary; stopped (Ctrl-C, kill) and run again, it goes on where it was.</summary>
internal static class BackfillCommand
{
    /// <summary>After a Ctrl-C the running slices may finish for this long; then the backfill stops at once.</summary>
    static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Plain progress lines (output not a terminal) at most this often.</summary>
    static readonly TimeSpan LineEvery = TimeSpan.FromSeconds(2);

    const int BarWidth = 30;

    public static Command Create()
    {
        var peers = new Option<string[]>("--peer") { Description = "Multiaddr of a peer to fill from, ending in /p2p/<peer id> (repeatable, at least one)" };
        var community = new Option<string?>("--community") { Description = "Fill only this community (default: everything the node syncs)" };
        var config = new Option<string?>("--config") { Description = "JSON configuration file (section \"StoreSync\"), as for 'storesync node'" };
        var tcpPort = new Option<int?>("--tcp-port") { Description = "libp2p TCP port (default 0: any free port)" };
        var downloadLimit = new Option<long?>("--download-limit") { Description = "History bytes per second received (default 0 = unlimited)" };
        var maxStoreBytes = new Option<long?>("--max-store-bytes") { Description = "Global storage limit in bytes: the newest history is kept (default: the configuration's)" };
        var metricsPort = new Option<int?>("--metrics-server-port") { Description = "Serve Prometheus metrics on 127.0.0.1:PORT while it runs (default: none)" };
        var restPort = new Option<int?>("--rest-port") { Description = "Serve the REST API and dashboard on 127.0.0.1:PORT while it runs (default: none)" };
        var command = new Command("backfill", """
            Fill the local store (--data-dir) from several peers at once: the history is cut into time slices, newest first,
            each fetched from one peer at a time and checked against every other, so each message is downloaded once. Download
            limits, storage limits (the newest history is kept), community opt-in and authorship policies apply as in 'storesync
            node'. Progress is drawn as a bar on a terminal, as plain lines otherwise; the exit code is 0 when every slice is
            done. Stopped (Ctrl-C finishes the running slices first) and run again, it resumes from DATA-DIR/backfill.
            """)
        {
            peers, community, config, tcpPort, downloadLimit, maxStoreBytes, metricsPort, restPort,
        };
        command.SetAction(async (parse, ct) =>
        {
            var addresses = new List<Multiaddr>();
            foreach (var text in parse.GetValue(peers) ?? [])
                addresses.Add(Multiaddr.TryParse(text, out var a) && a!.PeerId is not null ? a
                    : throw new CliUsageException($"--peer: '{text}' is not a multiaddr ending in /p2p/<peer id> (e.g. /ip4/10.0.0.2/tcp/60000/p2p/16Uiu2...)"));
            if (addresses.Count == 0) throw new CliUsageException("backfill needs at least one --peer <multiaddr ending in /p2p/<peer id>>");

            var flags = new Dictionary<string, string?>
            {
                [nameof(NodeOptions.DataDir)] = parse.GetValue(CliOptions.DataDir)!.FullName,
                [nameof(NodeOptions.TcpPort)] = Invariant(parse.GetValue(tcpPort) ?? 0),
                [nameof(NodeOptions.ListenAddress)] = "127.0.0.1",
                [nameof(NodeOptions.Rest)] = parse.GetValue(restPort) is null ? "false" : "true",
                [nameof(NodeOptions.MetricsServer)] = parse.GetValue(metricsPort) is null ? "false" : "true",
                [nameof(NodeOptions.StoreSync)] = "true",
            };
            if (parse.GetValue(restPort) is { } rp) flags[nameof(NodeOptions.RestPort)] = Invariant(rp);
            if (parse.GetValue(metricsPort) is { } mp) flags[nameof(NodeOptions.MetricsServerPort)] = Invariant(mp);
            if (parse.GetValue(downloadLimit) is { } dl) flags[nameof(NodeOptions.DownloadBytesPerSecond)] = Invariant(dl);
            if (parse.GetValue(maxStoreBytes) is { } ms) flags[nameof(NodeOptions.MaxStoreBytes)] = Invariant(ms);
            for (int i = 0; i < addresses.Count; i++) flags[$"{nameof(NodeOptions.BackfillPeers)}:{i}"] = addresses[i].ToString();
            var options = NodeConfiguration.Load(parse.GetValue(config), flags);
            var errors = options.Validate();
            if (errors.Count > 0) throw new CliUsageException(string.Join("; ", errors));

            bool tty = !Console.IsOutputRedirected;
            // Logs go to stderr (only warnings on a terminal, where the bar is drawn); the progress and summary to stdout.
            using var host = StoreNodeHost.Build(options, logging => logging
                .SetMinimumLevel(tty ? LogLevel.Warning : LogLevel.Information)
                .AddFilter("Microsoft.AspNetCore", LogLevel.Warning)
                .Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
            await host.StartAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                var runner = host.Services.GetRequiredService<BackfillRunner>();
                var scopes = runner.Scopes();
                if (parse.GetValue(community) is { } name)
                {
                    var chosen = scopes.Where(s => s.Name == name).ToList();
                    if (chosen.Count == 0)
                        throw new CliUsageException($"--community: '{name}' is not a community this node syncs (it syncs: {(scopes.Count == 0 ? "nothing" : string.Join(", ", scopes.Select(s => s.Name).Distinct()))})");
                    scopes = chosen;
                }
                using var hard = new CancellationTokenSource();
                using var onDrain = ct.Register(() => hard.CancelAfter(DrainTimeout));
                var drawer = new ProgressDrawer(tty);
                var reports = await runner.RunAsync(addresses, scopes, drawer.Draw, hard.Token, ct).ConfigureAwait(false);
                drawer.End();
                foreach (var r in reports) Console.Out.WriteLine(Summary(r));
                bool all = reports.Count == scopes.Count && reports.All(r => r.Finished);
                if (!all) Console.Out.WriteLine("backfill stopped before the end: run it again to resume");
                return all ? 0 : 1;
            }
            finally
            {
                await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
            }
        });
        return command;
    }

    static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    internal static string Summary(BackfillReport r) =>
        string.Create(CultureInfo.InvariantCulture, $"backfill {r.Name}: {(r.Finished ? "finished" : "stopped")}, {r.Messages} messages ({r.Bytes} B) fetched in ")
        + string.Create(CultureInfo.InvariantCulture, $"{r.Elapsed.TotalSeconds:0.0} s ({r.BytesPerSecond / 1e6:0.00} MB/s, {r.MessagesPerSecond:0} msg/s), slices {r.SlicesDone}/{r.Slices}; ")
        + "peers: " + string.Join("; ", r.Peers.Select(p => string.Create(CultureInfo.InvariantCulture,
            $"{p.Peer} {p.Messages} messages {p.Bytes} B {p.SlicesDone} slices{(p.Failures > 0 ? $" {p.Failures} failed" : "")}{(p.Gone ? " gone" : "")}")));

    /// <summary>A bar redrawn in place on a terminal; plain lines at most every <see cref="LineEvery"/> otherwise.</summary>
    sealed class ProgressDrawer(bool tty)
    {
        readonly Lock _lock = new();
        DateTime _lastLine = DateTime.MinValue;
        bool _drawn;

        public void Draw(BackfillReport r)
        {
            lock (_lock)
            {
                if (tty)
                {
                    int filled = (int)Math.Round(Math.Clamp(r.Fraction, 0, 1) * BarWidth);
                    var line = string.Create(CultureInfo.InvariantCulture,
                        $"\r{r.Name} [{new string('#', filled)}{new string('.', BarWidth - filled)}] {r.Fraction * 100,5:0.0}% {r.Messages} msgs {r.Bytes / 1e6:0.0} MB {r.BytesPerSecond / 1e6:0.00} MB/s ETA {Eta(r)}   ");
                    Console.Out.Write(line);
                    _drawn = true;
                }
                else if (r.Finished || DateTime.UtcNow - _lastLine >= LineEvery)
                {
                    _lastLine = DateTime.UtcNow;
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"backfill {r.Name}: {r.Fraction * 100:0.0}% {r.Messages} messages ({r.Bytes} B) fetched, {(r.RemainingMessages is { } m ? "~" + m : "unknown")} remaining, {r.BytesPerSecond / 1e6:0.00} MB/s, ETA {Eta(r)}, slices {r.SlicesDone}/{r.Slices}"));
                }
            }
        }

        static string Eta(BackfillReport r) => r.Eta is { } e ? string.Create(CultureInfo.InvariantCulture, $"{e.TotalSeconds:0} s") : "?";

        public void End()
        {
            lock (_lock) if (_drawn) Console.Out.WriteLine();
        }
    }
}
