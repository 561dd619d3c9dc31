namespace StoreSync.Testing.Pubsub;

/// <summary>The routers that reach each other in memory.</summary>
public sealed class InMemoryPubsubNetwork
{
    readonly List<InMemoryPubsub> _routers = [];

    internal void Join(InMemoryPubsub router) { lock (_routers) _routers.Add(router); }

    internal InMemoryPubsub[] Others(InMemoryPubsub router) { lock (_routers) return [.. _routers.Where(r => r != router)]; }
}
