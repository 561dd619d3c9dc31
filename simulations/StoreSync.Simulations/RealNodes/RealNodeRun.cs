using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using StoreSync.Core;
using StoreSync.Simulations.Model;
using StoreSync.Simulations.Scenarios;

namespace StoreSync.Simulations.RealNodes;

/// <summary>How to replay a scenario with real node processes.</summary>
public sealed record RealRunOptions
{
    /// <summary>Virtual seconds per wall-clock second (60: one simulated hour takes one minute).</summary>
    public required double Speedup { get; init; }

    /// <summary>The node's <c>storesync.dll</c>, run with <c>dotnet</c>.</summary>
    public required string NodeDll { get; init; }

    /// <summary>Where the nodes' data folders go (a fresh folder inside, deleted afterwards unless <see cref="KeepData"/>).</summary>
    public string? WorkRoot { get; init; }

    public bool KeepData { get; init; }
}

/// <summary>Replays a simulated run's schedule with real <c>storesync node</c> processes on 127.0.0.1 on a scaled-down clock:
/// nodes are started and stopped when the simulator had them come and go, each message is pushed (REST light push) to exactly
/// the nodes that stored it live in the simulation, and the nodes sync by themselves. Their stores are sampled for the same
/// time series as the simulator's, so the two can be compared (simulations/README.md, spec/simulation.md §5).</summary>
internal sealed class RealNodeRun
{
    readonly Scenario _scenario;
    readonly ReplayPlan _plan;
    readonly MessageCatalog _catalog;
    readonly RealRunOptions _options;
    readonly TextWriter _log;
    readonly NodeState[] _nodes;
    readonly HttpClient _http;
    readonly List<SampleRow> _series = [];
    readonly List<(long Time, int Node, long Held, long Missing, bool Online)> _nodeRows = [];
    readonly Stopwatch _clock = new();
    readonly List<string> _notes = [];
    readonly long[] _recoverableAt; // virtual publication times of the messages some node stored live, in order
    long _pushesFailed, _pushes;
    long _lagSumTicks, _lagMaxTicks, _lagCount; // how late the actions ran on the wall clock (a loaded machine starts nodes slowly)

    sealed class NodeState(NodeProcess process)
    {
        public readonly NodeProcess Process = process;
        public Task Chain = Task.CompletedTask; // this node's starts, pushes and stops, in schedule order
        public bool ScheduledOnline;             // as the schedule says at the clock's time
        public bool Ready;                       // the process answers
        public long Held;                        // last count read (kept while offline: its store does not change)
        public SyncCounters Before;              // counters of its earlier processes
        public SyncCounters Current;             // the running process's counters, last read
        public SyncCounters Total => Before + Current;
    }

    RealNodeRun(Scenario scenario, ReplayPlan plan, MessageCatalog catalog, RealRunOptions options, TextWriter log, string root)
    {
        _scenario = scenario;
        _plan = plan;
        _catalog = catalog;
        _options = options;
        _log = log;
        _http = new HttpClient { Timeout = RealNodeLimits.RequestTimeout };
        var http = _http;
        _nodes = Enumerable.Range(0, scenario.NodeCount).Select(i => new NodeState(new NodeProcess(i, options.NodeDll, Path.Combine(root, $"node{i}"), http))).ToArray();
        _recoverableAt = plan.Steps.Where(s => s.IsPublish && s.Receivers!.Length > 0).Select(s => s.Time).ToArray();
    }

    /// <summary>Every reason the scenario cannot be replayed with real nodes (empty when it can).</summary>
    public static List<string> Check(Scenario s, double speedup)
    {
        var errors = new List<string>();
        if (s.NodeCount > RealNodeLimits.MaxNodes) errors.Add($"nodes: {s.NodeCount} nodes; real nodes run at most {RealNodeLimits.MaxNodes}");
        if (s.ExpectedMessages > RealNodeLimits.MaxMessages) errors.Add($"communities: ~{s.ExpectedMessages:N0} messages; real nodes take at most {RealNodeLimits.MaxMessages:N0}");
        if (speedup is < RealNodeLimits.MinSpeedup or > RealNodeLimits.MaxSpeedup || double.IsNaN(speedup))
            errors.Add($"--speedup: {speedup} is outside {RealNodeLimits.MinSpeedup}..{RealNodeLimits.MaxSpeedup}");
        else if (TimeSpan.FromSeconds(s.Duration / 1e9 / speedup) > RealNodeLimits.MaxWallDuration)
            errors.Add($"duration: {Units.Format(s.Duration)} at speed-up {speedup} takes {s.Duration / 1e9 / speedup / 60:0.#} min; at most {RealNodeLimits.MaxWallDuration.TotalMinutes:0} min");
        foreach (var c in s.Communities)
            if (!PubsubTopic.TryParseShard(c.PubsubTopic, out _, out _))
                errors.Add($"communities[{c.Name}].pubsubTopic: {c.PubsubTopic} is not a static shard /waku/2/rs/<cluster>/<shard>");
        if (s.Communities.Select(c => PubsubTopic.TryParseShard(c.PubsubTopic, out uint cluster, out _) ? cluster : 0).Distinct().Count() > 1)
            errors.Add("communities: real nodes serve one cluster; all pubsub topics must be in it");
        foreach (var g in s.Groups)
        {
            string at = $"nodeGroups[{g.Name}]";
            if (g.Communities.Count != s.Communities.Count) errors.Add($"{at}.communities: a real node stores and syncs every community it serves; give every group all of them");
            if (!g.Limits.IsNone) errors.Add($"{at}.retention: not replayed with real nodes");
            if (g.Sync.Protocol != SyncProtocol.Native) errors.Add($"{at}.sync.protocol: real StoreSync nodes speak the native protocol with each other");
            if (g.Sync.Window is not null) errors.Add($"{at}.sync.window: real nodes sync the whole history (window \"all\")");
            if (g.Sync.KnownPeers != 0) errors.Add($"{at}.sync.knownPeers: real nodes know every other node (static nodes)");
            if (g.Sync.Peers < 1) errors.Add($"{at}.sync.peers: real nodes always sync");
            if (g.Sync.Interval / 1e9 / speedup < RealNodeLimits.MinSyncInterval.TotalSeconds - 1e-9)
                errors.Add($"{at}.sync.interval: {Units.Format(g.Sync.Interval)} at speed-up {speedup} is under the node's {RealNodeLimits.MinSyncInterval.TotalSeconds:0} s minimum");
        }
        if (s.Groups.Select(g => (g.Sync.Interval, g.Sync.Peers, g.Sync.Lag)).Distinct().Count() > 1)
            errors.Add("nodeGroups: real nodes take one sync setting; give every group the same interval, peers and lag");
        return errors;
    }

    /// <summary>Runs the replay; the nodes' data folders are deleted afterwards.</summary>
    public static async Task<RealRunOutcome> RunAsync(Scenario scenario, ReplayPlan plan, MessageCatalog catalog, RealRunOptions options, TextWriter log, CancellationToken ct)
    {
        var errors = Check(scenario, options.Speedup);
        if (errors.Count > 0) throw new ScenarioException(scenario.Name, errors);
        if (!File.Exists(options.NodeDll)) throw new RealNodeException($"the node program {options.NodeDll} does not exist (build src/StoreSync.Node, or give --node)");
        string root = Path.Combine(options.WorkRoot ?? Path.GetTempPath(), $"storesync-real-{scenario.Name}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        var run = new RealNodeRun(scenario, plan, catalog, options, log, root);
        try
        {
            var result = await run.RunAsync(ct).ConfigureAwait(false);
            return new RealRunOutcome(result, run._nodeRows, run._notes);
        }
        finally
        {
            await Task.WhenAll(run._nodes.Select(n => n.Process.StopAsync())).ConfigureAwait(false);
            run._http.Dispose();
            if (!options.KeepData)
            {
                try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
            else log.WriteLine($"real nodes' data and logs kept in {root}");
        }
    }

    long Virtual(TimeSpan real) => (long)(real.TotalSeconds * _options.Speedup * 1e9);

    TimeSpan Real(long virtualNanos) => TimeSpan.FromSeconds(virtualNanos / 1e9 / _options.Speedup);

    /// <summary>The node flags every process gets: served shards, sync settings scaled to the wall clock, every other node as a static node.</summary>
    List<string> Arguments(int id)
    {
        var sync = _scenario.Groups[0].Sync;
        var shards = _scenario.Communities.Select(c => PubsubTopic.TryParseShard(c.PubsubTopic, out uint cluster, out uint shard) ? (cluster, shard) : default).Distinct().ToList();
        int interval = Math.Max(1, (int)Math.Round(sync.Interval / 1e9 / _options.Speedup));
        int range = (int)Math.Min(30 * 86_400, Math.Ceiling(Real(_scenario.Duration).TotalSeconds) + 3_600);
        int jitter = (int)Math.Round(sync.Lag / 1e9 / _options.Speedup);
        var args = new List<string> { "--cluster-id", Str(shards[0].cluster) };
        foreach (var (_, shard) in shards) args.AddRange(["--shard", Str(shard)]);
        args.AddRange([
            "--store-sync-interval", Str(interval), "--store-sync-history-interval", Str(interval), "--store-sync-range", Str(range),
            "--store-sync-relay-jitter", Str(jitter), "--store-sync-max-concurrent-peers", Str(sync.Peers),
            "--max-connections", Str(4 * RealNodeLimits.MaxNodes),
        ]);
        foreach (var other in _nodes.Where(n => n.Process.Id != id)) args.AddRange(["--staticnode", other.Process.Multiaddr]);
        return args;
    }

    static string Str<T>(T value) where T : IFormattable => value.ToString(null, CultureInfo.InvariantCulture);

    async Task<RunResult> RunAsync(CancellationToken ct)
    {
        var wall = Stopwatch.StartNew();
        // Nodes online at t = 0 are started before the clock runs; how long that takes sets how early later starts are launched.
        var initial = _plan.Steps.Where(s => !s.IsPublish && s.Time == 0 && s.Online).Select(s => s.Node).Distinct().ToList();
        var startTimes = await Task.WhenAll(initial.Select(async i =>
        {
            var t = Stopwatch.StartNew();
            await _nodes[i].Process.StartAsync(Arguments(i), ct).ConfigureAwait(false);
            _nodes[i].Ready = true;
            _nodes[i].ScheduledOnline = true;
            return t.Elapsed;
        })).ConfigureAwait(false);
        var lead = startTimes.Length == 0 ? TimeSpan.FromSeconds(1.5) : startTimes.Order().ElementAt(startTimes.Length / 2);
        Note($"{initial.Count} of {_nodes.Length} started in {lead.TotalSeconds:0.0} s (median); " +
            $"clock ×{_options.Speedup:0.##}, {Real(_scenario.Duration).TotalMinutes:0.#} min");

        long epoch = Timestamp.Now();
        _clock.Start();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var sampling = SampleLoopAsync(stop.Token);

        // Actions in wall-clock order: a start is launched `lead` early so the node answers when the schedule has it come online.
        // A start never goes before the node's previous stop (a short offline spell), so each node's actions stay in order.
        var lastStop = new TimeSpan[_nodes.Length];
        var actions = new List<(TimeSpan Due, int Order, ReplayPlan.Step Step)>();
        foreach (var s in _plan.Steps.Where(s => s.Time > 0 || s.IsPublish || !s.Online))
        {
            var due = Real(s.Time);
            if (!s.IsPublish && s.Online) due = due - lead > lastStop[s.Node] ? due - lead : lastStop[s.Node];
            if (!s.IsPublish && !s.Online) lastStop[s.Node] = due;
            actions.Add((due, actions.Count, s));
        }
        actions = [.. actions.OrderBy(a => a.Due).ThenBy(a => a.Order)];
        foreach (var (due, _, step) in actions)
        {
            var wait = due - _clock.Elapsed;
            if (wait > TimeSpan.Zero) await Task.Delay(wait, ct).ConfigureAwait(false);
            if (step.IsPublish) Publish(step, epoch);
            else if (step.Online) Enqueue(step.Node, () => StartNodeAsync(step, ct));
            else Enqueue(step.Node, () => StopNodeAsync(step.Node, ct));
        }
        var end = Real(_scenario.Duration) - _clock.Elapsed;
        if (end > TimeSpan.Zero) await Task.Delay(end, ct).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        await sampling.ConfigureAwait(false);
        await Task.WhenAll(_nodes.Select(n => n.Chain)).ConfigureAwait(false);
        await SampleAsync(_scenario.Duration, ct).ConfigureAwait(false);
        int verified = await VerifyAsync(epoch, ct).ConfigureAwait(false);
        var (lagMean, lagMax) = ScheduleLag;
        Note($"{_pushes:N0} pushes ({_pushesFailed:N0} failed); hash sets of {verified} online nodes checked " +
            $"against the published messages; actions ran {Units.Format(lagMean)} late on average, {Units.Format(lagMax)} at most (virtual time)");
        return Result(wall.Elapsed.TotalSeconds);
    }

    void Note(string text)
    {
        _notes.Add(text);
        _log.WriteLine($"{_scenario.Name}: real nodes: {text}");
    }

    void Enqueue(int node, Func<Task> action)
    {
        var state = _nodes[node];
        var due = _clock.Elapsed;
        state.Chain = Then(state.Chain, action);

        async Task Then(Task previous, Func<Task> next)
        {
            await previous.ConfigureAwait(false);
            long lag = Math.Max(0, (_clock.Elapsed - due).Ticks);
            Interlocked.Add(ref _lagSumTicks, lag);
            Interlocked.Increment(ref _lagCount);
            long max;
            while (lag > (max = Interlocked.Read(ref _lagMaxTicks)) && Interlocked.CompareExchange(ref _lagMaxTicks, lag, max) != max) { }
            await next().ConfigureAwait(false);
        }
    }

    /// <summary>Mean and largest delay, in virtual time, between when an action (start, push, stop) was due and when it began.</summary>
    public (long Mean, long Max) ScheduleLag => _lagCount == 0 ? (0, 0)
        : (Virtual(TimeSpan.FromTicks(_lagSumTicks / _lagCount)), Virtual(TimeSpan.FromTicks(_lagMaxTicks)));

    async Task StartNodeAsync(ReplayPlan.Step step, CancellationToken ct)
    {
        var n = _nodes[step.Node];
        // Counted online from the scheduled instant, whether or not the process is up yet (a difference to the simulator).
        _ = Task.Delay(Real(step.Time) - _clock.Elapsed is var d && d > TimeSpan.Zero ? d : TimeSpan.Zero, ct)
            .ContinueWith(_ => n.ScheduledOnline = true, TaskScheduler.Default);
        await n.Process.StartAsync(Arguments(step.Node), ct).ConfigureAwait(false);
        n.Ready = true;
    }

    async Task StopNodeAsync(int node, CancellationToken ct)
    {
        var n = _nodes[node];
        n.ScheduledOnline = false;
        if (await n.Process.StoredMessagesAsync(ct).ConfigureAwait(false) is long held) n.Held = held;
        // The last counters read stand in if the node does not answer now (a sample at most old).
        n.Before += await n.Process.SyncCountersAsync(ct).ConfigureAwait(false) ?? n.Current;
        n.Current = default;
        n.Ready = false;
        await n.Process.StopAsync().ConfigureAwait(false);
    }

    /// <summary>Pushes one message to the nodes that stored it live in the simulation; its timestamp is its scheduled wall-clock instant.</summary>
    void Publish(ReplayPlan.Step step, long epoch)
    {
        if (step.Receivers!.Length == 0) return;
        var c = _scenario.Communities[_catalog.Community(step.Message)];
        var message = _catalog.BuildMessage(step.Message);
        message.Timestamp = epoch + (long)(Real(step.Time).TotalMilliseconds * 1e6);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(new
        {
            pubsubTopic = c.PubsubTopic,
            message = new { payload = Convert.ToBase64String(message.Payload.Span), contentTopic = c.ContentTopic, timestamp = message.Timestamp, version = 0 },
        });
        foreach (int r in step.Receivers)
            Enqueue(r, async () =>
            {
                Interlocked.Increment(ref _pushes);
                if (!await _nodes[r].Process.PushAsync(json, CancellationToken.None).ConfigureAwait(false)) Interlocked.Increment(ref _pushesFailed);
            });
    }

    async Task SampleLoopAsync(CancellationToken ct)
    {
        var every = Real(_scenario.SampleEvery);
        if (every < RealNodeLimits.MinSampleEvery) every = RealNodeLimits.MinSampleEvery;
        long k = 0;
        try
        {
            while (true)
            {
                var due = every * k;
                var wait = due - _clock.Elapsed;
                if (wait > TimeSpan.Zero) await Task.Delay(wait, ct).ConfigureAwait(false);
                if (due >= Real(_scenario.Duration)) return;
                await SampleAsync(Virtual(_clock.Elapsed), ct).ConfigureAwait(false);
                // The next due sample after now (never the same one twice: a sub-millisecond Task.Delay returns at once).
                k = Math.Max(k + 1, (long)(_clock.Elapsed / every) + 1);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }

    async Task SampleAsync(long now, CancellationToken ct)
    {
        await Task.WhenAll(_nodes.Where(n => n.Ready && n.Process.Running).Select(async n =>
        {
            if (await n.Process.StoredMessagesAsync(ct).ConfigureAwait(false) is long held) n.Held = held;
            if (await n.Process.SyncCountersAsync(ct).ConfigureAwait(false) is { } counters && n.Ready) n.Current = counters;
        })).ConfigureAwait(false);
        long published = _plan.Steps.Count(s => s.IsPublish && s.Time <= now);
        long recoverable = RecoverableAt(now);
        int online = 0, complete = 0, onlineComplete = 0;
        long missingSum = 0, missingMax = 0;
        foreach (var n in _nodes)
        {
            long missing = Math.Max(0, recoverable - n.Held);
            bool isComplete = missing == 0;
            missingSum += missing;
            missingMax = Math.Max(missingMax, missing);
            if (isComplete) complete++;
            if (n.ScheduledOnline) { online++; if (isComplete) onlineComplete++; }
            _nodeRows.Add((now, n.Process.Id, n.Held, missing, n.ScheduledOnline));
        }
        var total = _nodes.Aggregate(default(SyncCounters), (sum, n) => sum + n.Total);
        _series.Add(new SampleRow(now, published, recoverable, published - recoverable, online, complete, onlineComplete, _nodes.Length,
            (double)missingSum / _nodes.Length, missingMax, total.ReconBytesOut, total.TransferBytesOut, total.SessionsInitiated,
            total.RoundTripsBothSides / 2, total.ItemsFetched));
    }

    long RecoverableAt(long now)
    {
        int i = Array.BinarySearch(_recoverableAt, now);
        if (i < 0) return ~i;
        while (i + 1 < _recoverableAt.Length && _recoverableAt[i + 1] == now) i++;
        return i + 1;
    }

    /// <summary>At the end: every online node's store, hash by hash, against the messages pushed (so counts were not fooling us).</summary>
    async Task<int> VerifyAsync(long epoch, CancellationToken ct)
    {
        var expected = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var step in _plan.Steps.Where(s => s.IsPublish && s.Receivers!.Length > 0))
        {
            var c = _scenario.Communities[_catalog.Community(step.Message)];
            var message = _catalog.BuildMessage(step.Message);
            message.Timestamp = epoch + (long)(Real(step.Time).TotalMilliseconds * 1e6);
            if (!expected.TryGetValue(c.PubsubTopic, out var set)) expected[c.PubsubTopic] = set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            set.Add(MessageHash.Compute(c.PubsubTopic, message).ToString());
        }
        int verified = 0;
        foreach (var n in _nodes.Where(n => n.Ready && n.Process.Running))
        {
            long held = 0;
            foreach (var (topic, want) in expected)
            {
                var have = await n.Process.StoredHashesAsync(topic, ct).ConfigureAwait(false);
                var strangers = have.Except(want).Take(3).ToList();
                if (strangers.Count > 0) throw new RealNodeException($"node {n.Process.Id} holds messages never published: {string.Join(", ", strangers)}");
                held += have.Count;
            }
            if (held != n.Held) Note($"node {n.Process.Id}: {held} messages by hash, {n.Held} by count");
            verified++;
        }
        return verified;
    }

    RunResult Result(double wallSeconds)
    {
        var last = _series[^1];
        long publishEnd = _scenario.PublishEnd;
        int need99 = (int)Math.Ceiling(0.99 * _nodes.Length);
        long? First(Func<SampleRow, bool> reached) =>
            publishEnd >= _scenario.Duration ? null : _series.FirstOrDefault(r => r.Time >= publishEnd && reached(r)) is { } row ? row.Time - publishEnd : null;
        var total = _nodes.Aggregate(default(SyncCounters), (sum, n) => sum + n.Total);
        return new RunResult
        {
            Name = _scenario.Name + "-real", Nodes = _nodes.Length, Duration = _scenario.Duration, PublishEnd = publishEnd,
            Published = last.Published, Recoverable = last.Recoverable, Unrecoverable = last.Unrecoverable,
            ReceivedLive = _pushes - _pushesFailed, LostOnIngest = 0, DeliveredBySync = total.ItemsFetched,
            DuplicateTransfers = Math.Max(0, total.ItemsSent - total.ItemsFetched),
            ReconBytes = total.ReconBytesOut, TransferBytes = total.TransferBytesOut, Sessions = total.SessionsInitiated,
            RoundTrips = total.RoundTripsBothSides / 2, FailedExchanges = 0, SessionErrors = 0,
            TimeTo99 = First(r => r.Complete >= need99), TimeTo100 = First(r => r.Complete == r.Nodes),
            FinalCompleteFraction = last.CompleteFraction,
            MeanOnlineComplete = _series.Where(r => r.Online > 0).Select(r => r.OnlineCompleteFraction).DefaultIfEmpty(0).Average(),
            SpreadMostP50 = null, SpreadMostP95 = null, SpreadAllP50 = null, SpreadAllP95 = null, SpreadsMeasured = false,
            ReachedAllFraction = 0,
            MeanOnlineFraction = _series.Select(r => r.OnlineFraction).Average(),
            NoneOnlineFraction = _series.Count(r => r.Online == 0) / (double)_series.Count,
            Events = _pushes, WallSeconds = wallSeconds, Series = _series,
        };
    }
}

/// <summary>A real-nodes run's result, and per node and sample: time, node, online (as scheduled), messages held, missing.</summary>
internal sealed record RealRunOutcome(RunResult Result, IReadOnlyList<(long Time, int Node, long Held, long Missing, bool Online)> NodeRows,
    IReadOnlyList<string> Notes);
