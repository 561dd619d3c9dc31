namespace StoreSync.Simulations.Engine;

/// <summary>What happens at a simulated instant.</summary>
internal enum EventKind : byte
{
    /// <summary>A node comes online or goes offline (its schedule alternates).</summary>
    Toggle,
    /// <summary>A community publishes its next message.</summary>
    Publish,
    /// <summary>An online node starts a sync round (stale if the node went offline since it was scheduled).</summary>
    SyncTick,
    /// <summary>A sync exchange between two nodes ends: its transfers are delivered.</summary>
    SyncEnd,
    /// <summary>A row of the time series is written.</summary>
    Sample,
}

/// <summary>One scheduled event; <see cref="Payload"/> carries what a sync exchange computed at its start.</summary>
internal readonly record struct SimEvent(long Time, EventKind Kind, int Subject, int Epoch = 0, object? Payload = null);

/// <summary>The discrete-event scheduler: virtual time in nanoseconds, events in (time, insertion) order.</summary>
/// <remarks>
/// Ties are broken by insertion order, so a run is a pure function of the scenario and the seed: no wall clock,
/// no threads, no sleeps.
/// </remarks>
internal sealed class EventQueue
{
    readonly PriorityQueue<SimEvent, (long Time, long Sequence)> _queue = new();
    long _sequence;

    public long Now { get; private set; }

    public int Count => _queue.Count;

    public long Processed { get; private set; }

    public void At(long time, EventKind kind, int subject, int epoch = 0, object? payload = null)
    {
        if (time < Now) throw new InvalidOperationException($"event scheduled in the past ({time} < {Now})");
        _queue.Enqueue(new SimEvent(time, kind, subject, epoch, payload), (time, _sequence++));
    }

    public bool TryNext(long until, out SimEvent next)
    {
        if (!_queue.TryPeek(out next, out var key) || key.Time > until) return false;
        _queue.Dequeue();
        Now = next.Time;
        Processed++;
        return true;
    }
}
