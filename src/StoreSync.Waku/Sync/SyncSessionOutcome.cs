namespace StoreSync.Waku.Sync;

/// <summary>How a reconciliation session ended.</summary>
public enum SyncSessionOutcome
{
    /// <summary>It reached its end as the protocol defines it.</summary>
    Completed,

    /// <summary>It stopped at <see cref="SyncNetworkLimits.MaxDifferencesPerSession"/>; the rest waits for the next session.</summary>
    Capped,

    /// <summary>The peer broke the protocol (a bad frame or a frame too large): reset and penalised.</summary>
    Violation,

    /// <summary>The community policy does not let the agreed scope be synced: reset, not penalised.</summary>
    Refused,

    /// <summary>Anything else: the stream closed early, a timeout, an I/O error.</summary>
    Failed,
}

/// <summary>The names of <see cref="SyncSessionOutcome"/> in the <c>outcome</c> tag of <c>storesync_sync_sessions</c>.</summary>
public static class SyncSessionOutcomeNames
{
    public static string Name(this SyncSessionOutcome outcome) => outcome switch
    {
        SyncSessionOutcome.Completed => "completed",
        SyncSessionOutcome.Capped => "capped",
        SyncSessionOutcome.Violation => "violation",
        SyncSessionOutcome.Refused => "refused",
        _ => "failed",
    };
}
