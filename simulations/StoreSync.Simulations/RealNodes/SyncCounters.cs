using System.Globalization;

namespace StoreSync.Simulations.RealNodes;

/// <summary>What a node's store sync did, read from its Prometheus metrics (storesync_sync_*; spec/sync.md).</summary>
/// <remarks>Bytes are those the node sent (each byte on a link is sent by one side), sessions those it initiated, so the sums
/// over nodes count every byte and session once, as the simulator does. Both sides record a completed session's round trips.</remarks>
internal readonly record struct SyncCounters(long ReconBytesOut, long TransferBytesOut, long SessionsInitiated, long RoundTripsBothSides,
    long ItemsFetched, long ItemsSent)
{
    public static SyncCounters operator +(SyncCounters a, SyncCounters b) => new(a.ReconBytesOut + b.ReconBytesOut, a.TransferBytesOut + b.TransferBytesOut,
        a.SessionsInitiated + b.SessionsInitiated, a.RoundTripsBothSides + b.RoundTripsBothSides, a.ItemsFetched + b.ItemsFetched, a.ItemsSent + b.ItemsSent);

    /// <summary>Reads the Prometheus text format: <c>name{label="value",…} number [timestamp]</c>; other lines are ignored.</summary>
    public static SyncCounters Parse(string text)
    {
        long recon = 0, transfer = 0, sessions = 0, roundTrips = 0, fetched = 0, sent = 0;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (!line.StartsWith("storesync_sync_", StringComparison.Ordinal)) continue;
            int brace = line.IndexOf('{');
            int close = brace < 0 ? -1 : line.IndexOf('}', brace);
            string name = brace < 0 ? line[..Math.Max(0, line.IndexOf(' '))] : line[..brace];
            string labels = close < 0 ? "" : line[(brace + 1)..close];
            var rest = (close < 0 ? line[name.Length..] : line[(close + 1)..]).Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (rest.Length == 0 || !double.TryParse(rest[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double v)) continue;
            long value = (long)v;
            bool Has(string label) => labels.Contains(label, StringComparison.Ordinal);
            if (name.StartsWith("storesync_sync_bytes", StringComparison.Ordinal) && Has("direction=\"out\""))
            {
                if (Has("protocol=\"reconciliation\"")) recon += value;
                else if (Has("protocol=\"transfer\"")) transfer += value;
            }
            else if (name.StartsWith("storesync_sync_sessions", StringComparison.Ordinal) && Has("role=\"initiator\"")) sessions += value;
            else if (name.StartsWith("storesync_sync_round_trips", StringComparison.Ordinal) && name.EndsWith("_sum", StringComparison.Ordinal)) roundTrips += value;
            else if (name.StartsWith("storesync_sync_items_fetched", StringComparison.Ordinal)) fetched += value;
            else if (name.StartsWith("storesync_sync_items_sent", StringComparison.Ordinal)) sent += value;
        }
        return new SyncCounters(recon, transfer, sessions, roundTrips, fetched, sent);
    }
}
