using Google.Protobuf;
using StoreSync.Libp2p;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Waku.Proto;

namespace StoreSync.Waku.PeerExchange;

/// <summary>Asks a peer for records of other peers over <c>/vac/waku/peer-exchange/2.0.0-alpha1</c>.</summary>
public sealed class PeerExchangeClient(Libp2pHost host)
{
    /// <summary>
    /// Asks <paramref name="peer"/> for up to <paramref name="numPeers"/> records (at most 60). Records that do not decode or
    /// verify are dropped and counted; a status other than 200 is returned as it came, with no records.
    /// </summary>
    /// <exception cref="InvalidDataException">The response does not decode or has no response part.</exception>
    public async Task<PeerExchangeResult> RequestAsync(PeerId peer, int numPeers, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numPeers);
        await using var stream = await host.NewStreamAsync(peer, PeerExchangeProtocol.ProtocolId, ct).ConfigureAwait(false);
        await LengthPrefixed.WriteAsync(stream, PeerExchangeProtocol.EncodeRequest((ulong)Math.Min(numPeers, PeerExchangeProtocol.MaxPeersPerResponse)), ct)
            .ConfigureAwait(false);
        await stream.CloseWriteAsync(ct).ConfigureAwait(false);
        var bytes = await LengthPrefixed.ReadAsync(stream, PeerExchangeProtocol.MaxResponseBytes, ct).ConfigureAwait(false);
        return Decode(bytes, numPeers, peer.ToString());
    }

    /// <summary>Decodes a response; public so the codec is tested without a network.</summary>
    public static PeerExchangeResult Decode(ReadOnlySpan<byte> bytes, int numPeers, string from)
    {
        PeerExchangeRPC rpc;
        try { rpc = PeerExchangeRPC.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e) { throw new InvalidDataException($"peer exchange response from {from} does not decode: {e.Message}", e); }
        var response = rpc.Response ?? throw new InvalidDataException($"peer exchange answer from {from} has no response");
        // Older nwaku nodes send no status code on success: a response with records and no code is a success.
        uint status = response.HasStatusCode ? response.StatusCode : PeerExchangeProtocol.Success;
        if (status != PeerExchangeProtocol.Success) return new PeerExchangeResult(status, response.StatusDesc, [], 0);
        var records = new List<EnrRecord>();
        int rejected = 0;
        // A peer that sends more than asked gets the surplus ignored, not trusted.
        foreach (var info in response.PeerInfos.Take(Math.Min(numPeers, PeerExchangeProtocol.MaxPeersPerResponse)))
        {
            if (EnrRecord.TryDecode(info.Enr.Span, out var record, out _)) records.Add(record!);
            else rejected++;
        }
        rejected += Math.Max(0, response.PeerInfos.Count - Math.Min(numPeers, PeerExchangeProtocol.MaxPeersPerResponse));
        return new PeerExchangeResult(status, response.StatusDesc, records, rejected);
    }
}
