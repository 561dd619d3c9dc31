using System.Diagnostics;
using System.Text.Json;

namespace StoreSync.Benchmarks;

/// <summary>Writes an import file for <c>storesync import</c>: <c>import-file --messages N --out FILE [--payload-bytes N]</c>.</summary>
/// <remarks>NDJSON in the shape <c>storesync query --all</c> prints: random 1 KiB payloads (base64), one pubsub topic, 10 content
/// topics, timestamps 1 ms apart. Time the import itself with <c>/usr/bin/time storesync import FILE --data-dir D</c>.</remarks>
public static class ImportFileBenchmark
{
    public static int Run(string[] args)
    {
        int messages = StorageBenchmark.Option(args, "--messages", 200_000), payloadBytes = StorageBenchmark.Option(args, "--payload-bytes", 1024);
        int outAt = Array.IndexOf(args, "--out");
        if (outAt < 0 || outAt + 1 >= args.Length)
        {
            Console.Error.WriteLine("usage: import-file --messages N --out FILE [--payload-bytes N]");
            return 2;
        }
        var watch = Stopwatch.StartNew();
        var random = new Random(1);
        var payload = new byte[payloadBytes];
        long t0 = Core.Timestamp.Now() - messages * 1_000_000L;
        using var file = new StreamWriter(args[outAt + 1]);
        for (int i = 0; i < messages; i++)
        {
            random.NextBytes(payload);
            file.WriteLine(JsonSerializer.Serialize(new
            {
                pubsubTopic = StorageBenchmark.Pubsub,
                message = new { payload = Convert.ToBase64String(payload), contentTopic = StorageBenchmark.Topics[i % StorageBenchmark.Topics.Length], timestamp = t0 + i * 1_000_000L },
            }));
        }
        Console.WriteLine($"{messages:N0} messages written to {args[outAt + 1]} in {watch.Elapsed.TotalSeconds:N1} s");
        return 0;
    }
}
