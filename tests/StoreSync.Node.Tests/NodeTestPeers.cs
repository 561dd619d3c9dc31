using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Core.Wire;
using StoreSync.Libp2p;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Noise;
using StoreSync.Testing.Node;

namespace StoreSync.Node.Tests;

/// <summary>Client-side helpers for tests against a real node: a Noise host of its own (its own peer id, so its own rate-limit bucket),
/// raw request/response exchanges, and a reader of Prometheus text.</summary>
internal static class NodeTestPeers
{
    public const string Shard0 = "/waku/2/rs/1/0";

    public static Libp2pHost Client() => new(IdentityKey.Generate(KeyType.Ed25519), new HostOptions { Security = new NoiseSecurity() });

    public static WakuMessage Message(string text, string contentTopic = "/app/1/chat/proto") =>
        new() { Payload = ByteString.CopyFromUtf8(text), ContentTopic = contentTopic, Timestamp = Timestamp.Now() };

    /// <summary>Opens a stream, writes <paramref name="bytes"/> as they are (framing included), half-closes if told, reads one length-prefixed answer.</summary>
    public static async Task<byte[]> RawAsync(Libp2pHost client, Multiaddr node, string protocol, byte[] bytes, bool closeWrite, CancellationToken ct)
    {
        await using var stream = await client.NewStreamAsync(node, protocol, ct);
        await stream.WriteAsync(bytes, ct);
        if (closeWrite) await stream.CloseWriteAsync(ct);
        return await LengthPrefixed.ReadAsync(stream, 1 << 20, ct);
    }

    /// <summary>uvarint(length) ‖ body.</summary>
    public static byte[] Framed(byte[] body)
    {
        var prefix = new byte[Varint.MaxLength];
        int n = Varint.Write(prefix, (ulong)body.Length);
        return [.. prefix.AsSpan(0, n), .. body];
    }

    /// <summary>The value of the first Prometheus sample named <paramref name="name"/> carrying every given label, or null.</summary>
    public static double? Sample(string metrics, string name, params (string Key, string Value)[] labels) => NodeReadings.Sample(metrics, name, labels);

    /// <summary>Like <see cref="Sample"/> but fails with the sample names present when it is missing.</summary>
    public static double Require(string metrics, string name, params (string Key, string Value)[] labels) =>
        Sample(metrics, name, labels) ?? throw new Xunit.Sdk.XunitException(
            $"no sample {name}{{{string.Join(",", labels.Select(l => $"{l.Key}=\"{l.Value}\""))}}} in:\n" +
            string.Join("\n", metrics.Split('\n').Where(l => l.StartsWith("storesync", StringComparison.Ordinal))));
}
