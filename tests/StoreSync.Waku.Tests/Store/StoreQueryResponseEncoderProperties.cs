using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Storage;
using StoreSync.Storage.Query;
using StoreSync.Testing.Storage;
using StoreSync.Waku.Proto;
using StoreSync.Waku.Store;

namespace StoreSync.Waku.Tests.Store;

/// <summary>The hand-encoded response is byte for byte the protobuf encoding of the response object, for any store and request.</summary>
public class StoreQueryResponseEncoderProperties
{
    static readonly string[] Pubsubs = ["/waku/2/rs/1/0", "/waku/2/rs/1/1"];
    static readonly string[] Contents = ["/app/1/a/proto", "/app/1/b/proto", "/app/1/c/proto", "/app/1/d/proto"];

    /// <summary>The stored messages (some with meta) and the requests whose pages are compared, each with the content topic it hides, if any.</summary>
    sealed record Case(IngestItem[] Messages, (StoreQueryRequest Request, int? Hidden)[] Requests)
    {
        public override string ToString() => $"{Messages.Length} messages: [{string.Join(" ", Messages.Select(m => $"{m.PubsubTopic}{m.Message.ContentTopic}@{m.Message.Timestamp}"))}]; "
            + $"requests: [{string.Join(" ", Requests.Select(r => $"{r.Request} hiding {r.Hidden}"))}]";
    }

    /// <summary>(pubsub, content, time step, meta byte or negative for none) of one message.</summary>
    static readonly Gen<int[]> MessageShape = Gen.CollectToArray([Gen.Choose(0, 1), Gen.Choose(0, 3), Gen.Choose(0, 39), Gen.Choose(-3, 255)]);

    static Gen<IngestItem[]> Messages =>
        Gen.Choose(0, 120).SelectMany(n => Gen.ArrayOf(MessageShape, n))
            .Select(shapes => shapes.Select((s, i) =>
            {
                var m = TempStore.Message(Contents[s[1]], s[2] * 1000L - 5000, $"p{i}");
                if (s[3] >= 0) m.Meta = ByteString.CopyFrom([1, 2, (byte)s[3]]);
                return new IngestItem(Pubsubs[s[0]], m);
            }).ToArray());

    /// <summary>A request over <paramref name="stored"/>: a hash lookup or a topic filter, with odd request ids and bad or unknown cursors.</summary>
    static Gen<StoreQueryRequest> Request(IngestItem[] stored) =>
        from lookup in Gen.Choose(0, 4).Select(roll => roll == 0 && stored.Length > 0)
        from picks in Gen.ArrayOf(Gen.Elements(stored.Length > 0 ? stored : [default!]), 5)
        from pubsub in Gen.Choose(-1, Pubsubs.Length - 1)
        from contents in Gen.SubListOf(Contents)
        from window in Gen.Two(Gen.Choose(-12, 39))
        from includeData in Gen.Elements(true, false)
        from forward in Gen.Elements(true, false)
        from limit in Gen.Choose(-2, 7)
        from variant in Gen.Choose(0, 7)
        from cursorLength in Gen.Choose(0, 40)
        select Build(lookup ? picks : [], pubsub, contents, window, (includeData, forward, limit, variant), cursorLength);

    static StoreQueryRequest Build(IngestItem[] lookup, int pubsub, IList<string> contents, (int, int) window, (bool, bool, int, int) shape, int cursorLength)
    {
        var (includeData, forward, limit, variant) = shape;
        var request = new StoreQueryRequest { RequestId = "q", IncludeData = includeData, PaginationForward = forward };
        if (limit >= 0) request.PaginationLimit = (ulong)limit;
        if (lookup.Length > 0) request.MessageHashes.AddRange(lookup.Select(m => ByteString.CopyFrom(MessageHash.Compute(m.PubsubTopic, m.Message).ToArray())));
        else
        {
            if (pubsub >= 0) request.PubsubTopic = Pubsubs[pubsub];
            request.ContentTopics.AddRange(contents);
        }
        if (window.Item1 >= -10) request.TimeStart = window.Item1 * 1000L - 5000;
        if (window.Item2 >= -10) request.TimeEnd = window.Item2 * 1000L - 5000;
        switch (variant)
        {
            case 0: request.ClearRequestId(); break;
            case 1: request.RequestId = "ünïcode-" + cursorLength; break;
            case 2: request.PaginationCursor = ByteString.CopyFrom(new byte[cursorLength]); break; // bad length or all zeroes
            case 3: request.PaginationCursor = ByteString.CopyFrom(MessageHash.Compute("/x", TempStore.Message("/a/1/b/c", 2)).ToArray()); break; // unknown
        }
        return request;
    }

    static Arbitrary<Case> Cases => Arb.From(
        from messages in Messages
        from requests in Gen.ArrayOf(Gen.Zip(Request(messages), Gen.Choose(-2, 3).Select(h => h >= 0 ? (int?)h : null)), 6)
        select new Case(messages, requests), Shrink);

    /// <summary>Fewer requests first, then fewer messages (requests that look hashes up keep theirs: absent hashes match nothing).</summary>
    static IEnumerable<Case> Shrink(Case c)
    {
        for (int i = 0; i < c.Requests.Length; i++) yield return c with { Requests = [.. c.Requests[..i], .. c.Requests[(i + 1)..]] };
        if (c.Messages.Length > 1) yield return c with { Messages = c.Messages[..(c.Messages.Length / 2)] };
        for (int i = 0; i < c.Messages.Length; i++) yield return c with { Messages = [.. c.Messages[..i], .. c.Messages[(i + 1)..]] };
    }

    sealed class HideContent(string content) : IStoreVisibility
    {
        public bool IsVisible(string pubsubTopic, string contentTopic) => contentTopic != content;
    }

    [Property(MaxTest = 60)]
    public Property The_encoded_response_is_byte_for_byte_the_object_responses_encoding() => Prop.ForAll(Cases, c =>
    {
        using var t = new TempStore();
        t.Store.Ingest(c.Messages.ToList());
        var engine = new StoreQueryEngine(t.Store);
        foreach (var (template, hidden) in c.Requests)
        {
            var request = template.Clone();
            IStoreVisibility? visibility = hidden is { } h ? new HideContent(Contents[h]) : null;
            for (int page = 0; page < 50; page++)
            {
                var expected = engine.Execute(request, visibility);
                using var encoded = engine.ExecuteEncoded(request, visibility);
                Assert.Equal(expected.ToByteArray(), encoded.Bytes.ToArray());
                Assert.Equal((expected.StatusCode, expected.Messages.Count), (encoded.StatusCode, encoded.MessageCount));
                var withData = expected.Messages.Where(m => m.Message is not null).ToList();
                Assert.Equal(withData.Select(m => m.Message.ContentTopic).Distinct(), encoded.ContentTopics);
                Assert.Equal(withData.Select(m => m.PubsubTopic).Distinct().Count() == 1 ? withData[0].PubsubTopic : null, encoded.PubsubTopic);
                if (!expected.HasPaginationCursor) break;
                request.PaginationCursor = expected.PaginationCursor;
            }
        }
    });
}
