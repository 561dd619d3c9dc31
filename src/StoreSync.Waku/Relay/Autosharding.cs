using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using StoreSync.Core;

namespace StoreSync.Waku.Relay;

/// <summary>The shard of a content topic under autosharding (51/WAKU2-RELAY-SHARDING, generation 0), as nwaku computes it
/// (waku_core/topics/sharding.nim getGenZeroShard).</summary>
/// <remarks>shard = (the last 8 bytes of SHA-256(application ‖ version), big-endian) mod the number of shards in the network.
/// Content topics are <c>/application/version/name/encoding</c>, optionally with a leading generation <c>/0/...</c>;
/// other generations are refused, as nwaku refuses them.</remarks>
public static class Autosharding
{
    public static bool TryGetPubsubTopic(uint clusterId, uint shardsInNetwork, string contentTopic, out string pubsubTopic, out string error)
    {
        pubsubTopic = "";
        if (shardsInNetwork == 0)
        {
            error = "autosharding is off on this node (no --num-shards-in-network): name a pubsub topic";
            return false;
        }
        if (!ContentTopic.TryValidate(contentTopic, out error)) return false;
        var parts = contentTopic[1..].Split('/');
        if (parts.Length == 5)
        {
            if (parts[0] != "0")
            {
                error = $"content topic generation {parts[0]} is not supported (only 0)";
                return false;
            }
            parts = parts[1..];
        }
        byte[] bytes = Encoding.UTF8.GetBytes(parts[0] + parts[1]);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(bytes, hash);
        ulong value = BinaryPrimitives.ReadUInt64BigEndian(hash[24..]);
        pubsubTopic = PubsubTopic.ForShard(clusterId, (uint)(value % shardsInNetwork));
        return true;
    }
}
