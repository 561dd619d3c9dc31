namespace StoreSync.Waku.Enr;

/// <summary>The <c>waku2</c> ENR field (31/WAKU2-ENR): one byte, a bit per protocol the node serves, as nwaku's capabilities.nim.</summary>
/// <remarks>Bit 4 (<see cref="Sync"/>) is how nwaku advertises store sync (<c>/vac/waku/reconciliation/1.0.0</c>).</remarks>
[Flags]
public enum WakuCapabilities : byte
{
    None = 0,
    Relay = 1 << 0,
    Store = 1 << 1,
    Filter = 1 << 2,
    Lightpush = 1 << 3,
    Sync = 1 << 4,
    Mix = 1 << 5,
}
