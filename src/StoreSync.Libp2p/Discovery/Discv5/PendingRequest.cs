namespace StoreSync.Libp2p.Discovery.Discv5;

/// <summary>One request of ours awaiting its response(s): NODES may come as several messages, all naming the same total.</summary>
internal sealed class PendingRequest(NodeAddress to, byte responseType)
{
    readonly TaskCompletionSource<List<Discv5Message>> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public NodeAddress To { get; } = to;

    public Task<List<Discv5Message>> Task => _done.Task;

    /// <summary>The responses so far (the NODES parts received before a timeout still count).</summary>
    public List<Discv5Message> Responses { get; } = [];

    /// <summary>Takes a response from <paramref name="from"/>; false when it is not one this request can have.</summary>
    public bool Accept(NodeAddress from, Discv5Message response)
    {
        if (from != To || response.Type != responseType) return false;
        lock (Responses)
        {
            if (_done.Task.IsCompleted) return false;
            Responses.Add(response);
            int total = response is NodesMessage nodes ? Math.Max(1, nodes.Total) : 1;
            if (Responses.Count >= total) _done.TrySetResult([.. Responses]);
            return true;
        }
    }

    public List<Discv5Message> Partial()
    {
        lock (Responses) return [.. Responses];
    }
}
