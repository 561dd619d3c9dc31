namespace StoreSync.Waku.Communities;

/// <summary>What the policy refused or applied for one community since the node started (figures and metrics).</summary>
public sealed class CommunityCounters
{
    long _notOptedIn, _unauthorised, _controlInvalid, _controlApplied, _controlStale, _queriesRefused, _syncRefused;

    /// <summary>Messages refused because the community is not opted in.</summary>
    public long NotOptedIn => Interlocked.Read(ref _notOptedIn);

    /// <summary>Messages refused by the authorship policy.</summary>
    public long Unauthorised => Interlocked.Read(ref _unauthorised);

    /// <summary>Control messages ignored: undecodable, unsigned or wrongly signed.</summary>
    public long ControlInvalid => Interlocked.Read(ref _controlInvalid);

    /// <summary>Valid control messages that changed the owner state.</summary>
    public long ControlApplied => Interlocked.Read(ref _controlApplied);

    /// <summary>Valid control messages older than (or the same as) what was known: no effect.</summary>
    public long ControlStale => Interlocked.Read(ref _controlStale);

    /// <summary>Store queries answered 503 because the community is not served.</summary>
    public long QueriesRefused => Interlocked.Read(ref _queriesRefused);

    /// <summary>Sync sessions or transfers refused because the community may not be synced.</summary>
    public long SyncRefused => Interlocked.Read(ref _syncRefused);

    internal void CountNotOptedIn() => Interlocked.Increment(ref _notOptedIn);
    internal void CountUnauthorised() => Interlocked.Increment(ref _unauthorised);
    internal void CountControlInvalid() => Interlocked.Increment(ref _controlInvalid);
    internal void CountControlApplied() => Interlocked.Increment(ref _controlApplied);
    internal void CountControlStale() => Interlocked.Increment(ref _controlStale);
    internal void CountQueryRefused() => Interlocked.Increment(ref _queriesRefused);
    internal void CountSyncRefused() => Interlocked.Increment(ref _syncRefused);
}
