using System.Runtime.CompilerServices;

namespace StoreSync.Reconciliation;

/// <summary>An append-only list in fixed chunks that stay below the large-object threshold.</summary>
/// <remarks>
/// A session keeps up to a million open nodes per frame; a doubling list would copy them at each growth and leave
/// the old arrays on the large-object heap until a full collection. Chunks never move and are compacted normally.
/// </remarks>
internal sealed class ChunkedList<T> where T : struct
{
    readonly List<T[]> _chunks = [];
    readonly int _shift, _mask;

    public ChunkedList()
    {
        // The largest power-of-two chunk under ~80 KB for this element size.
        int size = Math.Max(Unsafe.SizeOf<T>(), 1);
        int elements = 1;
        while (elements * 2 * size <= 80_000) elements *= 2;
        _shift = System.Numerics.BitOperations.Log2((uint)elements);
        _mask = elements - 1;
    }

    public int Count { get; private set; }

    public ref T this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
            return ref _chunks[index >> _shift][index & _mask];
        }
    }

    /// <summary>Empties the list and keeps its chunks for reuse.</summary>
    public void Clear() => Count = 0;

    public void Add(in T item)
    {
        if ((Count >> _shift) == _chunks.Count) _chunks.Add(new T[_mask + 1]);
        // Chunks are reused after Clear; a struct holding references would keep old ones alive, but the session's don't.
        _chunks[Count >> _shift][Count & _mask] = item;
        Count++;
    }
}
