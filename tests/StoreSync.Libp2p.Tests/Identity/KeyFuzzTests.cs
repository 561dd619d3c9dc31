using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Tests.Identity;

/// <summary>Arbitrary bytes never escape key and peer-id parsing as anything but FormatException; valid ids round trip.</summary>
public class KeyFuzzTests
{
    private static readonly Gen<byte[]> KeyLike =
        Gen.Choose(0, 3).SelectMany(type => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b)).Select(data =>
        {
            // Mostly well-framed protobufs, so the per-type decoders (not just the framing) see random data.
            byte[] framed = [0x08, (byte)type, 0x12, (byte)Math.Min(data.Length, 127), .. data.Take(127)];
            return data.Length % 5 == 0 ? data : framed;
        }));

    [Property(MaxTest = 1000)]
    public Property Random_public_key_protobufs_fail_only_with_FormatException() =>
        Prop.ForAll(KeyLike.ToArbitrary(), bytes =>
        {
            try
            {
                var key = PublicKey.FromProtobuf(bytes);
                return key.ToProtobuf().AsSpan().SequenceEqual(bytes) && !key.Verify([1], new byte[64]);
            }
            catch (FormatException)
            {
                return true;
            }
        });

    [Property(MaxTest = 1000)]
    public Property Random_private_key_protobufs_fail_only_with_Format_or_NotSupported() =>
        Prop.ForAll(KeyLike.ToArbitrary(), bytes =>
        {
            try
            {
                return IdentityKey.FromPrivateKeyProtobuf(bytes).PeerId is not null;
            }
            catch (Exception e) when (e is FormatException or NotSupportedException)
            {
                return true;
            }
        });

    [Property(MaxTest = 200)]
    public Property Ed25519_peer_ids_round_trip_through_both_text_forms() =>
        Prop.ForAll(Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), 32).ToArbitrary(), seed =>
        {
            var id = IdentityKey.FromPrivateKeyProtobuf([0x08, 0x01, 0x12, 0x20, .. seed]).PeerId;
            return PeerId.Parse(id.ToString()) == id && PeerId.Parse(id.ToCidString()) == id
                && id.ToString().StartsWith("12D3KooW", StringComparison.Ordinal) && id.TryGetPublicKey() is not null;
        });

    [Fact]
    public void Old_go_96_byte_ed25519_private_keys_load()
    {
        const string seed = "0000000000000000000000000000000000000000000000000000000000000001";
        const string pub = "4cb5abf6ad79fbf5abbccafcc269d85cd2651ed4b885b5869f241aedf0a5ba29";
        var key = IdentityKey.FromPrivateKeyProtobuf(Hex.Bytes("08011260" + seed + pub + pub));
        Assert.Equal("12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp", key.PeerId.ToString());
        Assert.Contains("does not belong", Assert.Throws<FormatException>(() =>
            IdentityKey.FromPrivateKeyProtobuf(Hex.Bytes("08011260" + seed + pub + new string('0', 64)))).Message);
    }
}
