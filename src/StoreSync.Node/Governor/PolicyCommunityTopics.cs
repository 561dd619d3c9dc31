using StoreSync.Waku.Communities;

namespace StoreSync.Node.Governor;

/// <summary>The governor's view of the node's communities (<see cref="CommunityPolicy"/>), rebuilt when the policy changes.</summary>
/// <remarks>A community with content topics also owns its control topic (spec/communities.md), so owner switches it serves are charged to it.</remarks>
public sealed class PolicyCommunityTopics : ICommunityTopics
{
    readonly CommunityPolicy _policy;
    IReadOnlyList<CommunityTopics> _current;

    public PolicyCommunityTopics(CommunityPolicy policy)
    {
        _policy = policy;
        _current = Build(policy);
        policy.Changed += () => _current = Build(_policy);
    }

    public IReadOnlyList<CommunityTopics> Communities => _current;

    static IReadOnlyList<CommunityTopics> Build(CommunityPolicy policy) =>
        [.. policy.Communities.Select(d => new CommunityTopics(d.Name,
            new HashSet<string>(d.PubsubTopics, StringComparer.Ordinal),
            d.ContentTopics.Count == 0 ? null
                : new HashSet<string>(d.OwnerKey is null ? d.ContentTopics : [.. d.ContentTopics, CommunityControl.ContentTopicFor(d.OwnerKey)], StringComparer.Ordinal)))];
}
