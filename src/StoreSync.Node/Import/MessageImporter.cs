using StoreSync.Core;
using StoreSync.Storage;

namespace StoreSync.Node.Import;

/// <summary>Validates import records, recomputes their hashes and ingests them in batches.</summary>
public sealed class MessageImporter(MessageStore store, MessageValidator validator, int batchSize = 1000)
{
    /// <summary>Reports each rejected record (position and reason) as it happens.</summary>
    public Action<ImportRecord>? OnRejected { get; init; }

    /// <summary>Told of the hashes of each batch once it is durably written.</summary>
    public Action<IReadOnlyList<MessageHash>>? OnStored { get; init; }

    /// <summary>What a rejected record does to the rest of the import.</summary>
    public ImportErrorMode OnError { get; init; } = ImportErrorMode.Skip;

    /// <remarks>
    /// One batch is written while the next is read and validated (a one-deep pipeline: parsing JSON or protobuf and writing
    /// each cost about half of an import's CPU). Batches are still written one after the other, in file order, and
    /// <see cref="OnStored"/> is told of each in that order; a failed write ends the import when the next batch is handed over.
    /// </remarks>
    public async Task<ImportSummary> ImportAsync(IAsyncEnumerable<ImportRecord> records, CancellationToken ct)
    {
        var batch = new List<IngestItem>(batchSize);
        long read = 0, inserted = 0, duplicates = 0, rejected = 0;
        Task<IngestResult>? writing = null;
        try
        {
            await foreach (var record in records.WithCancellation(ct).ConfigureAwait(false))
            {
                read++;
                if (!TryAccept(record, out var item, out var error))
                {
                    rejected++;
                    OnRejected?.Invoke(record with { Error = error });
                    if (OnError == ImportErrorMode.Stop)
                    {
                        // The good records before the bad one are kept: stopping never un-stores anything.
                        await HandOverAsync().ConfigureAwait(false);
                        await CompleteAsync().ConfigureAwait(false);
                        return new ImportSummary(read, inserted, duplicates, rejected, StoppedAt: record.Position);
                    }
                    continue;
                }
                batch.Add(item);
                if (batch.Count == batchSize) await HandOverAsync().ConfigureAwait(false);
            }
            await HandOverAsync().ConfigureAwait(false);
            await CompleteAsync().ConfigureAwait(false);
            return new ImportSummary(read, inserted, duplicates, rejected);
        }
        catch when (writing is not null)
        {
            // Reading failed or was cancelled: let the batch in flight finish (it commits whole or not at all) before the store
            // can be closed, then report the original failure.
            await writing.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).ConfigureAwait(false);
            throw;
        }

        async Task HandOverAsync()
        {
            if (batch.Count == 0) return;
            await CompleteAsync().ConfigureAwait(false);
            var full = batch;
            batch = new List<IngestItem>(batchSize);
            writing = Task.Run(() => store.Ingest(full), CancellationToken.None);
        }

        async Task CompleteAsync()
        {
            if (writing is null) return;
            var result = await writing.ConfigureAwait(false);
            writing = null;
            OnStored?.Invoke(result.InsertedHashes);
            inserted += result.Inserted;
            duplicates += result.Duplicates;
        }
    }

    bool TryAccept(ImportRecord record, out IngestItem item, out string error)
    {
        item = default;
        if (record.Error is not null) { error = record.Error; return false; }
        if (!validator.TryValidate(record.PubsubTopic!, record.Message!, out error)) return false;
        if (record.ClaimedHash is { } claimed)
        {
            var actual = MessageHash.Compute(record.PubsubTopic!, record.Message!);
            if (actual != claimed)
            {
                error = $"messageHash {claimed} does not match the message (recomputed {actual}); altered or forged";
                return false;
            }
        }
        item = new IngestItem(record.PubsubTopic!, record.Message!);
        return true;
    }
}

/// <summary>What an import did: records read, stored, already known, and rejected; where it stopped if it stopped at an error.</summary>
public readonly record struct ImportSummary(long Read, long Inserted, long Duplicates, long Rejected, long? StoppedAt = null);

/// <summary>Whether an import skips a rejected record or stops at it.</summary>
public enum ImportErrorMode { Skip, Stop }
