using StoreSync.Waku.Sync.Backfill;

namespace StoreSync.Node.Governor;

/// <summary>The swarm backfills of this process for the figures (spec/node.md): all of them under the node, each community's
/// under its community (a backfill is named after its community).</summary>
public sealed class BackfillFiguresSource(BackfillRegistry registry) : IFiguresSource
{
    public IEnumerable<KeyValuePair<string, object?>> Figures(string? community)
    {
        var reports = registry.Reports.Where(r => community is null || r.Name == community).Select(Shape).ToList();
        if (community is null || reports.Count > 0) yield return new("backfill", reports);
    }

    static object Shape(BackfillReport r) => new
    {
        name = r.Name,
        fraction = r.Fraction,
        finished = r.Finished,
        messages = r.Messages,
        bytes = r.Bytes,
        remainingMessages = r.RemainingMessages,
        remainingBytes = r.RemainingBytes,
        messagesPerSecond = r.MessagesPerSecond,
        bytesPerSecond = r.BytesPerSecond,
        etaSeconds = r.Eta?.TotalSeconds,
        slicesDone = r.SlicesDone,
        slices = r.Slices,
        peers = r.Peers.Select(p => new { peerId = p.Peer, messages = p.Messages, bytes = p.Bytes, slicesDone = p.SlicesDone, failures = p.Failures, gone = p.Gone }).ToList(),
    };
}
