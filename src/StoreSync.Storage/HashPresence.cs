using System.Buffers;
using System.Runtime.InteropServices;
using RocksDbSharp;
using StoreSync.Core;

namespace StoreSync.Storage;

/// <summary>Which hashes of an ingest batch the <c>hashes</c> family already holds, asked in one batched MultiGet.</summary>
/// <remarks>
/// One Get per message walks the memtables and probes each SST's bloom filter on its own; at 1M stored messages that was
/// 12 % of ingest CPU (spec/performance.md, "Storage"). RocksDB's batched MultiGet looks the sorted keys up level by level,
/// sharing filter partitions and index blocks between neighbouring keys and paying the per-call overhead once. RocksDbSharp
/// does not wrap the batched form, so it is called directly from the same native library. The keys are passed in ascending
/// order (sorted here as 32-byte values, ties included), so RocksDB skips its own sort of the batch through its comparator, a
/// fifth of the lookup's cost before (spec/performance.md, "Ingest against RocksDB's floor").
/// </remarks>
internal static unsafe partial class HashPresence
{
    /// <summary>Sets <c>present[i]</c> when <c>hashes[i]</c> is stored, reading the database's current state.</summary>
    /// <exception cref="RocksDbException">RocksDB failed a lookup (I/O error, corruption).</exception>
    public static void Find(RocksDb db, ColumnFamilyHandle family, ReadOptions options, ReadOnlySpan<MessageHash> hashes, Span<bool> present)
    {
        int n = hashes.Length;
        if (n == 0) return;
        var keys = ArrayPool<byte>.Shared.Rent(n * MessageHash.Length);
        var sorted = ArrayPool<MessageHash>.Shared.Rent(n);
        var order = ArrayPool<int>.Shared.Rent(n);
        var pointers = ArrayPool<nint>.Shared.Rent(n);
        var sizes = ArrayPool<nuint>.Shared.Rent(n);
        var values = ArrayPool<nint>.Shared.Rent(n);
        var errors = ArrayPool<nint>.Shared.Rent(n);
        try
        {
            hashes.CopyTo(sorted);
            for (int i = 0; i < n; i++) order[i] = i;
            // MessageHash orders as its bytes do (big-endian words), which is the family's bytewise key order.
            Array.Sort(sorted, order, 0, n);
            for (int i = 0; i < n; i++) sorted[i].WriteTo(keys.AsSpan(i * MessageHash.Length, MessageHash.Length));
            values.AsSpan(0, n).Clear();
            errors.AsSpan(0, n).Clear();
            fixed (byte* k = keys)
            fixed (nint* p = pointers)
            fixed (nuint* s = sizes)
            fixed (nint* v = values)
            fixed (nint* e = errors)
            {
                for (int i = 0; i < n; i++)
                {
                    p[i] = (nint)(k + i * MessageHash.Length);
                    s[i] = MessageHash.Length;
                }
                BatchedMultiGet(db.Handle, options.Handle, family.Handle, (nuint)n, p, s, v, e, sortedInput: 1);
            }
            nint failure = 0;
            for (int i = 0; i < n; i++)
            {
                present[order[i]] = values[i] != 0;
                if (values[i] != 0) PinnableSliceDestroy(values[i]);
                if (errors[i] == 0) continue;
                if (failure == 0) failure = errors[i]; // the exception reads and frees it
                else Free(errors[i]);
            }
            if (failure != 0) throw new RocksDbException(failure);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(keys);
            ArrayPool<MessageHash>.Shared.Return(sorted);
            ArrayPool<int>.Shared.Return(order);
            ArrayPool<nint>.Shared.Return(pointers);
            ArrayPool<nuint>.Shared.Return(sizes);
            ArrayPool<nint>.Shared.Return(values);
            ArrayPool<nint>.Shared.Return(errors);
        }
    }

    const string Library = "rocksdb";

    [LibraryImport(Library, EntryPoint = "rocksdb_batched_multi_get_cf")]
    private static partial void BatchedMultiGet(nint db, nint options, nint family, nuint count, nint* keys, nuint* keySizes, nint* values, nint* errors, byte sortedInput);

    [LibraryImport(Library, EntryPoint = "rocksdb_pinnableslice_destroy")]
    private static partial void PinnableSliceDestroy(nint slice);

    [LibraryImport(Library, EntryPoint = "rocksdb_free")]
    private static partial void Free(nint pointer);
}
