using System.CommandLine;
using Spectre.Console;
using StoreSync.Core;
using StoreSync.Node.Import;
using StoreSync.Storage;

namespace StoreSync.Node.Cli;

/// <summary><c>storesync import FILE</c>: validates and stores messages from a JSON-lines or length-delimited protobuf file.</summary>
internal static class ImportCommand
{
    const int MaxErrorsShown = 20;

    public static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "File to import ('-' reads standard input)" };
        var format = new Option<MessageFileFormat>("--format") { Description = "auto (default), ndjson or protobuf", DefaultValueFactory = _ => MessageFileFormat.Auto };
        var maxBytes = new Option<int>("--max-message-bytes") { Description = "Largest message accepted", DefaultValueFactory = _ => MessageValidator.DefaultMaxMessageBytes };
        var batch = new Option<int>("--batch-size") { Description = "Messages per atomic write", DefaultValueFactory = _ => 1000 };
        var printHashes = new Option<bool>("--print-hashes") { Description = "Print the hash of each newly stored message once its batch is written (for pipelines)" };
        var onError = new Option<ImportErrorMode>("--on-error") { Description = "skip (default): report a bad record and go on; stop: report it and stop there (what was stored before it stays stored)", DefaultValueFactory = _ => ImportErrorMode.Skip };
        var command = new Command("import", """
            Import messages into the store. Formats:
              ndjson   one JSON object per line: {"pubsubTopic":..,"message":{"payload":<base64>,"contentTopic":..,"timestamp":<ns>,"meta":<base64>,"version":0}}
                       (the shape 'storesync query --all' prints; a flat object with the message fields beside pubsubTopic works too)
              protobuf varint-length-delimited WakuMessageKeyValue (message_hash optional, message and pubsub_topic required)
            Every message is validated and re-hashed; a record whose messageHash does not match is rejected.
            Bad records are reported with their line or record number and skipped (or, with --on-error stop, end the import);
            the exit code is 1 if any was rejected.
            """) { file, format, maxBytes, batch, printHashes, onError };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(CliOptions.DataDir)!, parse.GetValue(file)!, parse.GetValue(format),
            parse.GetValue(maxBytes), parse.GetValue(batch), parse.GetValue(printHashes), parse.GetValue(onError), ct));
        return command;
    }

    static async Task<int> RunAsync(DirectoryInfo dataDir, FileInfo file, MessageFileFormat format, int maxBytes, int batchSize, bool printHashes, ImportErrorMode onError, CancellationToken ct)
    {
        if (batchSize is < 1 or > 100_000) throw new CliUsageException("--batch-size must be between 1 and 100000");
        if (maxBytes is < 1024 or > 64 * 1024 * 1024) throw new CliUsageException("--max-message-bytes must be between 1024 and 67108864");
        bool stdin = file.Name == "-";
        if (!stdin && !file.Exists) throw new CliUsageException($"no such file: {file.FullName}");

        await using var input = stdin ? Console.OpenStandardInput() : new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        using var store = MessageStore.Open(dataDir.FullName);
        var reader = new MessageFileReader(input, format, maxBytes);
        int shown = 0;
        var importer = new MessageImporter(store, new MessageValidator { MaxMessageBytes = maxBytes }, batchSize)
        {
            OnError = onError,
            OnRejected = r =>
            {
                if (++shown <= MaxErrorsShown) Console.Error.WriteLine($"{(stdin ? "stdin" : file.Name)}:{r.Position}: rejected: {r.Error}");
                else if (shown == MaxErrorsShown + 1) Console.Error.WriteLine($"... more rejected records; the summary counts them all");
            },
            OnStored = printHashes ? hashes =>
            {
                foreach (var h in hashes) Console.Out.WriteLine(h.ToString());
                Console.Out.Flush();
            } : null,
        };

        ImportSummary summary;
        if (!stdin && !printHashes && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
        {
            summary = default;
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask($"import {file.Name}", maxValue: Math.Max(1, file.Length));
                    var work = importer.ImportAsync(reader.ReadAsync(ct), ct);
                    while (!work.IsCompleted)
                    {
                        task.Value = reader.BytesConsumed;
                        await Task.WhenAny(work, Task.Delay(100, ct)).ConfigureAwait(false);
                    }
                    task.Value = task.MaxValue;
                    summary = await work.ConfigureAwait(false);
                }).ConfigureAwait(false);
        }
        else
        {
            summary = await importer.ImportAsync(reader.ReadAsync(ct), ct).ConfigureAwait(false);
        }

        var stopped = summary.StoppedAt is { } at ? $"; stopped at {(stdin ? "stdin" : file.Name)}:{at} (--on-error stop)" : "";
        (printHashes ? Console.Error : Console.Out).WriteLine($"read {summary.Read}, stored {summary.Inserted}, already stored {summary.Duplicates}, rejected {summary.Rejected}{stopped}");
        return summary.Rejected == 0 ? 0 : 1;
    }
}
