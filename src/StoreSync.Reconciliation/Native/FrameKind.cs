namespace StoreSync.Reconciliation.Native;

/// <summary>What a native-mode frame is: the initiator's opening, the responder's first answer, or a step.</summary>
public enum FrameKind : byte
{
    Open = 0,
    Accept = 1,
    Step = 2,
}
