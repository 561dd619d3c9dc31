namespace StoreSync.Reconciliation.Native;

/// <summary>What a native-mode entry says about the open node(s) it answers.</summary>
public enum EntryType : byte
{
    /// <summary>varint run: that many consecutive nodes agree (or are settled); closes them.</summary>
    Done = 0,

    /// <summary>varint count, then (if count &gt; 0) the keyed fingerprint; the peer must answer it.</summary>
    Fingerprint = 1,

    /// <summary>varint m, then m child fingerprints (count, fp) over m equal position slices; opens the children.</summary>
    Split = 2,

    /// <summary>varint k, k items: all my items in the node; the peer answers with Extras.</summary>
    Items = 3,

    /// <summary>varint k, k items the peer lacks; closes the node.</summary>
    Extras = 4,

    /// <summary>The answer to Items: varint k, k items the peer lacks, then one bit per listed item we lack; closes the node.</summary>
    ItemsReply = 5,

    /// <summary>varint k: you hold nothing here and lack all k of my items, which I push without listing them; closes the node.</summary>
    Missing = 6,

    /// <summary>Version 3: varint k, k items: all my items in the node, every one of which I push; you keep those you lack and
    /// push me yours; needs no answer, closes the node (spec/sync.md §3.2 rule 7). k = 0: I hold nothing, push me all yours.</summary>
    Closing = 7,

    /// <summary>Version 4, only as the Open frame's root: varint m, the node's w-byte fingerprint (of Σ counts items), then m
    /// varint counts, one per equal position slice; opens the m children. The peer closes all of them when the node's
    /// fingerprint agrees, answers a child whose count differs by the rules, and one whose count agrees with its own
    /// Fingerprint (spec/sync.md §3.2, "the count-only Open").</summary>
    Counts = 8,
}
