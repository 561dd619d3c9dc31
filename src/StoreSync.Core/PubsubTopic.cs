using System.Globalization;

namespace StoreSync.Core;

/// <summary>Validation of pubsub topics: static shards <c>/waku/2/rs/{cluster}/{shard}</c> or named <c>/waku/2/{name}</c>.</summary>
public static class PubsubTopic
{
    public const int MaxLength = 255;
    public const string Prefix = "/waku/2/";
    const string ShardPrefix = "/waku/2/rs/";

    public static string ForShard(uint clusterId, uint shard) =>
        string.Create(CultureInfo.InvariantCulture, $"{ShardPrefix}{clusterId}/{shard}");

    /// <summary>Reads cluster and shard from a static-sharding topic; false for named topics.</summary>
    public static bool TryParseShard(string topic, out uint clusterId, out uint shard)
    {
        clusterId = shard = 0;
        if (!topic.StartsWith(ShardPrefix, StringComparison.Ordinal)) return false;
        var rest = topic.AsSpan(ShardPrefix.Length);
        int slash = rest.IndexOf('/');
        return slash > 0
            && uint.TryParse(rest[..slash], NumberStyles.None, CultureInfo.InvariantCulture, out clusterId)
            && uint.TryParse(rest[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out shard)
            && shard <= ushort.MaxValue;
    }

    public static bool TryValidate(string? topic, out string error)
    {
        error = "";
        if (string.IsNullOrEmpty(topic)) { error = "pubsub topic is empty"; return false; }
        if (topic.Length > MaxLength) { error = $"pubsub topic is longer than {MaxLength} characters"; return false; }
        if (!topic.StartsWith(Prefix, StringComparison.Ordinal) || topic.Length == Prefix.Length)
        {
            error = $"pubsub topic '{ContentTopic.Shorten(topic)}' must look like /waku/2/rs/<cluster>/<shard> or /waku/2/<name>";
            return false;
        }
        if (topic.StartsWith(ShardPrefix, StringComparison.Ordinal) && !TryParseShard(topic, out _, out _))
        {
            error = $"pubsub topic '{ContentTopic.Shorten(topic)}' is not /waku/2/rs/<cluster>/<shard> with decimal numbers (shard <= 65535)";
            return false;
        }
        foreach (char c in topic)
        {
            if (char.IsControl(c) || char.IsWhiteSpace(c))
            {
                error = $"pubsub topic '{ContentTopic.Shorten(topic)}' contains whitespace or a control character";
                return false;
            }
        }
        return true;
    }

    public static void Validate(string? topic)
    {
        if (!TryValidate(topic, out var error)) throw new MessageValidationException(error);
    }
}
