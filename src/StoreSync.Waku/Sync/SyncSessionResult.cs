using StoreSync.Libp2p.Identity;
using StoreSync.Reconciliation;

namespace StoreSync.Waku.Sync;

/// <summary>What one reconciliation session did: mode, round trips, bytes each way, differences found and messages pushed.</summary>
public sealed record SyncSessionResult
{
    public required PeerId Peer { get; init; }

    public required SyncMode Mode { get; init; }

    /// <summary>The protocol id multistream agreed on (native mode: its version, spec/sync.md §3.6); null when not known.</summary>
    public string? Protocol { get; init; }

    public required bool Initiator { get; init; }

    /// <summary>The session reached its end as the protocol defines it.</summary>
    public bool Completed { get; init; }

    /// <summary>How it ended (the <c>outcome</c> tag of its metric).</summary>
    public required SyncSessionOutcome Outcome { get; init; }

    /// <summary>Why it did not complete, if it did not.</summary>
    public string? Error { get; init; }

    /// <summary>The session stopped at <see cref="SyncNetworkLimits.MaxDifferencesPerSession"/>: sync again soon for the rest.</summary>
    public bool DifferenceCapReached { get; init; }

    public int FramesSent { get; init; }
    public int FramesReceived { get; init; }

    /// <summary>Frames both ways, halved and rounded up (a session that agrees at once is one round trip).</summary>
    public int RoundTrips => (FramesSent + FramesReceived + 1) / 2;

    /// <summary>Reconciliation bytes on the wire, length prefixes included.</summary>
    public long BytesSent { get; init; }
    public long BytesReceived { get; init; }

    /// <summary>Local messages the peer lacks (pushed to it) and messages it has that we lack (it pushes them).</summary>
    public int ToSend { get; init; }
    public int ToReceive { get; init; }

    /// <summary>Messages written on the transfer stream and their bytes.</summary>
    public int Pushed { get; init; }
    public long TransferBytesSent { get; init; }

    public TimeSpan Duration { get; init; }

    /// <summary>With <c>awaitTransfer</c>: whether everything the session found missing here arrived (false: the peer's pushes
    /// went quiet first, a slow or stopped peer); null when nothing was awaited.</summary>
    public bool? TransferArrived { get; init; }

    /// <summary>The scope the session agreed on, when the caller asked for it (<see cref="AgreedScope"/>); null = unknown.</summary>
    public SyncScope? Scope { get; init; }

    public override string ToString() =>
        $"{Mode.Name()} {(Initiator ? "initiator" : "responder")} with {Peer}: {(Completed ? "completed" : "stopped: " + Error)}, {RoundTrips} round trips, " +
        $"{BytesSent} B out / {BytesReceived} B in, to send {ToSend}, to receive {ToReceive}, pushed {Pushed} ({TransferBytesSent} B), {Duration.TotalMilliseconds:0} ms";
}
