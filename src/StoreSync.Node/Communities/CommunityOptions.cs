using StoreSync.Waku.Communities;

namespace StoreSync.Node.Communities;

/// <summary>One community as written in the configuration (section <c>StoreSync:Communities:&lt;name&gt;</c>); the key is its name.</summary>
public sealed class CommunityOptions
{
    public List<string> PubsubTopics { get; set; } = [];
    public List<string> ContentTopics { get; set; } = [];
    public string? OwnerKey { get; set; }
    public bool OptedIn { get; set; } = true;
    public bool RequireAuthorSignature { get; set; }
    public long MaxBytes { get; set; }
    public int Priority { get; set; }

    public CommunityDefinition ToDefinition(string name) => new()
    {
        Name = name,
        PubsubTopics = [.. PubsubTopics],
        ContentTopics = [.. ContentTopics],
        OwnerKey = OwnerKey,
        OptedIn = OptedIn,
        RequireAuthorSignature = RequireAuthorSignature,
        MaxBytes = MaxBytes,
        Priority = Priority,
    };
}
