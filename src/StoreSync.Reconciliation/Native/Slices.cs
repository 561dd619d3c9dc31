namespace StoreSync.Reconciliation.Native;

/// <summary>The m equal position slices of a node, the remainder going to the first ones (spec/sync.md §3.1).</summary>
/// <remarks>Both sides cut the same way, so no bound travels; one division per split.</remarks>
internal readonly struct Slices
{
    readonly UInt128 _lo, _step;
    readonly ulong _rest;

    public Slices(OpenNode node, int m)
    {
        UInt128 span = node.Hi - node.Lo;
        _lo = node.Lo;
        _step = span / (uint)m;
        _rest = (ulong)(span % (uint)m);
    }

    public OpenNode this[int i]
    {
        get
        {
            ulong k = (ulong)i;
            UInt128 lo = _lo + _step * k + Math.Min(k, _rest);
            return new OpenNode(lo, lo + _step + (k < _rest ? 1u : 0u));
        }
    }
}
