namespace StoreSync.Waku.Communities;

/// <summary>One community, prepared for lookups.</summary>
internal sealed class CommunityEntry(CommunityDefinition definition, OwnerState owner)
{
    public CommunityDefinition Definition { get; } = definition;
    public HashSet<string> Pubsub { get; } = new(definition.PubsubTopics, StringComparer.Ordinal);

    /// <summary>Null: every content topic.</summary>
    public HashSet<string>? Content { get; } = definition.ContentTopics.Count == 0 ? null : new(definition.ContentTopics, StringComparer.Ordinal);

    public string? OwnerHex { get; } = definition.OwnerKey;
    public string? ControlTopic { get; } = definition.OwnerKey is null ? null : CommunityControl.ContentTopicFor(definition.OwnerKey);
    public bool OwnerServing { get; } = owner.Serving;

    /// <summary>Opted in and not switched off by its owner.</summary>
    public bool Visible => Definition.OptedIn && OwnerServing;

    public bool Holds(string pubsubTopic, string contentTopic) =>
        Pubsub.Contains(pubsubTopic) && (Content is null || Content.Contains(contentTopic) || contentTopic == ControlTopic);
}
