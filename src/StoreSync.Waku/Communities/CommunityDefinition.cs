using StoreSync.Core;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Waku.Communities;

/// <summary>A community as an operator defines it: a named set of pubsub and content topics with an owner key, and what this node does for it.</summary>
/// <remarks>
/// A message (pubsub topic p, content topic c) belongs to the community when p is one of its pubsub topics and c is one of
/// its content topics (an empty list: any content topic on those pubsub topics) or its control topic
/// (<see cref="CommunityControl.ContentTopicFor(ReadOnlySpan{byte})"/>). spec/communities.md.
/// </remarks>
public sealed record CommunityDefinition
{
    public const int MaxNameLength = 64;
    public const int MaxPubsubTopics = 64;
    public const int MaxContentTopics = 1024;
    public const int MinPriority = -1000, MaxPriority = 1000;

    /// <summary>Local name: 1..64 of a-z 0-9 . _ - starting with a letter or digit (used in URLs, metric labels, file names).</summary>
    public required string Name { get; init; }

    public IReadOnlyList<string> PubsubTopics { get; init; } = [];

    /// <summary>Content topics; empty means every content topic on <see cref="PubsubTopics"/>.</summary>
    public IReadOnlyList<string> ContentTopics { get; init; } = [];

    /// <summary>The owner's secp256k1 public key, 33-byte compressed, lower-case hex (66 digits); null: no owner switch, no authorship policy.</summary>
    public string? OwnerKey { get; init; }

    /// <summary>Whether this node stores, serves and syncs the community.</summary>
    public bool OptedIn { get; init; } = true;

    /// <summary>Authorship policy: every message must carry in meta a signature by the owner or an owner-authorised member.</summary>
    public bool RequireAuthorSignature { get; init; }

    /// <summary>Most bytes of messages kept for the community; 0 = no community limit (the global limit still applies).</summary>
    public long MaxBytes { get; init; }

    /// <summary>Under the global limit, communities of lower priority are evicted first; equal priorities evict the oldest message first.</summary>
    public int Priority { get; init; }

    /// <summary>The owner key's bytes, or null.</summary>
    public byte[]? OwnerKeyBytes() => OwnerKey is null ? null : Convert.FromHexString(OwnerKey);

    /// <summary>Every problem with the definition, each a sentence naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!IsValidName(Name)) errors.Add($"community name '{Shorten(Name)}' must be 1..{MaxNameLength} characters of a-z, 0-9, '.', '_', '-' starting with a letter or digit");
        string who = IsValidName(Name) ? $"community {Name}" : "community";
        if (PubsubTopics is null || PubsubTopics.Count == 0) errors.Add($"{who}: PubsubTopics is empty (a community needs at least one pubsub topic)");
        else
        {
            if (PubsubTopics.Count > MaxPubsubTopics) errors.Add($"{who}: {PubsubTopics.Count} pubsub topics, at most {MaxPubsubTopics}");
            foreach (var t in PubsubTopics)
                if (!PubsubTopic.TryValidate(t, out var e)) errors.Add($"{who}: PubsubTopics: {e}");
            if (PubsubTopics.Distinct(StringComparer.Ordinal).Count() != PubsubTopics.Count) errors.Add($"{who}: PubsubTopics lists a topic twice");
        }
        if (ContentTopics is null) errors.Add($"{who}: ContentTopics is null");
        else
        {
            if (ContentTopics.Count > MaxContentTopics) errors.Add($"{who}: {ContentTopics.Count} content topics, at most {MaxContentTopics}");
            foreach (var t in ContentTopics)
            {
                if (!ContentTopic.TryValidate(t, out var e)) errors.Add($"{who}: ContentTopics: {e}");
                else if (CommunityControl.IsControlTopic(t)) errors.Add($"{who}: ContentTopics: '{t}' is a control topic; a community's own control topic is always included");
            }
            if (ContentTopics.Distinct(StringComparer.Ordinal).Count() != ContentTopics.Count) errors.Add($"{who}: ContentTopics lists a topic twice");
        }
        if (OwnerKey is not null && !IsValidOwnerKey(OwnerKey))
            errors.Add($"{who}: OwnerKey must be a compressed secp256k1 public key: 66 lower-case hex digits starting with 02 or 03, on the curve");
        if (RequireAuthorSignature && OwnerKey is null) errors.Add($"{who}: RequireAuthorSignature needs an OwnerKey (the owner authorises the authors)");
        if (MaxBytes < 0) errors.Add($"{who}: MaxBytes {MaxBytes} is negative (0 = no community limit)");
        if (Priority is < MinPriority or > MaxPriority) errors.Add($"{who}: Priority {Priority} is outside {MinPriority}..{MaxPriority}");
        return errors;
    }

    public static bool IsValidName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength) return false;
        if (!char.IsAsciiLetterLower(name[0]) && !char.IsAsciiDigit(name[0])) return false;
        foreach (char c in name)
            if (!char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c) && c is not ('.' or '_' or '-')) return false;
        return true;
    }

    public static bool IsValidOwnerKey(string? hex)
    {
        if (hex is null || hex.Length != 2 * Secp256k1Signatures.PublicKeyLength) return false;
        foreach (char c in hex)
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f')) return false;
        return Secp256k1Signatures.IsValidPublicKey(Convert.FromHexString(hex));
    }

    static string Shorten(string? s) => s is null ? "" : s.Length <= 80 ? s : s[..77] + "...";
}
