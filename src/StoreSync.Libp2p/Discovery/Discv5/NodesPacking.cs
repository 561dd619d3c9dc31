namespace StoreSync.Libp2p.Discovery.Discv5;

/// <summary>Splits a FINDNODE result into NODES messages that each fit one packet (discv5-wire.md: responses are sent as several).</summary>
public static class NodesPacking
{
    /// <summary>
    /// Room for records in one NODES message: the packet limit less iv, static header, message authdata and tag (87), the
    /// message type, and the list headers, request id and total at their largest (3 + 9 + 2 + 3).
    /// </summary>
    public const int RecordBudget = Discv5Limits.MaxPacketSize - Discv5Limits.MaskingIvLength - Discv5Limits.StaticHeaderLength
        - Discv5Limits.MessageAuthDataLength - Discv5Limits.GcmTagLength - 1 - 3 - 9 - 2 - 3;

    /// <summary>The messages, in order, each with the same total; one empty NODES when there are no records.</summary>
    public static List<NodesMessage> Split(byte[] requestId, IReadOnlyList<byte[]> records)
    {
        var groups = new List<List<byte[]>> { new() };
        int used = 0;
        foreach (var record in records)
        {
            if (record.Length > Discv5Limits.MaxRecordLength) continue;
            if (used + record.Length > RecordBudget)
            {
                groups.Add([]);
                used = 0;
            }
            groups[^1].Add(record);
            used += record.Length;
        }
        return groups.Select(g => new NodesMessage(requestId, groups.Count, g)).ToList();
    }
}
