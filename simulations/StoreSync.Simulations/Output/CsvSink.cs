using StoreSync.Simulations.Engine;
using StoreSync.Simulations.Model;

namespace StoreSync.Simulations.Output;

/// <summary>Writes the time series (one row per sample) and the per-node series (one row per node per sample) as CSV.</summary>
internal sealed class CsvSink : ISampleSink, IDisposable
{
    public const string SeriesHeader =
        "time_s,time_h,published,recoverable,unrecoverable,online_nodes,complete_nodes,complete_fraction,online_complete_fraction," +
        "missing_mean,missing_max,recon_bytes,transfer_bytes,sync_bytes,sessions,round_trips,delivered_by_sync";

    public const string NodesHeader =
        "time_s,node,group,online,held,missing,complete,recon_bytes_sent,recon_bytes_received,transfer_bytes_sent,transfer_bytes_received," +
        "sessions,round_trips,failed_exchanges,received_live,received_by_sync,duplicate_transfers,lost_on_ingest,dropped_old,evicted";

    readonly TextWriter _series, _nodes;
    readonly bool _own;

    public CsvSink(TextWriter series, TextWriter nodes, bool own = false)
    {
        _series = series;
        _nodes = nodes;
        _own = own;
        _series.NewLine = "\n";
        _nodes.NewLine = "\n";
        _series.WriteLine(SeriesHeader);
        _nodes.WriteLine(NodesHeader);
    }

    public static CsvSink ToFolder(string folder) =>
        new(new StreamWriter(Path.Combine(folder, "timeseries.csv")), new StreamWriter(Path.Combine(folder, "nodes.csv")), own: true);

    /// <summary>One <see cref="SeriesHeader"/> row (also written for real-nodes runs).</summary>
    public static string SeriesRow(SampleRow r) => string.Join(',',
        Csv.Seconds(r.Time), Csv.Hours(r.Time), Csv.N(r.Published), Csv.N(r.Recoverable), Csv.N(r.Unrecoverable), Csv.N(r.Online),
        Csv.N(r.Complete), Csv.D(r.CompleteFraction), Csv.D(r.OnlineCompleteFraction), Csv.D(r.MissingMean), Csv.N(r.MissingMax),
        Csv.N(r.ReconBytes), Csv.N(r.TransferBytes), Csv.N(r.SyncBytes), Csv.N(r.Sessions), Csv.N(r.RoundTrips), Csv.N(r.DeliveredBySync));

    public void Sample(SampleRow r, IReadOnlyList<SimNode> nodes, long now)
    {
        _series.WriteLine(SeriesRow(r));
        string time = Csv.Seconds(now);
        foreach (var n in nodes)
            _nodes.WriteLine(string.Join(',',
                time, Csv.N(n.Id), n.Group.Name, n.Online ? "1" : "0", Csv.N(n.Held), Csv.N(n.Missing), n.Complete ? "1" : "0",
                Csv.N(n.ReconBytesSent), Csv.N(n.ReconBytesReceived), Csv.N(n.TransferBytesSent), Csv.N(n.TransferBytesReceived),
                Csv.N(n.Sessions), Csv.N(n.RoundTrips), Csv.N(n.FailedExchanges), Csv.N(n.ReceivedLive), Csv.N(n.ReceivedBySync), Csv.N(n.DuplicateTransfers),
                Csv.N(n.LostOnIngest), Csv.N(n.DroppedOld), Csv.N(n.Evicted)));
    }

    public void Dispose()
    {
        _series.Flush();
        _nodes.Flush();
        if (!_own) return;
        _series.Dispose();
        _nodes.Dispose();
    }
}
