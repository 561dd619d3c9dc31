using StoreSync.Core;
using StoreSync.Reconciliation.Native;

namespace StoreSync.Reconciliation.Tests.Native;

/// <summary>Pins the exact bytes of native-mode frames for a fixed item set and a fixed nonce (spec/sync.md §3.2).</summary>
/// <remarks>A change in the format (field layout, entry types, version) breaks peers running the previous code; a change in
/// the local policy (which entry a side picks) only changes these bytes, peers of either policy still reconcile. Either way
/// the bytes here are updated on purpose, with the reason in the commit.</remarks>
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

    static (List<byte[]> Frames, NativeReconciliation A, NativeReconciliation B) Run() => Run(i => i is not (7 or 23), null);

    static (List<byte[]> Frames, NativeReconciliation A, NativeReconciliation B) Run(Func<int, bool> bHolds, NativeTuning? tuning)
    {
        var a = Enumerable.Range(0, 40).Select(Item).ToList();
        var b = a.Where((_, i) => bHolds(i)).Append(Item(45)).ToList();
        var sa = new MemorySyncItemSource(a);
        var sb = new MemorySyncItemSource(b);
        var initiator = new NativeReconciliation(Scope, _ => sa, T0, T0 + 100 * Second, long.MinValue, null, tuning) { Nonce = Nonce };
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
    public void An_open_split_and_a_missing_range_match_the_pinned_bytes()
    {
        // The initiator cuts its root in Open (a root of ≥ 16 items here, into 16 slices; ≥ 1024 items by default, doubled until
        // 32 slices hold items); B lacks items 30–39 and holds item 45, which A lacks. Nodes where one side holds nothing are
        // answered "Missing, k items" instead of a list.
        var (frames, a, b) = Run(i => i is not (7 or 23) and not (>= 30 and <= 39), new NativeTuning { LargeNode = 16, OpenSlices = 1 });
        var hex = frames.Select(Convert.ToHexStringLower).ToList();
        Assert.Equal(GoldenSplitAndMissing, hex);
        Assert.Equal(new[] { 7, 23, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39 }.Select(Item).ToHashSet(), a.ToSend.ToHashSet());
        Assert.Equal([Item(45)], b.ToSend);
        Assert.Equal(new[] { 7, 23, 30, 31 }.Select(Item).ToHashSet(), b.ToReceive.ToHashSet());
        Assert.Empty(a.ToReceive);
        // B: one range (the adjacent slices 5 and 6 merged) of items 32–39, holding none of its own; A: the slice holding item 45.
        var blindB = Assert.Single(b.BlindRanges);
        Assert.Equal(8, blindB.Count);
        Assert.True(blindB.From > Item(31) && blindB.From <= Item(32) && blindB.To > Item(39) && blindB.To <= Item(45));
        var blindA = Assert.Single(a.BlindRanges);
        Assert.Equal(1, blindA.Count);
        Assert.True(blindA.From > Item(39) && blindA.From <= Item(45) && blindA.To > Item(45));
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
        // Open: version 4, topic, start, end, horizon, nonce, width 6, the root's Fingerprint (40 items: too few to cut)
        "040001102f77616b752f322f72732f31362f3332008080a8b1e39fe7cb1780d083f5d7a2e7cb1780808080808080808001efcdab89674523010601285aa628a26d4f",
        // Accept: agreed start, the root handed back (a Fingerprint, rule 3)
        "04018080a8b1e39fe7cb1701276be2dbb20a2c",
        // Step: the initiator splits the root into 4 slices
        "040202041946ae6e2106cd0f801a4136f5bc0000",
        // Step: the responder answers the 4 children: child 0 handed back (A holds two more there: its pair search finds them),
        // Extras [item 45] for child 1 (B holds one more, rule 2), Done 2
        "04020117c43cf88c501d04018090dfc04a6df7df54df624bc66df7df54df624b390dbefbea9bec4978920820ab209db4390002",
        // Step: the initiator settles what is left (the last frame): Extras [items 7, 23]
        "04020402808cee891af1bbcdcbfa53e0a8f1bbcdcbfa53e0571e3779b97f4a7c150e44323405ac1f5780c0b2cd3bd5336963eefba1f8d5336963eefba1071aa66d2c7ddf743f2acc969c11045e07",
    ];

    static readonly string[] GoldenSplitAndMissing =
    [
        // Open as above, the root's entry a Counts entry (version 4): 16 slices of 6.25 s, the root's fingerprint once, then per
        // slice its count and a one-byte hint (00 = empty)
        "040001102f77616b752f322f72732f31362f3332008080a8b1e39fe7cb1780d083f5d7a2e7cb1780808080808080808001efcdab89674523010608105aa628a26d4f070b06590620060807fd06210252000000000000000000",
        // Accept: slices 0 and 2 look agreeing (count and hint equal): B's Fingerprint to confirm; slices 1 and 3 handed back (B
        // holds one item fewer, rule 3); slice 4 handed back (two fewer: A's pair search); slices 5 and 6 Fingerprint(0) (B
        // holds nothing there); slice 7 Missing 1 (A holds nothing, B has item 45); Done 8
        "04018080a8b1e39fe7cb1701070b72f5b4b0cf010597e54c61eaba01062000c3bf035501051c5a3a187e6b010544c276d70b380100010006010008",
        // Step: Done (slice 0 confirmed), Extras [item 7] (rule 2), Done (slice 2), Extras [item 23], Extras [items 30, 31] (the
        // pair search), then Missing 6 and 2 for the nodes B holds nothing in
        "04020001040180afd0e502f1bbcdcbfa53e0a8f1bbcdcbfa53e0571e3779b97f4a7c150e44323405ac1f570001040180b5c7ea0fd5336963eefba1f8d5336963eefba1071aa66d2c7ddf743f2acc969c11045e07040280e497d01228b7bd766a05068b28b7bd766a0506740516f7aecd40a0d1d748428995faf9748094ebdc03c6ef372fe94f82a0c6ef372fe94f825f18dde6e5fd29f0543910c8d016b07d5f06060602",
    ];
}
