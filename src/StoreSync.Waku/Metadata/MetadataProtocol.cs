using Google.Protobuf;
using StoreSync.Waku.Proto;

namespace StoreSync.Waku.Metadata;

/// <summary>66/WAKU2-METADATA (<c>/vac/waku/metadata/1.0.0</c>): exchange cluster id and shards; a peer is dropped for the
/// reasons nwaku's peer manager drops it (no cluster id, another cluster, a relay peer with no shard in common).</summary>
/// <remarks>
/// Shards go out twice, unpacked in field 2 (js-waku reads only that) and packed in field 3 (nwaku prefers it).
/// On input Google.Protobuf accepts field 2 packed or unpacked; field 3 wins when present, as in nwaku.
/// As in nwaku, a node on cluster 0 checks nothing, and the shards are only compared for a peer that announces relay:
/// a light client that lists no shards (js-waku sends none) is kept.
/// </remarks>
public sealed class MetadataProtocol(uint clusterId, IReadOnlyCollection<uint> shards)
{
    public const string ProtocolId = "/vac/waku/metadata/1.0.0";

    /// <summary>nwaku's RpcResponseMaxBytes.</summary>
    public const int MaxMessageBytes = 1024;

    /// <summary>nwaku compares shards only with peers that announce this protocol in identify.</summary>
    public const string RelayProtocolId = "/vac/waku/relay/2.0.0";

    public uint ClusterId => clusterId;

    public WakuMetadataRequest CreateRequest()
    {
        var request = new WakuMetadataRequest { ClusterId = clusterId };
        request.Shards.AddRange(shards);
        request.ShardsPacked.AddRange(shards);
        return request;
    }

    /// <summary>Our response to a peer's request (whatever it contains: the check happens on the side that asked).</summary>
    public WakuMetadataResponse CreateResponse()
    {
        var response = new WakuMetadataResponse { ClusterId = clusterId };
        response.Shards.AddRange(shards);
        response.ShardsPacked.AddRange(shards);
        return response;
    }

    /// <summary>Whether this node checks its peers' metadata at all: nwaku skips the check on cluster 0.</summary>
    public bool ChecksPeers => clusterId != 0;

    /// <summary>Decodes a peer's response and decides whether to keep the peer, as nwaku's <c>onPeerMetadata</c> does.</summary>
    /// <param name="remoteIsRelay">The peer announced <see cref="RelayProtocolId"/>: then it must share a shard with us.</param>
    public MetadataCheck Check(ReadOnlySpan<byte> responseBytes, bool remoteIsRelay = false)
    {
        WakuMetadataResponse response;
        try
        {
            response = WakuMetadataResponse.Parser.ParseFrom(responseBytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            return new MetadataCheck(false, null, [], $"metadata response not decodable: {e.Message}");
        }
        IReadOnlyList<uint> remoteShards = response.ShardsPacked.Count > 0 ? [.. response.ShardsPacked] : [.. response.Shards];
        if (!response.HasClusterId) return new MetadataCheck(false, null, remoteShards, "peer sent no cluster id");
        if (response.ClusterId != clusterId)
            return new MetadataCheck(false, response.ClusterId, remoteShards, $"peer is on cluster {response.ClusterId}, this node on cluster {clusterId}");
        // js-waku nodes, relay ones too, list no shards ("only service nodes need to provide shards"): kept.
        if (remoteIsRelay && remoteShards.Count > 0 && !remoteShards.Any(shards.Contains))
            return new MetadataCheck(false, response.ClusterId, remoteShards,
                $"no shards in common: this node's [{string.Join(", ", shards)}], the relay peer's [{string.Join(", ", remoteShards)}]");
        return new MetadataCheck(true, response.ClusterId, remoteShards, "");
    }

    /// <summary>Decodes a request only to log what the peer announced; a bad request is answered all the same.</summary>
    public static WakuMetadataRequest? TryParseRequest(ReadOnlySpan<byte> requestBytes)
    {
        try { return WakuMetadataRequest.Parser.ParseFrom(requestBytes); }
        catch (InvalidProtocolBufferException) { return null; }
    }
}

/// <summary>Whether a peer's metadata allows keeping it, with what it announced.</summary>
public readonly record struct MetadataCheck(bool Keep, uint? ClusterId, IReadOnlyList<uint> Shards, string Reason);
