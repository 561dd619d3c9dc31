using System.Buffers;
using Google.Protobuf;
using StoreSync.Core;

namespace StoreSync.Storage;

/// <summary>An ingest batch's hashes and stored forms, computed before the write lock is taken.</summary>
/// <remarks>
/// The stored forms are serialised back to back into one pooled buffer. Batches of at least <see cref="ParallelFrom"/>
/// messages are prepared on every core: SHA-256 and protobuf serialisation are independent per message, and on a 2-core
/// machine they are a third of the ingest path's CPU (spec/storage.md, "Figures").
/// </remarks>
internal sealed class PreparedBatch : IDisposable
{
    const int ParallelFrom = 256;

    readonly int[] _offsets;
    byte[]? _values;

    public MessageHash[] Hashes { get; }

    PreparedBatch(MessageHash[] hashes, int[] offsets, byte[] values)
    {
        Hashes = hashes;
        _offsets = offsets;
        _values = values;
    }

    /// <summary>Bytes of all stored forms together.</summary>
    public long Bytes => _offsets[^1];

    public ReadOnlySpan<byte> Value(int index) => _values.AsSpan(_offsets[index], _offsets[index + 1] - _offsets[index]);

    public static PreparedBatch Prepare(IReadOnlyList<IngestItem> batch)
    {
        int n = batch.Count;
        var hashes = new MessageHash[n];
        var forms = new Core.Proto.WakuMessage[n];
        var offsets = new int[n + 1];
        long total = 0;
        for (int i = 0; i < n; i++)
        {
            forms[i] = MessageStore.StoredForm(batch[i].Message);
            offsets[i] = (int)total;
            total += forms[i].CalculateSize(); // protobuf caches the sizes, so WriteTo below does not recompute them
            if (total > Array.MaxLength) throw new ArgumentException($"the batch's messages add up to more than {Array.MaxLength} bytes", nameof(batch));
        }
        offsets[n] = (int)total;
        var values = ArrayPool<byte>.Shared.Rent((int)Math.Max(1, total));
        if (n >= ParallelFrom && Environment.ProcessorCount > 1)
        {
            Parallel.For(0, Environment.ProcessorCount, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, part =>
            {
                int from = (int)((long)n * part / Environment.ProcessorCount), to = (int)((long)n * (part + 1) / Environment.ProcessorCount);
                for (int i = from; i < to; i++) PrepareOne(batch[i], forms[i], hashes, offsets, values, i);
            });
        }
        else
        {
            for (int i = 0; i < n; i++) PrepareOne(batch[i], forms[i], hashes, offsets, values, i);
        }
        return new PreparedBatch(hashes, offsets, values);
    }

    static void PrepareOne(in IngestItem item, Core.Proto.WakuMessage form, MessageHash[] hashes, int[] offsets, byte[] values, int i)
    {
        hashes[i] = item.Hash ?? MessageHash.Compute(item.PubsubTopic, item.Message);
        System.Diagnostics.Debug.Assert(hashes[i] == MessageHash.Compute(item.PubsubTopic, item.Message), "an ingest item's hash is not its message's");
        form.WriteTo(values.AsSpan(offsets[i], offsets[i + 1] - offsets[i]));
    }

    public void Dispose()
    {
        if (_values is { } values) ArrayPool<byte>.Shared.Return(values);
        _values = null;
    }
}
