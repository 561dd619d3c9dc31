using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Noise;

namespace StoreSync.Libp2p.Tests.Noise;

/// <summary>A decrypted but hostile payload can only end the handshake with NoiseHandshakeException.</summary>
public class HandshakePayloadFuzzTests
{
    private static readonly byte[] StaticKey = X25519KeyPair.Generate().Public;
    private static readonly IdentityKey Identity = IdentityKey.Generate(KeyType.Ed25519);

    [Property(MaxTest = 1000)]
    public Property Random_payloads_fail_only_with_NoiseHandshakeException() =>
        Prop.ForAll(Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b)).ToArbitrary(), payload =>
        {
            try
            {
                HandshakePayload.Verify(payload, StaticKey, null, "responder");
                return false; // random bytes cannot carry a valid signature
            }
            catch (NoiseHandshakeException)
            {
                return true;
            }
        });

    [Property(MaxTest = 300)]
    public Property Any_single_bit_flip_of_a_valid_payload_is_rejected_or_harmless() =>
        Prop.ForAll(Gen.Choose(0, 8 * 104 - 1).ToArbitrary(), bit =>
        {
            var payload = HandshakePayload.Create(Identity, StaticKey, null);
            payload[bit / 8] ^= (byte)(1 << (bit % 8));
            try
            {
                // A flip that still decodes and verifies must not have turned the payload into another identity.
                return HandshakePayload.Verify(payload, StaticKey, Identity.PeerId, "responder").Peer == Identity.PeerId;
            }
            catch (NoiseHandshakeException)
            {
                return true;
            }
        });
}
