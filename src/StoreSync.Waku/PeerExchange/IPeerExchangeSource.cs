using StoreSync.Libp2p.Discovery.Enr;

namespace StoreSync.Waku.PeerExchange;

/// <summary>Where the peer exchange server takes the records it hands out: healthy peers found by discovery.</summary>
public interface IPeerExchangeSource
{
    /// <summary>At most <paramref name="count"/> records, a random sample when more qualify.</summary>
    IReadOnlyList<EnrRecord> SampleForExchange(int count);
}
