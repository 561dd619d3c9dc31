using StoreSync.Core;
using StoreSync.Reconciliation;
using StoreSync.Reconciliation.Native;

namespace StoreSync.Reconciliation.Tests.Native;

/// <summary>Pins the exact bytes of native-mode frames for a fixed item set and a fixed nonce (spec/sync.md §3.2).</summary>
/// <remarks>A change here is a wire change: a peer running the previous code would no longer agree on the frames.</remarks>
public class NativeFrameGoldenTests
{
    const long T0 = TestItems.T0;
    const long Second = 1_000_000_000;
    const ulong Nonce = 0x0123_4567_89AB_CDEF;
    static readonly SyncScope Scope = new(["/waku/2/rs/16/32"], []);

    // 40 items one second apart with hashes from a fixed formula; B lacks items 7 and 23 and holds one A lacks.
    static SyncItem Item(int i)
    {
        ulong x = (ulong)(i + 1) * 0x9E37_79B9_7F4A_7C15;
        return new SyncItem(T0 + i * Second, new MessageHash(x, x ^ 0xFF, x >> 3, ~x));
    }

    static (List<byte[]> Frames, NativeReconciliation A, NativeReconciliation B) Run()
    {
        var a = Enumerable.Range(0, 40).Select(Item).ToList();
        var b = a.Where((_, i) => i is not (7 or 23)).Append(Item(45)).ToList();
        var sa = new MemorySyncItemSource(a);
        var sb = new MemorySyncItemSource(b);
        var initiator = new NativeReconciliation(Scope, _ => sa, T0, T0 + 100 * Second) { Nonce = Nonce };
        var responder = new NativeReconciliation(Scope, _ => sb);
        var frames = new List<byte[]>();
        byte[]? frame = initiator.Initiate();
        var (to, from) = ((ReconciliationSession)responder, (ReconciliationSession)initiator);
        while (frame is not null)
        {
            frames.Add(frame);
            frame = to.Receive(frame);
            (to, from) = (from, to);
        }
        return (frames, initiator, responder);
    }

    [Fact]
    public void Frames_match_the_pinned_bytes()
    {
        var (frames, a, b) = Run();
        var hex = frames.Select(Convert.ToHexStringLower).ToList();
        Assert.Equal(Golden, hex);
        Assert.Equal([Item(45)], a.ToReceive);
        Assert.Equal(new[] { Item(7), Item(23) }.ToHashSet(), a.ToSend.ToHashSet());
    }

    [Fact]
    public void A_fixed_nonce_makes_frames_reproducible()
    {
        var first = Run().Frames.Select(Convert.ToHexStringLower);
        var second = Run().Frames.Select(Convert.ToHexStringLower);
        Assert.Equal(first, second);
    }

    static readonly string[] Golden =
    [
        // Open: topic, start, end, horizon, nonce, width 6, the root's Fingerprint
        "010001102f77616b752f322f72732f31362f3332008080a8b1e39fe7cb1780d083f5d7a2e7cb1780808080808080808001efcdab89674523010601285aa628a26d4f",
        // Accept: agreed start, the root handed back (a Fingerprint, rule 3)
        "01018080a8b1e39fe7cb1701276be2dbb20a2c",
        // Step: the initiator splits the root into 4 slices
        "010202041946ae6e2106cd0f801a4136f5bc0000",
        // Step: the responder answers the 4 children
        "0102020804d95feb5b979603a7f4c2cd966c02b2e53db4a6d703b8be26fdcf5e03b82853f670cf0310950d3372fa0397d441237e540251ae9e86bc1304018090dfc04a6df7df54df624bc66df7df54df624b390dbefbea9bec4978920820ab209db4390002",
        // Step: the initiator settles what is left (the last frame)
        "01020002040180afd0e502f1bbcdcbfa53e0a8f1bbcdcbfa53e0571e3779b97f4a7c150e44323405ac1f5700040401c0c6b89804d5336963eefba1f8d5336963eefba1071aa66d2c7ddf743f2acc969c11045e07",
    ];
}
