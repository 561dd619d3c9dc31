using StoreSync.Reconciliation;

namespace StoreSync.Waku.Communities;

/// <summary>Which messages this node may serve and sync now, by community opt-in and owner switch (spec/communities.md).</summary>
/// <remarks>
/// Answers change live (an operator toggles a community, an owner's signed switch arrives): consult it per request or per
/// sync round, never cache an answer past a <see cref="Changed"/> event. Ingest decisions are not here: every message
/// enters through <c>MessageIngress</c>, which applies the policy itself.
/// </remarks>
public interface ICommunityPolicy
{
    /// <summary>Whether store queries may return messages of (<paramref name="pubsubTopic"/>, <paramref name="contentTopic"/>); if not, why.</summary>
    bool MayServe(string pubsubTopic, string contentTopic, out string reason);

    /// <summary>Whether messages of the pair may be offered to or fetched from a sync peer now (checked per transferred message).</summary>
    bool MaySync(string pubsubTopic, string contentTopic);

    /// <summary>
    /// Whether every message a session over <paramref name="scope"/> could touch may be synced (an empty topic list means all:
    /// every served pubsub topic, every content topic). A responder refuses a peer's session over a scope that is not.
    /// </summary>
    bool IsSyncable(SyncScope scope);

    /// <summary>
    /// The scopes the sync scheduler should reconcile now: one per community that may be synced (only its control topic
    /// while its owner has switched serving off, so the switch keeps spreading), plus the unlisted topics when those are
    /// stored; <c>[SyncScope.All]</c> on a node without communities. Each passes <see cref="IsSyncable"/>.
    /// </summary>
    IReadOnlyList<SyncScope> SyncScopes { get; }

    /// <summary>Raised after any change of the answers (definitions, opt-in, an owner's switch or member list).</summary>
    event Action? Changed;
}
