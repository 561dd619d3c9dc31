using System.Diagnostics;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p.Identity;
using StoreSync.Storage;
using StoreSync.Waku;
using StoreSync.Waku.Communities;
using StoreSync.Waku.Ingress;

namespace StoreSync.Benchmarks;

/// <summary>What the community controls cost: secp256k1 signing, verification and key recovery, and ingest through the policy.</summary>
/// <remarks>
/// Options: <c>--ops N</c> (signature operations per kind, default 2,000), <c>--messages N</c> (messages per ingest run,
/// default 20,000). Ingest runs on a fresh store each: no policy; an opted-in community; the authorship policy with a
/// 100-key member list (each message signed by a member).
/// </remarks>
public static class CommunityBenchmark
{
    const string Pubsub = "/waku/2/rs/1/0", Content = "/bench/1/chat/proto";

    public static int Run(string[] args)
    {
        int ops = StorageBenchmark.Option(args, "--ops", 2_000), messages = StorageBenchmark.Option(args, "--messages", 20_000);
        Console.WriteLine($"community benchmark: {ops:N0} signature operations per kind, {messages:N0} messages per ingest run, {Environment.ProcessorCount} cores, .NET {Environment.Version}, load {File.ReadAllText("/proc/loadavg")[..14]}");
        var owner = Secp256k1Signatures.GeneratePrivateKey();
        var members = Enumerable.Range(0, 100).Select(_ => Secp256k1Signatures.GeneratePrivateKey()).ToArray();
        long t0 = Timestamp.Now() - (long)messages * 1_000_000;
        var sample = Enumerable.Range(0, ops).Select(i => Message(t0 + i, i)).ToArray();

        Measure("author signature: sign (recoverable, RFC 6979)", ops, i => AuthorSignature.Sign(members[i % members.Length], Pubsub, sample[i]));
        Measure("author signature: recover the key", ops, i => AuthorSignature.RecoverAuthor(Pubsub, sample[i]));
        var control = CommunityControl.CreateSwitch(owner, t0, serving: false);
        Measure("control message: verify the owner's signature", ops, _ => control.VerifySignature());

        var community = new CommunityDefinition
        {
            Name = "bench", PubsubTopics = [Pubsub], ContentTopics = [Content], OwnerKey = Convert.ToHexStringLower(Secp256k1Signatures.PublicKeyOf(owner)),
        };
        var signed = Enumerable.Range(0, messages).Select(i =>
        {
            var m = Message(t0 + i, i);
            AuthorSignature.Sign(members[i % members.Length], Pubsub, m);
            return m;
        }).ToArray();
        Ingest("ingest, no community policy", null, signed, null);
        Ingest("ingest, opted-in community", community, signed, null);
        Ingest("ingest, authorship policy (100 members)", community with { RequireAuthorSignature = true }, signed,
            CommunityControl.CreateMembers(owner, t0 - 1, members.Select(k => Secp256k1Signatures.PublicKeyOf(k))).ToMessage());
        return 0;
    }

    static WakuMessage Message(long timestamp, int i) =>
        new() { Payload = ByteString.CopyFrom(BitConverter.GetBytes(i).Concat(new byte[146]).ToArray()), ContentTopic = Content, Timestamp = timestamp };

    static void Measure(string what, int ops, Action<int> op)
    {
        long cpu = ThreadCpu.Nanoseconds();
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < ops; i++) op(i);
        double cpuUs = (ThreadCpu.Nanoseconds() - cpu) / 1e3 / ops;
        Console.WriteLine($"{what,-50} {cpuUs,8:N1} µs CPU per operation, {ops / watch.Elapsed.TotalSeconds,10:N0} per second wall");
    }

    static void Ingest(string what, CommunityDefinition? community, WakuMessage[] batch, WakuMessage? memberList)
    {
        string dir = Directory.CreateTempSubdirectory("storesync-community-bench-").FullName;
        try
        {
            using var store = MessageStore.Open(dir);
            using var metrics = new WakuMetrics();
            var served = new Served();
            CommunityPolicy? policy = null;
            if (community is not null)
            {
                policy = new CommunityPolicy(served);
                policy.Configure([community], storeUnlisted: false);
            }
            var ingress = new MessageIngress(store, MessageValidator.Default, served, metrics, NullLogger<MessageIngress>.Instance, policy);
            if (memberList is not null && !ingress.Accept(Pubsub, memberList).Accepted) throw new InvalidOperationException("member list refused");
            long cpu = ThreadCpu.Nanoseconds();
            var watch = Stopwatch.StartNew();
            int accepted = 0;
            foreach (var m in batch)
                if (ingress.Accept(Pubsub, m).Accepted) accepted++;
            double cpuUs = (ThreadCpu.Nanoseconds() - cpu) / 1e3 / batch.Length;
            if (accepted != batch.Length) throw new InvalidOperationException($"{what}: {batch.Length - accepted} messages refused");
            Console.WriteLine($"{what,-50} {cpuUs,8:N1} µs CPU per message,   {batch.Length / watch.Elapsed.TotalSeconds,10:N0} messages/s wall (one at a time)");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    sealed class Served : IServedTopics
    {
        public bool Serves(string pubsubTopic) => pubsubTopic == Pubsub;
        public IReadOnlyCollection<string> PubsubTopics => [Pubsub];
    }
}
