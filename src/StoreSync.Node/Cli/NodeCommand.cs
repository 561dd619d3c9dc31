using System.CommandLine;
using System.Runtime.InteropServices;
using StoreSync.Storage;

namespace StoreSync.Node.Cli;

/// <summary><c>storesync node</c>: opens the store and keeps it open until stopped.</summary>
internal static class NodeCommand
{
    public static Command Create()
    {
        var command = new Command("node", """
            Run a store node on the local store. In this version the node opens the RocksDB store and holds it
            until Ctrl-C or SIGTERM; it does not listen on the network yet (libp2p, Store v3 over the network,
            light push and store sync land in later versions). Use 'import', 'query' and 'stats' meanwhile.
            """);
        command.SetAction(async (parse, ct) =>
        {
            var dir = parse.GetValue(CliOptions.DataDir)!;
            using var store = MessageStore.Open(dir.FullName);
            var stats = store.GetStatistics();
            Console.WriteLine($"storesync node: store {dir.FullName} open, {stats.Messages} messages, {stats.Bytes} bytes");
            Console.WriteLine("storesync node: networking is not implemented in this version; holding the store open. Ctrl-C to stop.");
            var stopped = new TaskCompletionSource();
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; stopped.TrySetResult(); });
            using var reg = ct.Register(() => stopped.TrySetResult());
            await stopped.Task.ConfigureAwait(false);
            Console.WriteLine("storesync node: stopping; store closed cleanly");
            return 0;
        });
        return command;
    }
}
