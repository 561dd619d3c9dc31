using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Node.Import;
using StoreSync.Storage;

namespace StoreSync.Node.Tests;

/// <summary>The importer writes one batch while it reads the next: batches still land whole, in file order, and are reported in
/// that order; a stop or a failed read leaves exactly the batches before it (real RocksDB in a temp folder).</summary>
public sealed class MessageImporterTests : IDisposable
{
    const string Pubsub = "/waku/2/rs/1/0";
    readonly string _dir = Directory.CreateTempSubdirectory("storesync-importer-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly long T0 = Timestamp.Now() - 1_000_000_000L;

    static WakuMessage Message(int i) => new() { Payload = ByteString.CopyFromUtf8($"m{i}"), ContentTopic = "/app/1/room/proto", Timestamp = T0 + i };

    static async IAsyncEnumerable<ImportRecord> Records(int count, int? badAt = null, int? throwAt = null)
    {
        for (int i = 0; i < count; i++)
        {
            await Task.Yield();
            if (i == throwAt) throw new IOException("the file went away");
            yield return i == badAt ? ImportRecord.Rejected(i, "not JSON") : new ImportRecord(i, Pubsub, Message(i), null, null);
        }
    }

    [Fact]
    public async Task Batches_land_whole_in_file_order_and_are_reported_in_that_order()
    {
        using var store = MessageStore.Open(Path.Combine(_dir, "a"));
        var reported = new List<MessageHash>();
        var importer = new MessageImporter(store, new MessageValidator(), batchSize: 7) { OnStored = reported.AddRange };
        var summary = await importer.ImportAsync(Records(100), CancellationToken.None);
        Assert.Equal((100, 100, 0, 0), (summary.Read, summary.Inserted, summary.Duplicates, summary.Rejected));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => MessageHash.Compute(Pubsub, Message(i))), reported);

        var again = await new MessageImporter(store, new MessageValidator(), batchSize: 7).ImportAsync(Records(100), CancellationToken.None);
        Assert.Equal((0, 100), (again.Inserted, again.Duplicates));
    }

    [Fact]
    public async Task A_stop_keeps_everything_before_the_bad_record_and_nothing_after()
    {
        using var store = MessageStore.Open(Path.Combine(_dir, "b"));
        var importer = new MessageImporter(store, new MessageValidator(), batchSize: 7) { OnError = ImportErrorMode.Stop };
        var summary = await importer.ImportAsync(Records(100, badAt: 45), CancellationToken.None);
        Assert.Equal((46, 45, 1, 45L), (summary.Read, summary.Inserted, summary.Rejected, summary.StoppedAt));
        Assert.Equal(45, store.GetFigures(Pubsub).Messages);
    }

    [Fact]
    public async Task A_failed_read_lets_the_batch_in_flight_finish_and_reports_the_failure()
    {
        using var store = MessageStore.Open(Path.Combine(_dir, "c"));
        var importer = new MessageImporter(store, new MessageValidator(), batchSize: 7);
        var e = await Assert.ThrowsAsync<IOException>(() => importer.ImportAsync(Records(100, throwAt: 30), CancellationToken.None));
        Assert.Equal("the file went away", e.Message);
        // Batches 0–6, 7–13, 14–20 and 21–27 were handed over before record 30 failed: each is whole, none is half written.
        Assert.Equal(28, store.GetFigures(Pubsub).Messages);
        Assert.Empty(StoreIntegrity.Check(store));
    }
}
