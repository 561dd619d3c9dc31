using StoreSync.Reconciliation.Native;

namespace StoreSync.Waku.Sync;

/// <summary>Which reconciliation protocol a session ran: the node's own (native) or nwaku's.</summary>
public enum SyncMode
{
    /// <summary><c>/storesync/reconciliation/4.0.0</c>, <c>3.0.0</c> or <c>2.0.0</c> (spec/sync.md §3).</summary>
    Native,

    /// <summary><c>/vac/waku/reconciliation/1.0.0</c> (spec/sync.md §2).</summary>
    Nwaku,
}

/// <summary>The names of <see cref="SyncMode"/>: its protocol on a stream, and its word in metric tags, logs and the dashboard.</summary>
public static class SyncModeNames
{
    /// <summary>The mode of a stream negotiated for reconciliation: the protocol the responder took picks the engine (spec/sync.md §5.1).</summary>
    public static SyncMode OfProtocol(string protocolId) => NativeReconciliation.VersionOf(protocolId) is null ? SyncMode.Nwaku : SyncMode.Native;

    /// <summary>"native" or "nwaku".</summary>
    public static string Name(this SyncMode mode) => mode == SyncMode.Nwaku ? "nwaku" : "native";
}
