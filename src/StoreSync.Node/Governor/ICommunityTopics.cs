namespace StoreSync.Node.Governor;

/// <summary>One community's topics as the governor needs them: to which communities a piece of traffic belongs.</summary>
/// <param name="ContentTopics">null = every content topic on the pubsub topics.</param>
public sealed record CommunityTopics(string Name, IReadOnlySet<string> PubsubTopics, IReadOnlySet<string>? ContentTopics)
{
    /// <summary>Whether traffic on <paramref name="pubsubTopic"/> about <paramref name="contentTopics"/> (empty = any) touches the community.</summary>
    public bool Touches(string pubsubTopic, IReadOnlyList<string> contentTopics)
    {
        if (!PubsubTopics.Contains(pubsubTopic)) return false;
        if (ContentTopics is null || contentTopics.Count == 0) return true;
        foreach (var c in contentTopics)
            if (ContentTopics.Contains(c)) return true;
        return false;
    }
}

/// <summary>The node's communities, read at each use (they change live).</summary>
public interface ICommunityTopics
{
    IReadOnlyList<CommunityTopics> Communities { get; }
}

/// <summary>A node without communities: all traffic is charged globally only.</summary>
public sealed class NoCommunities : ICommunityTopics
{
    public IReadOnlyList<CommunityTopics> Communities => [];
}
