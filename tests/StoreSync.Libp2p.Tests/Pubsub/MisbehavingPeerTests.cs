using Google.Protobuf;
using StoreSync.Libp2p.Pubsub;
using StoreSync.Libp2p.Pubsub.Pb;
using StoreSync.Libp2p.Tests.Host;
using StoreSync.Testing;

namespace StoreSync.Libp2p.Tests.Pubsub;

/// <summary>A hand-driven peer that breaks StrictNoSign: its messages are rejected, it falls below graylist, its RPCs are then ignored.</summary>
public sealed class MisbehavingPeerTests : IDisposable
{
    const string Topic = "/test/topic";
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    CancellationToken Ct => _timeout.Token;

    public void Dispose() => _timeout.Dispose();

    [Fact]
    public async Task Signed_messages_are_rejected_until_the_sender_is_graylisted()
    {
        await using var node = await RouterNode.StartAsync();
        node.Router.Subscribe(Topic);
        await using var raw = await TestHosts.StartAsync();
        raw.SetStreamHandler(GossipsubOptions.MeshsubV11, async (s, c) => { var b = new byte[4096]; while (await s.ReadAsync(b, c) > 0) { } });
        await using var stream = await raw.NewStreamAsync(node.Host.ListenAddresses[0], GossipsubOptions.MeshsubV11, Ct);
        var hello = new RPC { Subscriptions = { new RPC.Types.SubOpts { Subscribe = true, Topicid = Topic } } };
        await LengthPrefixed.WriteAsync(stream, hello.ToByteArray(), Ct);
        // P4 = -100 × n²: the 11th invalid message takes the score below -10,000.
        for (int i = 0; i < 11; i++)
        {
            var signed = new Message { Topic = Topic, Data = ByteString.CopyFrom(BitConverter.GetBytes(i)), Seqno = ByteString.CopyFrom(1), From = ByteString.CopyFrom(raw.PeerId.Multihash.Span), Signature = ByteString.CopyFrom(new byte[64]) };
            await LengthPrefixed.WriteAsync(stream, new RPC { Publish = { signed } }.ToByteArray(), Ct);
        }
        await Polling.WaitUntil(() => node.Router.Counters.MessagesRejected == 11, "11 rejections");
        Assert.True(node.Router.Score(raw.PeerId) < node.Router.Options.Thresholds.GraylistThreshold, $"score {node.Router.Score(raw.PeerId)}");

        var honest = new Message { Topic = Topic, Data = ByteString.CopyFromUtf8("now honest") };
        await LengthPrefixed.WriteAsync(stream, new RPC { Publish = { honest } }.ToByteArray(), Ct);
        await Polling.WaitUntil(() => node.Router.Counters.GraylistedRpcs >= 1, "the graylisted RPC ignored");
        Assert.Empty(node.Delivered);
    }
}
