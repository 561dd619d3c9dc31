using StoreSync.Core.Wire;

namespace StoreSync.Core.Tests.Wire;

/// <summary>The protocol-violation base and the frame-too-large exception every length-prefixed reader throws.</summary>
public class ProtocolViolationTests
{
    [Fact]
    public void The_too_large_exception_carries_size_and_limit_in_the_message_peers_and_logs_see()
    {
        var e = new FrameTooLargeException("length-prefixed message", 1UL << 30, 1024);
        Assert.Equal("length-prefixed message of 1073741824 bytes exceeds the limit of 1024", e.Message);
        Assert.Equal(e.Message, e.Reason);
        Assert.Equal((1UL << 30, 1024L), (e.Size, e.Limit));
        Assert.IsAssignableFrom<IOException>(e);
    }

    [Fact]
    public void A_violation_keeps_its_reason_and_cause()
    {
        var cause = new FormatException("varint is not minimally encoded");
        var e = new ProtocolViolationException("malformed length prefix: " + cause.Message, cause);
        Assert.Equal("malformed length prefix: varint is not minimally encoded", e.Reason);
        Assert.Same(cause, e.InnerException);
    }
}
