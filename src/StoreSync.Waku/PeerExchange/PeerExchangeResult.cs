using StoreSync.Libp2p.Discovery.Enr;

namespace StoreSync.Waku.PeerExchange;

/// <summary>A peer exchange answer: its status, the records that verified and how many were dropped.</summary>
public sealed record PeerExchangeResult(uint Status, string Description, IReadOnlyList<EnrRecord> Records, int Rejected);
