using StoreSync.Core.Wire;

namespace StoreSync.Waku.Relay;

/// <summary>Checks that a WakuMessage's <c>rate_limit_proof</c> has the shape of an RLN proof, without verifying it.</summary>
/// <remarks>nwaku's RateLimitProof (rln/protocol_types.nim): fields 1 proof (a 128-byte zkSNARK), 2 merkle root,
/// 3 epoch, 4 share x, 5 share y, 6 nullifier, 7 RLN identifier (32 bytes each), all length-delimited. nwaku rejects a
/// message whose proof does not verify; this node cannot verify (no RLN verifier, no membership tree), so it rejects only
/// what nwaku rejects for certain: no proof, or one not of this shape.</remarks>
public static class RlnProofShape
{
    const int ProofBytes = 128, FieldBytes = 32, Fields = 7, LengthDelimited = 2;

    public static bool IsWellFormed(ReadOnlySpan<byte> proof)
    {
        if (proof.IsEmpty) return false;
        int seen = 0;
        while (!proof.IsEmpty)
        {
            if (!Varint.TryRead(proof, out ulong tag, out int tagLength) || (tag & 7) != LengthDelimited) return false;
            ulong field = tag >> 3;
            if (field is < 1 or > Fields || (seen & (1 << (int)field)) != 0) return false;
            proof = proof[tagLength..];
            if (!Varint.TryRead(proof, out ulong length, out int lengthLength)) return false;
            if (length != (ulong)(field == 1 ? ProofBytes : FieldBytes) || (ulong)(proof.Length - lengthLength) < length) return false;
            proof = proof[(lengthLength + (int)length)..];
            seen |= 1 << (int)field;
        }
        return seen == ((1 << (Fields + 1)) - 2);
    }
}
