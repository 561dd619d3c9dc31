using System.Buffers.Binary;
using System.Diagnostics;
using RocksDbSharp;

namespace StoreSync.Benchmarks;

/// <summary>RocksDB alone, writing only what one message body costs: <c>rocksdb-floor [--messages N] [--blob] [--three]</c>.</summary>
/// <remarks>
/// One column family, 48-byte keys in ascending order (as the messages family's keys within a topic), 1,067-byte random values
/// (the benchmark message's stored form), batches of 1,000, WAL on without fsync, a 64 MiB write buffer; with <c>--blob</c> values go
/// to blob files as the store's bodies do. No hashing, no dedup lookup, no second or third index, no managed message objects:
/// a lower bound for the CPU one ingested message can cost in RocksDB on this machine. <c>--three</c> adds the store's other two
/// entries per message in their own families: a random 32-byte key with a 16-byte value (the hash index) and an ascending 44-byte
/// key with a 4-byte value (the time index). Flush and compaction are waited for and counted.
/// </remarks>
public static class RocksDbFloorBenchmark
{
    public static int Run(string[] args)
    {
        int messages = StorageBenchmark.Option(args, "--messages", 1_000_000);
        bool blob = Array.IndexOf(args, "--blob") >= 0, three = Array.IndexOf(args, "--three") >= 0;
        string dir = Directory.CreateTempSubdirectory("storesync-floor-").FullName;
        try
        {
            var options = new DbOptions().SetCreateIfMissing(true).SetCreateMissingColumnFamilies(true).IncreaseParallelism(Math.Max(2, Environment.ProcessorCount));
            var bodies = new ColumnFamilyOptions().SetWriteBufferSize(64UL << 20);
            if (blob)
            {
                Native.Instance.rocksdb_options_set_enable_blob_files(bodies.Handle, 1);
                Native.Instance.rocksdb_options_set_min_blob_size(bodies.Handle, 256);
                Native.Instance.rocksdb_options_set_blob_file_size(bodies.Handle, 256UL << 20);
            }
            var families = new ColumnFamilies(bodies);
            if (three)
            {
                families.Add("hashes", new ColumnFamilyOptions().SetWriteBufferSize(16UL << 20));
                families.Add("time", new ColumnFamilyOptions().SetWriteBufferSize(16UL << 20));
            }
            using var db = RocksDb.Open(options, dir, families);
            var hashes = three ? db.GetColumnFamily("hashes") : null;
            var time = three ? db.GetColumnFamily("time") : null;
            var hashKey = new byte[32];
            var timeKey = new byte[44];
            var small = new byte[16];
            var noise = new byte[(16 << 20) + 1067];
            var random = new Random(3);
            random.NextBytes(noise);
            var key = new byte[48];
            var write = new WriteOptions();
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            for (int b = 0; b < messages; b += 1000)
            {
                using var batch = new WriteBatch();
                for (int i = b; i < Math.Min(messages, b + 1000); i++)
                {
                    BinaryPrimitives.WriteInt64BigEndian(key, i);
                    noise.AsSpan(random.Next(16 << 20), 40).CopyTo(key.AsSpan(8));
                    batch.Put(key, noise.AsSpan(random.Next(16 << 20), 1067));
                    if (!three) continue;
                    noise.AsSpan(random.Next(16 << 20), 32).CopyTo(hashKey);
                    batch.Put(hashKey, small, hashes);
                    BinaryPrimitives.WriteInt32BigEndian(timeKey, 1);
                    BinaryPrimitives.WriteInt64BigEndian(timeKey.AsSpan(4), i);
                    key.AsSpan(8, 32).CopyTo(timeKey.AsSpan(12));
                    batch.Put(timeKey, small.AsSpan(0, 4), time);
                }
                db.Write(batch, write);
            }
            double loop = watch.Elapsed.TotalSeconds;
            double loopCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
            db.Flush(new FlushOptions().SetWaitForFlush(true));
            while (long.TryParse(db.GetProperty("rocksdb.num-running-compactions"), out long running) && running > 0
                   || db.GetProperty("rocksdb.compaction-pending") == "1")
                Thread.Sleep(50);
            double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
            long blobBytes = Directory.EnumerateFiles(dir, "*.blob").Sum(f => new FileInfo(f).Length);
            Console.WriteLine($"rocksdb floor, {(blob ? "values in blob files" : "values inline")}{(three ? ", with the hash and time entries" : "")}: {messages:N0} × 1,067-byte values in {loop:N2} s " +
                $"({messages / loop:N0}/s); CPU per message {loopCpu * 1e6 / messages:N2} µs in the loop, {cpu * 1e6 / messages:N2} µs with flush and compaction; {blobBytes >> 20:N0} MiB in blob files; load {File.ReadAllText("/proc/loadavg")[..14]}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        return 0;
    }
}
