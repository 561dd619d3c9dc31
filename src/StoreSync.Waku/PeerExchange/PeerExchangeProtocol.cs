using Google.Protobuf;
using StoreSync.Waku.Proto;

namespace StoreSync.Waku.PeerExchange;

/// <summary>The constants and messages of <c>/vac/waku/peer-exchange/2.0.0-alpha1</c> (34/WAKU2-PEER-EXCHANGE), as nwaku speaks it.</summary>
public static class PeerExchangeProtocol
{
    public const string ProtocolId = "/vac/waku/peer-exchange/2.0.0-alpha1";

    /// <summary>nwaku answers at most this many records whatever was asked (MaxPeersCacheSize).</summary>
    public const int MaxPeersPerResponse = 60;

    /// <summary>What nwaku's client asks for by default (DefaultPXNumPeersReq).</summary>
    public const int DefaultPeersRequested = 5;

    /// <summary>A query is a varint or two; anything bigger is not a query.</summary>
    public const int MaxRequestBytes = 64;

    /// <summary>60 records of at most 300 bytes with their framing, and room for a status text.</summary>
    public const int MaxResponseBytes = MaxPeersPerResponse * 310 + 1024;

    /// <summary>Status codes of the response (nwaku's PeerExchangeResponseStatusCode).</summary>
    public const uint Success = 200;
    public const uint BadRequest = 400;
    public const uint BadResponse = 401;
    public const uint TooManyRequests = 429;
    public const uint ServiceUnavailable = 503;

    public static byte[] EncodeRequest(ulong numPeers) =>
        new PeerExchangeRPC { Query = new PeerExchangeQuery { NumPeers = numPeers } }.ToByteArray();

    /// <summary>A response with the records and a status; the empty query is there for older nwaku nodes.</summary>
    public static byte[] EncodeResponse(IEnumerable<ReadOnlyMemory<byte>> records, uint status, string? description = null)
    {
        var response = new PeerExchangeResponse { StatusCode = status };
        if (description is not null) response.StatusDesc = description;
        foreach (var record in records) response.PeerInfos.Add(new PeerInfo { Enr = ByteString.CopyFrom(record.Span) });
        return new PeerExchangeRPC { Query = new PeerExchangeQuery(), Response = response }.ToByteArray();
    }
}
