namespace StoreSync.Core.Wire;

/// <summary>A peer announced a length-prefixed frame above the protocol's limit; refused before its body is read.</summary>
public sealed class FrameTooLargeException(string frame, ulong size, long limit)
    : ProtocolViolationException($"{frame} of {size} bytes exceeds the limit of {limit}")
{
    /// <summary>The length the peer announced, in bytes.</summary>
    public ulong Size { get; } = size;

    /// <summary>The protocol's limit the length exceeds, in bytes.</summary>
    public long Limit { get; } = limit;
}
