using StoreSync.Reconciliation;
using StoreSync.Storage.Sync;

namespace StoreSync.Waku.Sync;

/// <summary>Bounds on what store sync over the network may cost a node, whatever a peer sends (spec/sync.md §5.5).</summary>
/// <remarks>The engine's own bounds (rounds, ranges and items per frame) are <see cref="SyncLimits"/>; these add time, concurrency and totals.</remarks>
public sealed record SyncNetworkLimits
{
    /// <summary>Largest reconciliation frame read or written; the reader allocates as bytes arrive, never the announced length up front.</summary>
    public int MaxFrameBytes { get; init; } = SyncLimits.Default.MaxFrameBytes;

    /// <summary>How long one reconciliation frame may take to arrive.</summary>
    public TimeSpan FrameTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a whole reconciliation session may take, its transfers included.</summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Reconciliation sessions one peer may run with us at once (each direction counts).</summary>
    public int MaxSessionsPerPeer { get; init; } = 2;

    /// <summary>Reconciliation sessions peers may run with us at once, all peers together.</summary>
    public int MaxInboundSessions { get; init; } = 16;

    /// <summary>Differences (both ways) one session may discover; past it the session stops and the rest waits for the next sync.</summary>
    public int MaxDifferencesPerSession { get; init; } = 200_000;

    /// <summary>Announced hashes remembered for all peers together; past it a session's pushes are judged by its range instead.</summary>
    public int MaxExpectedTotal { get; init; } = 1_000_000;

    /// <summary>Items of a scope the peer narrowed to content topics we do not index: read into memory once per session, at most this many.</summary>
    public int MaxAdHocScopeItems { get; init; } = SyncIndexLimits.Default.MaxAdHocScopeItems;

    /// <summary>Live indexes kept for community scopes (content topics) the node itself syncs; scopes beyond it are read per session.</summary>
    public int MaxCommunityIndexes { get; init; } = SyncIndexLimits.Default.MaxCommunityIndexes;

    /// <summary>The bounds the sync indexes enforce (they live in Storage, which knows nothing of the network).</summary>
    public SyncIndexLimits IndexLimits => new() { MaxAdHocScopeItems = MaxAdHocScopeItems, MaxCommunityIndexes = MaxCommunityIndexes };

    /// <summary>Transfer streams one peer may have open to us at once.</summary>
    public int MaxTransferStreamsPerPeer { get; init; } = 2;

    /// <summary>How long a transfer stream beyond <see cref="MaxTransferStreamsPerPeer"/> waits, unread, for one of the peer's
    /// others to end before it is refused.</summary>
    public TimeSpan TransferSlotWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A transfer stream that brings nothing for this long is closed (nwaku keeps its transfer stream open between sessions).</summary>
    public TimeSpan TransferIdleTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How long after a session ends the peer may still push what it announced.</summary>
    public TimeSpan TransferGrace { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>A pushed message not announced yet while a session with the sender still reconciles waits this long for it to register what it announces.</summary>
    public TimeSpan UnannouncedWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Envelope allowed around a message in a transfer frame (pubsub topic, protobuf tags).</summary>
    public const int TransferEnvelopeBytes = 64 * 1024;

    public static SyncNetworkLimits Default { get; } = new();
}
