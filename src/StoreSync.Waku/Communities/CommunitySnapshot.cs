using StoreSync.Reconciliation;

namespace StoreSync.Waku.Communities;

/// <summary>An immutable view of definitions and owner states; every read works on one.</summary>
internal sealed class CommunitySnapshot
{
    readonly IServedTopics _served;
    IReadOnlyList<SyncScope>? _syncScopes;

    public CommunitySnapshot(CommunityDefinition[] definitions, bool? storeUnlisted, IReadOnlyDictionary<string, OwnerState> owners, IServedTopics served)
    {
        _served = served;
        Definitions = definitions;
        StoreUnlistedSetting = storeUnlisted;
        StoreUnlisted = storeUnlisted ?? definitions.Length == 0;
        Entries = [.. definitions.Select(d => new CommunityEntry(d, d.OwnerKey is null ? OwnerState.Empty : owners.GetValueOrDefault(d.OwnerKey) ?? OwnerState.Empty))];
        foreach (var e in Entries)
        {
            foreach (var p in e.Pubsub)
            {
                if (!ByPubsub.TryGetValue(p, out var list)) ByPubsub[p] = list = [];
                list.Add(e);
            }
            if (e.ControlTopic is not null) ByControlTopic[e.ControlTopic] = e;
        }
    }

    public CommunityDefinition[] Definitions { get; }
    public bool? StoreUnlistedSetting { get; }
    public bool StoreUnlisted { get; }
    public CommunityEntry[] Entries { get; }
    public Dictionary<string, List<CommunityEntry>> ByPubsub { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, CommunityEntry> ByControlTopic { get; } = new(StringComparer.Ordinal);

    public List<CommunityEntry> Containing(string pubsubTopic, string contentTopic)
    {
        var result = new List<CommunityEntry>();
        if (ByPubsub.TryGetValue(pubsubTopic, out var candidates))
            foreach (var e in candidates)
                if (e.Holds(pubsubTopic, contentTopic)) result.Add(e);
        return result;
    }

    /// <summary>The serving rule; <paramref name="blocking"/> names the community that makes the pair invisible, if one does.</summary>
    public bool Visible(string pubsubTopic, string contentTopic, out string reason, out string? blocking)
    {
        reason = "";
        blocking = null;
        // A control topic is served while its community is opted in, even when its owner switched serving off:
        // that is how the switch (and a later switch-on) keeps reaching other nodes.
        if (ByControlTopic.TryGetValue(contentTopic, out var owned) && owned.Pubsub.Contains(pubsubTopic))
        {
            if (owned.Definition.OptedIn) return true;
            blocking = owned.Definition.Name;
            reason = $"community {blocking} is not served by this node (not opted in)";
            return false;
        }
        if (!ByPubsub.TryGetValue(pubsubTopic, out var candidates))
        {
            if (StoreUnlisted) return true;
            reason = $"content topic {contentTopic} on {pubsubTopic} belongs to no community this node serves";
            return false;
        }
        CommunityEntry? optedIn = null, any = null;
        foreach (var e in candidates)
        {
            if (!e.Holds(pubsubTopic, contentTopic)) continue;
            any ??= e;
            if (e.Definition.OptedIn && !e.OwnerServing)
            {
                blocking = e.Definition.Name;
                reason = $"community {blocking} is not served: its owner switched serving off";
                return false;
            }
            if (e.Definition.OptedIn) optedIn ??= e;
        }
        if (optedIn is not null) return true;
        if (any is not null)
        {
            blocking = any.Definition.Name;
            reason = $"community {blocking} is not served by this node (not opted in)";
            return false;
        }
        if (StoreUnlisted) return true;
        reason = $"content topic {contentTopic} on {pubsubTopic} belongs to no community this node serves";
        return false;
    }

    public bool IsSyncable(SyncScope scope)
    {
        var pubsubs = scope.PubsubTopics.Count > 0 ? scope.PubsubTopics : (IReadOnlyCollection<string>)_served.PubsubTopics;
        foreach (var p in pubsubs)
        {
            if (scope.ContentTopics.Count > 0)
            {
                foreach (var c in scope.ContentTopics)
                    if (!Visible(p, c, out _, out _)) return false;
            }
            else if (!WholeTopicVisible(p)) return false;
        }
        return true;
    }

    /// <summary>Every content topic on <paramref name="pubsubTopic"/> visible: no hidden community there, and the rest is unlisted-and-stored or some visible community's.</summary>
    bool WholeTopicVisible(string pubsubTopic)
    {
        if (!ByPubsub.TryGetValue(pubsubTopic, out var entries)) return StoreUnlisted;
        bool covered = StoreUnlisted;
        foreach (var e in entries)
        {
            if (!e.Definition.OptedIn || !e.OwnerServing) return false;
            if (e.Content is null) covered = true;
        }
        return covered;
    }

    public IReadOnlyList<SyncScope> SyncScopes => _syncScopes ??= ComputeSyncScopes();

    IReadOnlyList<SyncScope> ComputeSyncScopes()
    {
        if (Entries.Length == 0) return StoreUnlisted ? [SyncScope.All] : [];
        var scopes = new List<SyncScope>();
        foreach (var e in Entries)
        {
            if (!e.Definition.OptedIn) continue;
            IReadOnlyList<string> content = !e.OwnerServing ? [e.ControlTopic!]
                : e.Content is null ? []
                : [.. e.Definition.ContentTopics, .. (e.ControlTopic is null ? Array.Empty<string>() : [e.ControlTopic])];
            // Keep only the pubsub topics over which the whole product may be synced (overlapping communities can hide parts).
            var pubsubs = e.Definition.PubsubTopics.Where(p => _served.Serves(p) && IsSyncable(new SyncScope([p], content))).ToArray();
            if (pubsubs.Length > 0) scopes.Add(new SyncScope(pubsubs, content));
        }
        if (StoreUnlisted)
        {
            var open = _served.PubsubTopics.Where(p => !ByPubsub.ContainsKey(p)).Order(StringComparer.Ordinal).ToArray();
            if (open.Length > 0) scopes.Add(new SyncScope(open, []));
        }
        return scopes.Distinct().ToList();
    }
}
