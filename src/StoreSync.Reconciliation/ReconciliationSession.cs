namespace StoreSync.Reconciliation;

/// <summary>One side of a reconciliation: frames in, frames out, and the items each side must push.</summary>
/// <remarks>
/// Drive it with <see cref="Initiate"/> (initiator only) and then <see cref="Receive"/> for every frame the
/// peer sends; a null reply means "send nothing, the session is over". Transport- and storage-agnostic.
/// </remarks>
public abstract class ReconciliationSession
{
    readonly SyncItemSet _toSend = new(), _toReceive = new();

    protected ReconciliationSession(SyncLimits? limits) => Limits = limits ?? SyncLimits.Default;

    public SyncLimits Limits { get; }

    /// <summary>Local items the peer lacks, in ascending order: hand their hashes to the transfer protocol.</summary>
    public IReadOnlySet<SyncItem> ToSend => _toSend;

    /// <summary>Items the peer has and we lack, in ascending order: the peer pushes them.</summary>
    public IReadOnlySet<SyncItem> ToReceive => _toReceive;

    public bool IsFinished { get; protected set; }

    public int MessagesSent { get; private set; }

    public int MessagesReceived { get; private set; }

    public long BytesSent { get; private set; }

    public long BytesReceived { get; private set; }

    /// <summary>First frame of the initiator.</summary>
    public abstract byte[] Initiate();

    /// <summary>Processes the peer's frame; returns the reply, or null when nothing more is to be sent.</summary>
    public byte[]? Receive(ReadOnlySpan<byte> frame)
    {
        if (IsFinished) throw new InvalidOperationException("the session is over");
        if (++MessagesReceived > Limits.MaxRounds)
        {
            IsFinished = true;
            throw new SyncProtocolException($"more than {Limits.MaxRounds} messages in one session");
        }
        BytesReceived += frame.Length;
        try
        {
            return Sent(Process(frame));
        }
        catch (SyncProtocolException)
        {
            IsFinished = true;
            throw;
        }
    }

    protected abstract byte[]? Process(ReadOnlySpan<byte> frame);

    protected byte[]? Sent(byte[]? frame)
    {
        if (frame is not null) { MessagesSent++; BytesSent += frame.Length; }
        return frame;
    }

    protected void NeedsFromUs(in SyncItem item) => _toSend.Add(item);

    protected void WeNeed(in SyncItem item) => _toReceive.Add(item);
}
