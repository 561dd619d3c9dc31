using StoreSync.Reconciliation;
using StoreSync.Storage;

namespace StoreSync.Node.Hosting;

/// <summary>The communities' storage limits as the store's <see cref="Evictor"/> enforces them.</summary>
/// <param name="slackBytes">How close to its limit a scope counts as full: the largest message (capped at a 16th of the limit),
/// since after eviction a full scope holds between limit − one message and the limit.</param>
public sealed class EvictorBackfillLimits(Evictor evictor, long slackBytes) : IBackfillLimits
{
    public bool IsLimited(SyncScope scope)
    {
        var configuration = evictor.Configuration;
        return configuration.GlobalMaxBytes is not null
            || configuration.Scopes.Any(s => s.Policies.OfType<SizeRetentionPolicy>().Any() && s.Scope.Overlaps(scope));
    }

    public bool IsFull(SyncScope scope)
    {
        var configuration = evictor.Configuration;
        var figures = evictor.GetScopeFigures();
        if (configuration.GlobalMaxBytes is { } global && figures.Values.Sum(f => f.Bytes) >= global - Slack(global)) return true;
        foreach (var s in configuration.Scopes)
        {
            if (!s.Scope.Overlaps(scope)) continue;
            foreach (var size in s.Policies.OfType<SizeRetentionPolicy>())
                if (figures.GetValueOrDefault(s.Scope.Id).Bytes >= size.MaxBytes - Slack(size.MaxBytes)) return true;
        }
        return false;
    }

    public long SyncStart(SyncScope scope) => evictor.GetSyncStart(scope);

    long Slack(long limit) => Math.Min(slackBytes, limit / 16);
}
