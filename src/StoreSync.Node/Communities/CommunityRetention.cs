using StoreSync.Storage.Retention;
using StoreSync.Waku.Communities;

namespace StoreSync.Node.Communities;

/// <summary>The storage limits of the communities as the store's <see cref="Evictor"/> enforces them: one retention scope per community.</summary>
/// <remarks>
/// A community's scope is its pubsub topics × its content topics and its control topic (× every content topic when it lists
/// none); the scope id is the community's name, so its retention horizon survives opt-out and restarts. Retention scopes
/// must be disjoint: a community that shares a (pubsub, content) pair with one taken before it (in name order) gets no
/// scope, and its limits are reported as not enforced, with the reason. Messages outside every scope (unlisted ones, and
/// those of such overlapping communities) count against no limit and are never evicted.
/// </remarks>
public sealed record CommunityRetention(RetentionConfiguration Configuration, IReadOnlyDictionary<string, string> NotEnforced)
{
    public static CommunityRetention Empty { get; } = new(RetentionConfiguration.Empty, new Dictionary<string, string>());

    public static CommunityRetention Build(IReadOnlyList<CommunityDefinition> communities, long maxStoreBytes)
    {
        var scopes = new List<ScopeRetention>();
        var notEnforced = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var community in communities.OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            var scope = ScopeOf(community);
            if (scopes.FirstOrDefault(s => s.Scope.Overlaps(scope)) is { } taken)
            {
                notEnforced[community.Name] = $"shares topics with community {taken.Scope.Id}: retention scopes must be disjoint, so its limits are not enforced and its messages count against no limit";
                continue;
            }
            scopes.Add(ScopeRetention.Bytes(scope, community.MaxBytes > 0 ? community.MaxBytes : null, community.Priority));
        }
        return new CommunityRetention(new RetentionConfiguration(scopes, maxStoreBytes > 0 ? maxStoreBytes : null), notEnforced);
    }

    /// <summary>The retention scope of a community (also what a scope deletion deletes).</summary>
    public static RetentionScope ScopeOf(CommunityDefinition community)
    {
        IReadOnlyList<string> content = community.ContentTopics.Count == 0 ? []
            : community.OwnerKey is null ? community.ContentTopics
            : [.. community.ContentTopics, CommunityControl.ContentTopicFor(community.OwnerKey)];
        return RetentionScope.Of(community.Name, community.PubsubTopics, content);
    }
}
