using StoreSync.Reconciliation;

namespace StoreSync.Waku.Sync;

/// <summary>The scope a session settled on (the initiator's own, or the intersection a responder answered), known once the
/// engine asks for its item source; kept so the session's figures can be attributed to the communities it covered.</summary>
public sealed class AgreedScope
{
    /// <summary>Null until the engine has agreed on a scope (a session broken before that covers none).</summary>
    public SyncScope? Scope { get; internal set; }
}
