using StoreSync.Core.Wire;
using StoreSync.Waku.Peers;

namespace StoreSync.Waku.Tests;

/// <summary>The penalty of a frame that cannot be taken is chosen by the exception's type, not by its text.</summary>
public class PeerPenaltyReasonTests
{
    [Fact]
    public void A_frame_above_the_limit_is_oversized_whatever_its_message_says()
    {
        Assert.Equal(PenaltyReason.OversizedFrame, PeerPenalties.ReasonFor(new FrameTooLargeException("frame", 11, 10)));
        Assert.Equal(PenaltyReason.MalformedFrame, PeerPenalties.ReasonFor(new ProtocolViolationException("length prefix exceeds 9 bytes")));
        Assert.Equal(PenaltyReason.MalformedFrame, PeerPenalties.ReasonFor(new InvalidDataException("transfer frame exceeds nothing, it is not protobuf")));
    }
}
