namespace StoreSync.Storage;

/// <summary>Messages, bytes and time span per pubsub topic and per content topic within it, and totals.</summary>
public sealed record StoreStatistics(long Messages, long Bytes, IReadOnlyList<PubsubTopicStatistics> PubsubTopics);

/// <summary>Figures of one pubsub topic; Oldest/Newest are null when it holds nothing.</summary>
public sealed record PubsubTopicStatistics(string PubsubTopic, long Messages, long Bytes, long? Oldest, long? Newest,
    IReadOnlyList<ContentTopicStatistics> ContentTopics);

/// <summary>Figures of one content topic within a pubsub topic.</summary>
public sealed record ContentTopicStatistics(string ContentTopic, long Messages, long Bytes, long? Oldest, long? Newest);
