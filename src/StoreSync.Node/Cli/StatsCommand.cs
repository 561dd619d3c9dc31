using System.CommandLine;
using System.Text.Json;
using StoreSync.Core;
using StoreSync.Storage;

namespace StoreSync.Node.Cli;

/// <summary><c>storesync stats</c>: messages, bytes and time span per pubsub and content topic.</summary>
internal static class StatsCommand
{
    public static Command Create()
    {
        var asJson = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
        var command = new Command("stats", "Per-topic message counts, bytes and time span of the local store") { asJson };
        command.SetAction(parse =>
        {
            using var store = MessageStore.Open(parse.GetValue(CliOptions.DataDir)!.FullName);
            var stats = store.GetStatistics();
            if (parse.GetValue(asJson)) PrintJson(stats);
            else PrintTable(stats);
            return 0;
        });
        return command;
    }

    static void PrintTable(StoreStatistics stats)
    {
        Console.WriteLine($"{"pubsub topic / content topic",-60} {"messages",12} {"bytes",14}  {"oldest",-30}  newest");
        foreach (var p in stats.PubsubTopics)
        {
            Console.WriteLine($"{p.PubsubTopic,-60} {p.Messages,12} {p.Bytes,14}  {Time(p.Oldest),-30}  {Time(p.Newest)}");
            foreach (var c in p.ContentTopics)
                Console.WriteLine($"  {c.ContentTopic,-58} {c.Messages,12} {c.Bytes,14}  {Time(c.Oldest),-30}  {Time(c.Newest)}");
        }
        Console.WriteLine($"{"total",-60} {stats.Messages,12} {stats.Bytes,14}");
    }

    static string Time(long? nanos) => nanos is { } n ? Timestamp.Format(n) : "-";

    static void PrintJson(StoreStatistics stats)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var json = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("messages", stats.Messages);
            json.WriteNumber("bytes", stats.Bytes);
            json.WriteStartArray("pubsubTopics");
            foreach (var p in stats.PubsubTopics)
            {
                json.WriteStartObject();
                json.WriteString("pubsubTopic", p.PubsubTopic);
                WriteFigures(json, p.Messages, p.Bytes, p.Oldest, p.Newest);
                json.WriteStartArray("contentTopics");
                foreach (var c in p.ContentTopics)
                {
                    json.WriteStartObject();
                    json.WriteString("contentTopic", c.ContentTopic);
                    WriteFigures(json, c.Messages, c.Bytes, c.Oldest, c.Newest);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        stdout.WriteByte((byte)'\n');
    }

    static void WriteFigures(Utf8JsonWriter json, long messages, long bytes, long? oldest, long? newest)
    {
        json.WriteNumber("messages", messages);
        json.WriteNumber("bytes", bytes);
        if (oldest is { } o) json.WriteNumber("oldest", o); else json.WriteNull("oldest");
        if (newest is { } n) json.WriteNumber("newest", n); else json.WriteNull("newest");
    }
}
