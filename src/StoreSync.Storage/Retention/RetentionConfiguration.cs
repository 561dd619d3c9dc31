namespace StoreSync.Storage.Retention;

/// <summary>
/// The retention scopes of a store (disjoint: a message belongs to at most one) and the global byte limit over all of them.
/// Messages outside every scope are neither counted against the global limit nor evicted.
/// </summary>
public sealed class RetentionConfiguration
{
    /// <summary>At most this many scopes: the eviction planner opens one index cursor per (pubsub, content) pair of a scope.</summary>
    public const int MaxScopes = 10_000;

    readonly Dictionary<string, int> _byId = new(StringComparer.Ordinal);
    readonly Dictionary<string, (int Wildcard, Dictionary<string, int> ByContent)> _byPubsub = new(StringComparer.Ordinal);

    public RetentionConfiguration(IReadOnlyList<ScopeRetention> scopes, long? globalMaxBytes = null)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        if (scopes.Count > MaxScopes) throw new ArgumentException($"{scopes.Count} retention scopes, at most {MaxScopes}", nameof(scopes));
        if (globalMaxBytes is < 0) throw new ArgumentOutOfRangeException(nameof(globalMaxBytes), globalMaxBytes, "the global limit is at least 0 bytes");
        for (int i = 0; i < scopes.Count; i++)
        {
            var scope = scopes[i]?.Scope ?? throw new ArgumentException($"retention scope {i} is null", nameof(scopes));
            if (!_byId.TryAdd(scope.Id, i)) throw new ArgumentException($"retention scope id '{scope.Id}' is used twice", nameof(scopes));
            foreach (var t in scope.Topics)
            {
                if (!_byPubsub.TryGetValue(t.PubsubTopic, out var entry)) entry = (-1, new Dictionary<string, int>(StringComparer.Ordinal));
                if (entry.Wildcard >= 0 || (t.ContentTopics.Count == 0 && entry.ByContent.Count > 0))
                    throw Overlap(scope.Id, entry.Wildcard >= 0 ? entry.Wildcard : entry.ByContent.Values.First(), t.PubsubTopic);
                if (t.ContentTopics.Count == 0) entry.Wildcard = i;
                foreach (var c in t.ContentTopics)
                    if (!entry.ByContent.TryAdd(c, i) && entry.ByContent[c] != i) throw Overlap(scope.Id, entry.ByContent[c], t.PubsubTopic);
                _byPubsub[t.PubsubTopic] = entry;
            }
        }
        Scopes = scopes;
        GlobalMaxBytes = globalMaxBytes;

        ArgumentException Overlap(string id, int other, string pubsub) =>
            new($"retention scopes '{id}' and '{scopes[other].Scope.Id}' overlap on {pubsub}: scopes must be disjoint", nameof(scopes));
    }

    public static RetentionConfiguration Empty { get; } = new([]);

    public IReadOnlyList<ScopeRetention> Scopes { get; }

    /// <summary>Limit on the bytes of all scopes together; null = none.</summary>
    public long? GlobalMaxBytes { get; }

    /// <summary>Index in <see cref="Scopes"/> of the scope a message of (pubsub, content) belongs to; −1 for none.</summary>
    public int IndexOf(string pubsubTopic, string contentTopic)
    {
        if (!_byPubsub.TryGetValue(pubsubTopic, out var entry)) return -1;
        return entry.ByContent.TryGetValue(contentTopic, out int i) ? i : entry.Wildcard;
    }

    /// <summary>Index in <see cref="Scopes"/> of the scope that holds every content topic of <paramref name="pubsubTopic"/>; −1 for none.</summary>
    public int IndexOfWholeTopic(string pubsubTopic) => _byPubsub.TryGetValue(pubsubTopic, out var entry) ? entry.Wildcard : -1;

    /// <summary>Index in <see cref="Scopes"/> of the scope with this id; −1 for none.</summary>
    public int IndexOf(string scopeId) => _byId.GetValueOrDefault(scopeId, -1);

    /// <summary>The limits in force for scope <paramref name="index"/>, as recorded with its horizon.</summary>
    public RetentionLimits LimitsOf(int index) => Scopes[index].Limits(GlobalMaxBytes);
}
