using StoreSync.Core;

namespace StoreSync.Reconciliation;

/// <summary>How far back a node keeps a scope on purpose: sync ranges start there, so evicted history is not fetched again.</summary>
/// <remarks>
/// The retention policy implements it (newest timestamp evicted on purpose, plus one, persisted with the store);
/// until one exists the node uses <see cref="NoRetentionHorizon"/>. spec/sync.md §4 and §5.6.
/// </remarks>
public interface IRetentionHorizon
{
    /// <summary>The oldest timestamp (ns) the node keeps for <paramref name="scope"/>; <see cref="long.MinValue"/> when nothing was evicted.</summary>
    long HorizonOf(SyncScope scope);

    /// <summary>True when one message was evicted on purpose: it is at or below the horizon of the retention scope its
    /// (pubsub, content topic) belongs to, so a transfer must not store it again. Per message, whatever scope a session covered.</summary>
    bool IsEvicted(string pubsubTopic, string contentTopic, long timestamp, in MessageHash hash) =>
        timestamp < HorizonOf(new SyncScope([pubsubTopic], [contentTopic]));
}

/// <summary>Keeps everything: no horizon.</summary>
public sealed class NoRetentionHorizon : IRetentionHorizon
{
    public static NoRetentionHorizon Instance { get; } = new();

    public long HorizonOf(SyncScope scope) => long.MinValue;
}
