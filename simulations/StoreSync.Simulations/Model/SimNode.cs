using StoreSync.Simulations.Engine;
using StoreSync.Simulations.Scenarios;
using StoreSync.Simulations.Storage;
using StoreSync.Storage.Retention;

namespace StoreSync.Simulations.Model;

/// <summary>One simulated store node: its schedule, its storage, its random streams and its counters.</summary>
internal sealed class SimNode
{
    readonly List<long> _wentOffline = [];

    public SimNode(int id, int groupIndex, NodeGroup group, ulong seed, int communityCount)
    {
        Id = id;
        GroupIndex = groupIndex;
        Group = group;
        Communities = group.Communities.ToArray();
        SlotOf = Enumerable.Repeat(-1, communityCount).ToArray();
        for (int s = 0; s < Communities.Length; s++) SlotOf[Communities[s]] = s;
        Horizons = new RetentionHorizon?[Communities.Length];
        Schedule = new SimRandom(seed, 4 * (ulong)id + 1);
        Loss = new SimRandom(seed, 4 * (ulong)id + 2);
        PeerChoice = new SimRandom(seed, 4 * (ulong)id + 3);
    }

    public int Id { get; }
    public int GroupIndex { get; }
    public NodeGroup Group { get; }
    /// <summary>Community indexes this node stores, by slot.</summary>
    public int[] Communities { get; }
    /// <summary>Slot of each community of the scenario, −1 if the node does not store it.</summary>
    public int[] SlotOf { get; }
    public SimRandom Schedule { get; }
    public SimRandom Loss { get; }
    public SimRandom PeerChoice { get; }
    public INodeStore Store { get; set; } = null!;
    /// <summary>Per slot the newest item evicted on purpose (null: none), as a store node records its retention horizons.</summary>
    public RetentionHorizon?[] Horizons { get; }
    /// <summary>Peers this node may pick (null: every node).</summary>
    public int[]? Known { get; set; }

    public bool Online { get; private set; }
    /// <summary>Online session number; a sync scheduled in an earlier session is stale.</summary>
    public int Epoch { get; private set; }
    public long OnlineTime { get; private set; }
    long _onlineSince;

    public bool Complete { get; set; }
    public long Missing { get; set; }
    public long Held { get; set; }

    // Counters (whole run).
    public long ReconBytesSent, ReconBytesReceived, TransferBytesSent, TransferBytesReceived;
    public long Sessions, RoundTrips, FailedExchanges, ReceivedLive, ReceivedBySync, DuplicateTransfers, LostOnIngest, DroppedOld, Evicted;

    public void GoOnline(long now)
    {
        Online = true;
        Epoch++;
        _onlineSince = now;
    }

    public void GoOffline(long now)
    {
        Online = false;
        OnlineTime += now - _onlineSince;
        while (_wentOffline.Count < Epoch) _wentOffline.Add(long.MinValue);
        _wentOffline.Add(now); // index = epoch
    }

    /// <summary>When the online session <paramref name="epoch"/> ended (long.MaxValue if it is still going).</summary>
    public long OfflineAfter(int epoch) => epoch == Epoch && Online ? long.MaxValue : _wentOffline[epoch];

    public long OnlineTimeUntil(long now) => OnlineTime + (Online ? now - _onlineSince : 0);
}
