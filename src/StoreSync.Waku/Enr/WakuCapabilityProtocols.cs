using StoreSync.Reconciliation.Nwaku;
using StoreSync.Waku.LightPush;
using StoreSync.Waku.Relay;
using StoreSync.Waku.Store;

namespace StoreSync.Waku.Enr;

/// <summary>Which <c>waku2</c> bits a node may set for the protocols it serves (nwaku's capabilityToCodec and the rule of its conf builder).</summary>
public static class WakuCapabilityProtocols
{
    public const string FilterSubscribeProtocolId = "/vac/waku/filter-subscribe/2.0.0-beta1";

    /// <summary>The bits for the served protocol ids.</summary>
    /// <remarks>
    /// The lightpush bit needs relay as well, as nwaku sets it: the bit promises that a pushed message is published to
    /// the network, and a node without relay only stores it. Sync is the reconciliation protocol, which is how a peer
    /// learns that a node serves store sync.
    /// </remarks>
    public static WakuCapabilities For(IReadOnlyCollection<string> protocols)
    {
        ArgumentNullException.ThrowIfNull(protocols);
        var capabilities = WakuCapabilities.None;
        bool relay = protocols.Contains(RelayLimits.ProtocolId);
        if (relay) capabilities |= WakuCapabilities.Relay;
        if (protocols.Contains(StoreQueryServer.ProtocolId)) capabilities |= WakuCapabilities.Store;
        if (protocols.Contains(FilterSubscribeProtocolId)) capabilities |= WakuCapabilities.Filter;
        if (relay && protocols.Contains(LightPushServer.ProtocolIdV3)) capabilities |= WakuCapabilities.Lightpush;
        if (protocols.Contains(NwakuReconciliation.ProtocolId)) capabilities |= WakuCapabilities.Sync;
        return capabilities;
    }
}
