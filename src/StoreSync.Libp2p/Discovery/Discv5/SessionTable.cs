namespace StoreSync.Libp2p.Discovery.Discv5;

/// <summary>Established sessions by node address, at most <see cref="Discv5Limits.MaxSessions"/>, least recently used evicted first.</summary>
/// <remarks>Not thread-safe: the session layer holds its lock around every use.</remarks>
internal sealed class SessionTable(int capacity)
{
    readonly Dictionary<NodeAddress, LinkedListNode<Session>> _byAddress = [];
    readonly LinkedList<Session> _recency = new();

    public int Count => _byAddress.Count;

    public Session? Get(NodeAddress address)
    {
        if (!_byAddress.TryGetValue(address, out var node)) return null;
        _recency.Remove(node);
        _recency.AddLast(node);
        return node.Value;
    }

    /// <summary>Installs a session, replacing (and disposing) one already held for the address.</summary>
    public void Put(Session session)
    {
        Remove(session.Address);
        if (_byAddress.Count >= capacity && _recency.First is { } oldest) Remove(oldest.Value.Address);
        _byAddress[session.Address] = _recency.AddLast(session);
    }

    public void Remove(NodeAddress address)
    {
        if (!_byAddress.Remove(address, out var node)) return;
        _recency.Remove(node);
        node.Value.Dispose();
    }

    public void Clear()
    {
        foreach (var session in _recency) session.Dispose();
        _recency.Clear();
        _byAddress.Clear();
    }
}
