using System.Diagnostics;
using StoreSync.Reconciliation.Native;
using StoreSync.Reconciliation.Nwaku;
using StoreSync.Simulations.Model;
using StoreSync.Simulations.Scenarios;
using StoreSync.Simulations.Storage;

namespace StoreSync.Simulations.Engine;

/// <summary>One run of a scenario on virtual time: nodes come and go, communities publish, online nodes sync with the real engine.</summary>
/// <remarks>
/// Message arrival: a published message is stored at once by every online node that keeps its community, except
/// where the node's ingest loss drops it; offline nodes miss it and can only get it by sync. A sync round picks
/// random online peers and runs, per shared community, a real <see cref="NativeReconciliation"/> or
/// <see cref="NwakuReconciliation"/> session over the nodes' item sources; frame sizes, latency and bandwidth give
/// its virtual duration, and the pushed messages arrive after the transfer time — unless a side went offline first.
/// Everything is single-threaded and ordered by the event queue, so a run is a function of the scenario and seed.
/// </remarks>
internal sealed partial class Simulation : IDisposable
{
    const int ProgressEvery = 4096;

    readonly Scenario _scenario;
    readonly EventQueue _queue = new();
    readonly MessageCatalog _catalog;
    readonly SimNode[] _nodes;
    readonly int[][] _storing; // per community: nodes that keep it
    readonly SimRandom[] _publishers;
    readonly long[] _published; // per community: messages so far
    readonly double[] _orderStatistic; // per community: last uniform order statistic (count-based Poisson arrival)
    readonly OnlineSet _online;
    readonly bool[] _scratchReceived;
    readonly ISampleSink? _sink;
    readonly IPlanRecorder? _plan;
    readonly Action<long, long, long>? _progress;
    readonly List<SampleRow> _series = [];
    readonly string? _storageRoot;
    readonly int[] _peerScratch;
    int _complete;
    long _noneOnline, _noneOnlineSince; // time with no store node online at all (nobody to ask, nobody to relay to)
    long _unrecoverable, _sessionErrors;
    long? _timeTo99, _timeTo100;
    readonly int _need99;

    public Simulation(Scenario scenario, ISampleSink? sink = null, Action<long, long, long>? progress = null, string? storageRoot = null,
        IPlanRecorder? plan = null)
    {
        _scenario = scenario;
        _sink = sink;
        _plan = plan;
        _progress = progress;
        int n = scenario.NodeCount;
        _nodes = new SimNode[n];
        int id = 0;
        for (int g = 0; g < scenario.Groups.Count; g++)
            for (int k = 0; k < scenario.Groups[g].Count; k++, id++)
                _nodes[id] = new SimNode(id, g, scenario.Groups[g], scenario.Seed, scenario.Communities.Count);
        _storing = scenario.Communities.Select((_, c) => _nodes.Where(x => x.SlotOf[c] >= 0).Select(x => x.Id).ToArray()).ToArray();
        _catalog = new MessageCatalog(scenario, _storing.Select(s => s.Length).ToList());
        if (scenario.Storage == StorageKind.RocksDb)
        {
            _storageRoot = Path.Combine(storageRoot ?? Path.GetTempPath(), $"storesync-sim-{scenario.Name}-{Environment.ProcessId}-{Guid.NewGuid():N}");
            Directory.CreateDirectory(_storageRoot);
        }
        foreach (var node in _nodes)
            node.Store = scenario.Storage == StorageKind.RocksDb
                ? new RocksDbNodeStore(_catalog, node.Communities, Path.Combine(_storageRoot!, $"node{node.Id}"))
                : new MemoryNodeStore(_catalog, node.Communities.Length);
        _publishers = scenario.Communities.Select((_, c) => new SimRandom(scenario.Seed, (1UL << 40) + (ulong)c)).ToArray();
        _published = new long[scenario.Communities.Count];
        _orderStatistic = new double[scenario.Communities.Count];
        _online = new OnlineSet(n);
        _scratchReceived = new bool[n];
        _peerScratch = new int[n];
        _need99 = (int)Math.Ceiling(0.99 * n);
        // Nothing is published yet, so every node starts with the complete (empty) history.
        foreach (var node in _nodes) node.Complete = true;
        _complete = n;
        var peerRng = new SimRandom(scenario.Seed, 1UL << 41);
        foreach (var node in _nodes)
            if (node.Group.Sync.KnownPeers > 0) node.Known = PickKnown(node, node.Group.Sync.KnownPeers, peerRng);
    }

    int[] PickKnown(SimNode node, int count, SimRandom rng)
    {
        var others = _nodes.Where(x => x.Id != node.Id).Select(x => x.Id).ToArray();
        count = Math.Min(count, others.Length);
        for (int i = 0; i < count; i++)
        {
            int j = i + rng.Next(others.Length - i);
            (others[i], others[j]) = (others[j], others[i]);
        }
        return others[..count];
    }

    public IReadOnlyList<SimNode> Nodes => _nodes;

    internal MessageCatalog Catalog => _catalog;

    public RunResult Run()
    {
        var wall = Stopwatch.StartNew();
        long duration = _scenario.Duration;
        foreach (var node in _nodes) StartSchedule(node);
        for (int c = 0; c < _scenario.Communities.Count; c++) ScheduleNextPublish(c, _scenario.Communities[c].Start);
        _queue.At(0, EventKind.Sample, 0);
        long publishEnd = _scenario.PublishEnd;
        // With publishing until the end there is no "after" to converge in; the spread delays describe such runs.
        bool trackConvergence = publishEnd < duration;
        while (_queue.TryNext(duration, out var e))
        {
            switch (e.Kind)
            {
                case EventKind.Toggle: Toggle(_nodes[e.Subject]); break;
                case EventKind.Publish: Publish(e.Subject); break;
                case EventKind.SyncTick: SyncTick(_nodes[e.Subject], e.Epoch); break;
                case EventKind.SyncEnd: SyncEnd((Exchange)e.Payload!); break;
                case EventKind.Sample: Sample(); break;
            }
            if (trackConvergence && _queue.Now >= publishEnd) NoteConvergence(publishEnd);
            if (_progress is not null && _queue.Processed % ProgressEvery == 0) _progress(_queue.Now, duration, _queue.Processed);
        }
        _progress?.Invoke(duration, duration, _queue.Processed);
        return Result(wall.Elapsed.TotalSeconds);
    }

    public void Dispose()
    {
        foreach (var node in _nodes) node.Store?.Dispose();
        if (_storageRoot is not null && Directory.Exists(_storageRoot))
        {
            try { Directory.Delete(_storageRoot, recursive: true); }
            catch (IOException e) { Console.Error.WriteLine($"storesync-sim: could not delete {_storageRoot}: {e.Message}"); }
        }
    }
}
