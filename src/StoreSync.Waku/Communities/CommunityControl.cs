using System.Buffers.Binary;
using System.Security.Cryptography;
using Google.Protobuf;
using StoreSync.Core.Proto;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Waku.Communities;

/// <summary>What an owner-signed control message says: the owner's switch, or the list of authorised authors.</summary>
public enum CommunityControlKind : byte
{
    /// <summary>Serving on or off: whether store nodes may serve and sync the community's history.</summary>
    Switch = 1,

    /// <summary>The complete list of member keys allowed to author messages under the authorship policy.</summary>
    Members = 2,
}

/// <summary>A control message signed by a community's owner, carried as the payload of a WakuMessage on the community's control topic.</summary>
/// <remarks>
/// Payload = canonical bytes ‖ 64-byte signature; canonical bytes = domain tag ‖ owner key (33) ‖ timestamp (8, big-endian)
/// ‖ kind (1) ‖ body (switch: 1 byte serving; members: count (2, big-endian) ‖ keys (33 each, strictly ascending)).
/// The signature is secp256k1 ECDSA over SHA-256(canonical bytes), compact r ‖ s, low-S (<see cref="Secp256k1Signatures"/>).
/// The signed timestamp must equal the WakuMessage timestamp. spec/communities.md has the byte layout and a worked example.
/// </remarks>
public sealed class CommunityControl
{
    /// <summary>"storesync/community-control/v1" and a zero byte: a signature over these bytes can mean nothing else.</summary>
    public static ReadOnlySpan<byte> DomainTag => "storesync/community-control/v1\0"u8;

    /// <summary>Members per list: 4096 keys of 33 bytes keep the payload (135 KB) below the 150 KiB message limit.</summary>
    public const int MaxMembers = 4096;

    const int HeaderLength = 31 + Secp256k1Signatures.PublicKeyLength + 8 + 1;
    const string TopicPrefix = "/storesync/1/control-", TopicSuffix = "/bin";

    public byte[] OwnerKey { get; }
    public long Timestamp { get; }
    public CommunityControlKind Kind { get; }

    /// <summary>For <see cref="CommunityControlKind.Switch"/>: true = serving enabled.</summary>
    public bool Serving { get; }

    /// <summary>For <see cref="CommunityControlKind.Members"/>: the authorised keys, ascending, without duplicates.</summary>
    public IReadOnlyList<byte[]> Members { get; }

    public byte[] Signature { get; }

    CommunityControl(byte[] ownerKey, long timestamp, CommunityControlKind kind, bool serving, IReadOnlyList<byte[]> members, byte[] signature)
    {
        OwnerKey = ownerKey;
        Timestamp = timestamp;
        Kind = kind;
        Serving = serving;
        Members = members;
        Signature = signature;
    }

    /// <summary>The content topic of the control messages of the community owned by <paramref name="ownerKey"/>.</summary>
    public static string ContentTopicFor(ReadOnlySpan<byte> ownerKey) => TopicPrefix + Convert.ToHexStringLower(ownerKey) + TopicSuffix;

    /// <inheritdoc cref="ContentTopicFor(ReadOnlySpan{byte})"/>
    public static string ContentTopicFor(string ownerKeyHex) => TopicPrefix + ownerKeyHex + TopicSuffix;

    /// <summary>Whether <paramref name="contentTopic"/> has the shape of a control topic (whoever the owner).</summary>
    public static bool IsControlTopic(string contentTopic) =>
        contentTopic.StartsWith(TopicPrefix, StringComparison.Ordinal) && contentTopic.EndsWith(TopicSuffix, StringComparison.Ordinal);

    /// <summary>Signs an owner's switch: serving on (<paramref name="serving"/> true) or off.</summary>
    public static CommunityControl CreateSwitch(ReadOnlySpan<byte> ownerPrivateKey, long timestamp, bool serving) =>
        Create(ownerPrivateKey, timestamp, CommunityControlKind.Switch, serving, []);

    /// <summary>Signs a member list; keys are sorted and de-duplicated here.</summary>
    /// <exception cref="ArgumentException">More than <see cref="MaxMembers"/> keys, or a key that is not a compressed point.</exception>
    public static CommunityControl CreateMembers(ReadOnlySpan<byte> ownerPrivateKey, long timestamp, IEnumerable<byte[]> members)
    {
        var sorted = members.Select(m => (byte[])m.Clone()).DistinctBy(Convert.ToHexString).OrderBy(m => m, ByteOrder).ToList();
        if (sorted.Count > MaxMembers) throw new ArgumentException($"{sorted.Count} members, at most {MaxMembers}", nameof(members));
        foreach (var m in sorted)
            if (!Secp256k1Signatures.IsValidPublicKey(m)) throw new ArgumentException($"member key {Convert.ToHexStringLower(m)} is not a compressed secp256k1 public key", nameof(members));
        return Create(ownerPrivateKey, timestamp, CommunityControlKind.Members, false, sorted);
    }

    static CommunityControl Create(ReadOnlySpan<byte> ownerPrivateKey, long timestamp, CommunityControlKind kind, bool serving, IReadOnlyList<byte[]> members)
    {
        var owner = Secp256k1Signatures.PublicKeyOf(ownerPrivateKey);
        var unsigned = new CommunityControl(owner, timestamp, kind, serving, members, []);
        var signature = Secp256k1Signatures.Sign(ownerPrivateKey, unsigned.Digest());
        return new CommunityControl(owner, timestamp, kind, serving, members, signature);
    }

    /// <summary>The signed bytes (everything but the signature).</summary>
    public byte[] CanonicalBytes()
    {
        int bodyLength = Kind == CommunityControlKind.Switch ? 1 : 2 + Members.Count * Secp256k1Signatures.PublicKeyLength;
        var bytes = new byte[HeaderLength + bodyLength];
        WriteCanonical(bytes);
        return bytes;
    }

    void WriteCanonical(Span<byte> bytes)
    {
        DomainTag.CopyTo(bytes);
        int at = DomainTag.Length;
        OwnerKey.CopyTo(bytes[at..]);
        at += Secp256k1Signatures.PublicKeyLength;
        BinaryPrimitives.WriteInt64BigEndian(bytes[at..], Timestamp);
        at += 8;
        bytes[at++] = (byte)Kind;
        if (Kind == CommunityControlKind.Switch)
        {
            bytes[at] = Serving ? (byte)1 : (byte)0;
            return;
        }
        BinaryPrimitives.WriteUInt16BigEndian(bytes[at..], (ushort)Members.Count);
        at += 2;
        foreach (var m in Members)
        {
            m.CopyTo(bytes[at..]);
            at += Secp256k1Signatures.PublicKeyLength;
        }
    }

    /// <summary>SHA-256 of the canonical bytes: what the owner signs.</summary>
    public byte[] Digest() => SHA256.HashData(CanonicalBytes());

    /// <summary>The WakuMessage payload: canonical bytes ‖ signature.</summary>
    public byte[] ToPayload()
    {
        var canonical = CanonicalBytes();
        var payload = new byte[canonical.Length + Secp256k1Signatures.SignatureLength];
        canonical.CopyTo(payload, 0);
        Signature.CopyTo(payload, canonical.Length);
        return payload;
    }

    /// <summary>The message to publish on the community's pubsub topics.</summary>
    public WakuMessage ToMessage() => new()
    {
        Payload = ByteString.CopyFrom(ToPayload()),
        ContentTopic = ContentTopicFor(OwnerKey),
        Timestamp = Timestamp,
    };

    /// <summary>Decodes a payload; the signature is not checked here (<see cref="VerifySignature"/>).</summary>
    public static bool TryParse(ReadOnlySpan<byte> payload, out CommunityControl? control, out string error)
    {
        control = null;
        if (payload.Length < HeaderLength + 1 + Secp256k1Signatures.SignatureLength)
        {
            error = $"control payload is {payload.Length} bytes, shorter than any control message";
            return false;
        }
        if (!payload.StartsWith(DomainTag))
        {
            error = "control payload does not start with the domain tag 'storesync/community-control/v1\\0'";
            return false;
        }
        int at = DomainTag.Length;
        var owner = payload.Slice(at, Secp256k1Signatures.PublicKeyLength).ToArray();
        at += owner.Length;
        long timestamp = BinaryPrimitives.ReadInt64BigEndian(payload[at..]);
        at += 8;
        byte kind = payload[at++];
        var body = payload[at..^Secp256k1Signatures.SignatureLength];
        var signature = payload[^Secp256k1Signatures.SignatureLength..].ToArray();
        switch ((CommunityControlKind)kind)
        {
            case CommunityControlKind.Switch:
                if (body.Length != 1 || body[0] > 1)
                {
                    error = "switch body must be one byte, 00 (serving off) or 01 (serving on)";
                    return false;
                }
                control = new CommunityControl(owner, timestamp, CommunityControlKind.Switch, body[0] == 1, [], signature);
                break;
            case CommunityControlKind.Members:
                if (body.Length < 2)
                {
                    error = "member list body has no count";
                    return false;
                }
                int count = BinaryPrimitives.ReadUInt16BigEndian(body);
                if (count > MaxMembers)
                {
                    error = $"member list of {count} keys, at most {MaxMembers}";
                    return false;
                }
                if (body.Length != 2 + count * Secp256k1Signatures.PublicKeyLength)
                {
                    error = $"member list announces {count} keys but its body is {body.Length} bytes";
                    return false;
                }
                var members = new byte[count][];
                for (int i = 0; i < count; i++)
                {
                    members[i] = body.Slice(2 + i * Secp256k1Signatures.PublicKeyLength, Secp256k1Signatures.PublicKeyLength).ToArray();
                    if (i > 0 && ByteOrder.Compare(members[i - 1], members[i]) >= 0)
                    {
                        error = "member keys are not strictly ascending (sorted, no duplicates)";
                        return false;
                    }
                }
                control = new CommunityControl(owner, timestamp, CommunityControlKind.Members, false, members, signature);
                break;
            default:
                error = $"unknown control kind {kind}";
                return false;
        }
        error = "";
        return true;
    }

    /// <summary>Whether the signature is the owner's over these canonical bytes (low-S only).</summary>
    public bool VerifySignature() => Secp256k1Signatures.Verify(OwnerKey, Digest(), Signature);

    /// <summary>
    /// Whether this control supersedes <paramref name="other"/> of the same kind: a later timestamp wins; at equal
    /// timestamps a switch-off beats a switch-on (the cautious reading), and otherwise the larger digest wins, so every
    /// node picks the same one.
    /// </summary>
    public bool Supersedes(CommunityControl? other)
    {
        if (other is null) return true;
        if (Timestamp != other.Timestamp) return Timestamp > other.Timestamp;
        if (Kind == CommunityControlKind.Switch && Serving != other.Serving) return !Serving;
        return ByteOrder.Compare(Digest(), other.Digest()) > 0;
    }

    static readonly Comparer<byte[]> ByteOrder = Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b));
}
