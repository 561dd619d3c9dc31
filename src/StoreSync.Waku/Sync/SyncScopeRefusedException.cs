namespace StoreSync.Waku.Sync;

/// <summary>The community policy does not let this node sync the scope a session agreed on; the session ends unpenalised.</summary>
public sealed class SyncScopeRefusedException(string reason) : Exception(reason);
