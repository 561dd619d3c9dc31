namespace StoreSync.Simulations.Engine;

/// <summary>The ids of the nodes online now: O(1) add and remove (swap with the last), members in a deterministic order.</summary>
internal sealed class OnlineSet(int capacity)
{
    readonly int[] _members = new int[capacity];
    readonly int[] _position = Enumerable.Repeat(-1, capacity).ToArray();

    public int Count { get; private set; }

    public ReadOnlySpan<int> Members => _members.AsSpan(0, Count);

    public void Add(int id)
    {
        if (_position[id] >= 0) return;
        _position[id] = Count;
        _members[Count++] = id;
    }

    public void Remove(int id)
    {
        int at = _position[id];
        if (at < 0) return;
        int last = _members[--Count];
        _members[at] = last;
        _position[last] = at;
        _position[id] = -1;
    }
}
