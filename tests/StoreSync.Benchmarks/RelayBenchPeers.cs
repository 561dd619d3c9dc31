using System.Diagnostics;
using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Benchmarks;

/// <summary>The relay benchmark's load: peers (our router, Waku options, no validator, no store) that each dial only the
/// node under test, so its mesh is all of them and every message reaches the others only through it.</summary>
/// <remarks>Flow control is closed-loop: publisher j has at most <c>window</c> messages in flight, a message leaving the
/// window when peer j+1 receives it back from the node under test (so the node, not the peers' queues, sets the pace);
/// with a rate the publishers are also paced. A message that does not come back within 5 s frees its slot anyway
/// (counted as a stall) so a lost frame cannot hang the run.</remarks>
internal sealed class RelayBenchPeers : IAsyncDisposable
{
    static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(5);

    readonly List<RelayBenchNode> _peers;
    readonly SemaphoreSlim[] _windows;
    readonly byte[] _filler = new byte[64 * 1024];
    long _delivered, _stalls, _refused;

    RelayBenchPeers(List<RelayBenchNode> peers)
    {
        _peers = peers;
        _windows = [.. peers.Select(_ => new SemaphoreSlim(0))];
        Random.Shared.NextBytes(_filler);
        for (int k = 0; k < peers.Count; k++)
        {
            int receiver = k;
            peers[k].Router.MessageDelivered += m => OnDelivered(receiver, m.Data.Span);
        }
    }

    public int Count => _peers.Count;

    /// <summary>Messages the peers received from the node under test (each message reaches every peer but its publisher).</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Publishes the peers' own routers refused (as duplicates).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    public static async Task<RelayBenchPeers> StartAsync(int count, string nodeAddress, CancellationToken ct)
    {
        var peers = new List<RelayBenchNode>();
        for (int i = 0; i < count; i++) peers.Add(await RelayBenchNode.StartAsync(store: false, ct));
        var target = Multiaddr.Parse(nodeAddress);
        foreach (var p in peers) await p.Host.DialAsync(target, ct);
        return new RelayBenchPeers(peers);
    }

    /// <summary>Waits until the node under test is in every peer's mesh.</summary>
    public async Task WaitForMeshAsync(Libp2p.Identity.PeerId node, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (!_peers.All(p => p.Router.MeshPeers(RelayBenchNode.Topic).Contains(node)))
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException("the node under test did not join every peer's mesh in 30 s");
            await Task.Delay(50, ct);
        }
    }

    /// <summary>Publishes <paramref name="messages"/> in all (spread over the peers) and waits until every copy came back
    /// through the node under test, or 30 s passed without progress. Returns the seconds and the stalls.</summary>
    public async Task<(double Seconds, long Stalls, bool Complete)> PublishAsync(int messages, int window, double rate, int payloadBytes, CancellationToken ct)
    {
        long expected = Delivered + (long)messages * (_peers.Count - 1);
        long stallsBefore = Interlocked.Read(ref _stalls);
        foreach (var w in _windows)
        {
            while (w.CurrentCount > 0) await w.WaitAsync(ct);
            w.Release(window);
        }
        var clock = Stopwatch.StartNew();
        var publishers = Enumerable.Range(0, _peers.Count).Select(j =>
        {
            int share = messages / _peers.Count + (j < messages % _peers.Count ? 1 : 0);
            return Task.Run(() => PublishLoopAsync(j, share, rate / _peers.Count, payloadBytes, ct), ct);
        }).ToArray();
        await Task.WhenAll(publishers);
        long last = Delivered, lastChange = clock.ElapsedMilliseconds;
        while (Delivered < expected && clock.ElapsedMilliseconds - lastChange < 30_000)
        {
            await Task.Delay(1, ct);
            long now = Delivered;
            if (now != last) (last, lastChange) = (now, clock.ElapsedMilliseconds);
        }
        return (clock.Elapsed.TotalSeconds, Interlocked.Read(ref _stalls) - stallsBefore, Delivered >= expected);
    }

    async Task PublishLoopAsync(int publisher, int count, double rate, int payloadBytes, CancellationToken ct)
    {
        var router = _peers[publisher].Router;
        var pace = Stopwatch.StartNew();
        int offset = publisher * 97;
        for (int seq = 0; seq < count; seq++)
        {
            if (rate > 0)
            {
                double due = seq / rate;
                double wait = due - pace.Elapsed.TotalSeconds;
                if (wait > 0.001) await Task.Delay(TimeSpan.FromSeconds(wait), ct);
            }
            if (!await _windows[publisher].WaitAsync(StallTimeout, ct)) Interlocked.Increment(ref _stalls);
            var data = RelayBenchMessage.Create(publisher, seq, payloadBytes, _filler.AsSpan((offset + seq * 31) % (_filler.Length - payloadBytes)));
            try
            {
                await router.PublishAsync(RelayBenchNode.Topic, data, ct);
            }
            catch (Libp2p.Pubsub.PubsubPublishException)
            {
                Interlocked.Increment(ref _refused); // never expected: every message is new
                _windows[publisher].Release();
            }
        }
    }

    void OnDelivered(int receiver, ReadOnlySpan<byte> data)
    {
        if (!RelayBenchMessage.TryRead(data, out int publisher, out _, out _) || publisher == receiver) return;
        Interlocked.Increment(ref _delivered);
        if ((publisher + 1) % _peers.Count == receiver) _windows[publisher].Release();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _peers) await p.DisposeAsync();
        foreach (var w in _windows) w.Dispose();
    }
}
