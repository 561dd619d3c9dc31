using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p.Identity;
using StoreSync.Waku.Communities;

namespace StoreSync.Waku.Tests.Communities;

/// <summary>The control message and author signature formats, byte for byte as spec/communities.md gives them, with real keys.</summary>
public class CommunityControlTests
{
    // The worked example of spec/communities.md: owner key 32 × 0x11, author key 32 × 0x22.
    internal static readonly byte[] OwnerPrivate = Enumerable.Repeat((byte)0x11, 32).ToArray();
    internal static readonly byte[] AuthorPrivate = Enumerable.Repeat((byte)0x22, 32).ToArray();
    internal const string OwnerPublic = "034f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa";
    internal const string AuthorPublic = "02466d7fcae563e5cb09a0d1870bb580344804617879a14949cf22285f1bae3f27";
    const long At = 1764000000000000000;
    const string Pubsub = "/waku/2/rs/1/0";

    static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    [Fact]
    public void Switch_off_example_is_byte_exact()
    {
        Assert.Equal(OwnerPublic, Hex(Secp256k1Signatures.PublicKeyOf(OwnerPrivate)));
        var control = CommunityControl.CreateSwitch(OwnerPrivate, At, serving: false);
        Assert.Equal("/storesync/1/control-" + OwnerPublic + "/bin", CommunityControl.ContentTopicFor(control.OwnerKey));
        Assert.Equal("73746f726573796e632f636f6d6d756e6974792d636f6e74726f6c2f763100" + OwnerPublic + "187afca767ca0000" + "01" + "00",
            Hex(control.CanonicalBytes()));
        Assert.Equal("b1f9b40f929bb5fe4405e225f2c6ae00ac706a13a606937cfb3453670357ae50", Hex(control.Digest()));
        Assert.Equal("b8feef493e99a23ae217c0d54c3411c4456079ad4672d2f875ce968bbcca5af7348822a74b5fad6882a262aa1d9372d572a904d97e0270770adc1af1f0bd99cd",
            Hex(control.Signature));
        var message = control.ToMessage();
        Assert.Equal(At, message.Timestamp);
        Assert.Equal("0x9c8633a6a10938253f8d5801903e4fc292729ca4f6632bbd66404637733d95c2", MessageHash.Compute(Pubsub, message).ToString());

        Assert.True(CommunityControl.TryParse(message.Payload.Span, out var parsed, out var error), error);
        Assert.True(parsed!.VerifySignature());
        Assert.Equal((CommunityControlKind.Switch, false, At), (parsed.Kind, parsed.Serving, parsed.Timestamp));
    }

    [Fact]
    public void Member_list_example_is_byte_exact()
    {
        var control = CommunityControl.CreateMembers(OwnerPrivate, At + 1, [Convert.FromHexString(AuthorPublic)]);
        Assert.Equal("73746f726573796e632f636f6d6d756e6974792d636f6e74726f6c2f763100" + OwnerPublic + "187afca767ca0001" + "02" + "0001" + AuthorPublic,
            Hex(control.CanonicalBytes()));
        Assert.Equal("e9eac1dedd457493352c7b21f42872d1432ebe4696b4ca71680b0292516946292d78f1743df498d478bf8b8fe3433c1f956cde9046c4b832e23e326be944e784",
            Hex(control.Signature));
        Assert.True(CommunityControl.TryParse(control.ToPayload(), out var parsed, out _));
        Assert.Equal(AuthorPublic, Hex(Assert.Single(parsed!.Members)));
        Assert.True(parsed.VerifySignature());
    }

    [Fact]
    public void Author_signature_example_is_byte_exact_and_recovers_the_author()
    {
        var message = new WakuMessage { Payload = ByteString.CopyFromUtf8("hello"), ContentTopic = "/myapp/1/chat/proto", Timestamp = At + 2 };
        Assert.Equal("0x195532349f11737c63fe0afe3b4da13dc3e572ae727b915cb227dceb219073b8", MessageHash.Compute(Pubsub, message).ToString());
        Assert.Equal("8ca72279d0b358d406a3e970039d283ccd1d2024c2b01fa72068d04f430147d9", Hex(AuthorSignature.Digest(Pubsub, message)));
        AuthorSignature.Sign(AuthorPrivate, Pubsub, message);
        Assert.Equal("5bd2f69787e50f2ff954bf3d710ae393da97ea3d8a2faa288df255a19b57ea6ede88ef690bde52632c5cd3b18d8a436e459e7ce4ec5dad8f4ed4d5b5c0d1e739",
            Hex(message.Meta.Span));
        Assert.Equal("0xc297af7bf153c4ba9154d07df4e57f2a076952e71b1dffa72f3bfa99704fa1a9", MessageHash.Compute(Pubsub, message).ToString());
        Assert.Equal(AuthorPublic, Hex(AuthorSignature.RecoverAuthor(Pubsub, message)!));
        Assert.True(MessageValidator.Default.TryValidate(Pubsub, message, out var invalid), invalid); // 64 bytes: meta's limit exactly

        // The signature binds topic, payload and timestamp: change any and the recovered key is someone else's.
        Assert.NotEqual(AuthorPublic, Hex(AuthorSignature.RecoverAuthor("/waku/2/rs/1/1", message) ?? []));
        var altered = message.Clone();
        altered.Payload = ByteString.CopyFromUtf8("hellO");
        Assert.NotEqual(AuthorPublic, Hex(AuthorSignature.RecoverAuthor(Pubsub, altered) ?? []));
        altered = message.Clone();
        altered.Meta = ByteString.CopyFrom(message.Meta.Span[..63]);
        Assert.Null(AuthorSignature.RecoverAuthor(Pubsub, altered));
    }

    [Theory]
    [InlineData(0, "shorter than any control message")]
    [InlineData(1, "domain tag")]
    [InlineData(2, "unknown control kind 7")]
    [InlineData(3, "switch body must be one byte")]
    [InlineData(4, "not strictly ascending")]
    [InlineData(5, "announces 2 keys")]
    public void Malformed_payloads_are_refused_with_the_reason(int variant, string reason)
    {
        var members = new[] { Secp256k1Signatures.PublicKeyOf(AuthorPrivate), Secp256k1Signatures.PublicKeyOf(OwnerPrivate) };
        var payload = CommunityControl.CreateMembers(OwnerPrivate, At, members).ToPayload();
        int kindAt = 31 + 33 + 8;
        byte[] bad = variant switch
        {
            0 => payload[..50],
            1 => [(byte)'X', .. payload[1..]],
            2 => [.. payload[..kindAt], 7, .. payload[(kindAt + 1)..]],
            3 => [.. payload[..kindAt], 1, 1, 1, .. payload[^64..]],
            4 => [.. payload[..(kindAt + 3)], .. payload[(kindAt + 3 + 33)..(kindAt + 3 + 66)], .. payload[(kindAt + 3)..(kindAt + 3 + 33)], .. payload[^64..]],
            _ => [.. payload[..(kindAt + 3 + 33)], .. payload[^64..]],
        };
        Assert.False(CommunityControl.TryParse(bad, out _, out var error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void A_tampered_or_foreign_signature_does_not_verify()
    {
        var payload = CommunityControl.CreateSwitch(OwnerPrivate, At, serving: true).ToPayload();
        payload[^1] ^= 1;
        Assert.True(CommunityControl.TryParse(payload, out var tampered, out _));
        Assert.False(tampered!.VerifySignature());

        // Signed by someone else but naming the owner's key: the signature is not the owner's.
        var forged = CommunityControl.CreateSwitch(AuthorPrivate, At, serving: false).ToPayload();
        Secp256k1Signatures.PublicKeyOf(OwnerPrivate).CopyTo(forged, 31);
        Assert.True(CommunityControl.TryParse(forged, out var control, out _));
        Assert.False(control!.VerifySignature());
    }

    [Fact]
    public void Newest_wins_and_a_switch_off_wins_a_tie()
    {
        var on1 = CommunityControl.CreateSwitch(OwnerPrivate, At, serving: true);
        var off1 = CommunityControl.CreateSwitch(OwnerPrivate, At, serving: false);
        var on2 = CommunityControl.CreateSwitch(OwnerPrivate, At + 1, serving: true);
        Assert.True(on1.Supersedes(null));
        Assert.True(off1.Supersedes(on1));
        Assert.False(on1.Supersedes(off1));
        Assert.True(on2.Supersedes(off1));
        Assert.False(off1.Supersedes(on2));
        Assert.False(on1.Supersedes(on1)); // the same control again changes nothing

        var state = OwnerState.Empty.With(off1)!;
        Assert.False(state.Serving);
        Assert.Null(state.With(on1));
        Assert.True(state.With(on2)!.Serving);
    }
}
