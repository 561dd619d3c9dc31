using Google.Protobuf;
using StoreSync.Libp2p;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Testing.Libp2p;

/// <summary>libp2p /plaintext/2.0.0 (Exchange{id, pubkey}), for testing the host without encryption. Never used by the node.</summary>
public sealed class PlaintextSecurity : ISecurityProtocol
{
    public string ProtocolId => "/plaintext/2.0.0";

    public Task<SecuredConnection> InitiateAsync(Stream raw, IdentityKey local, PeerId? expectedRemote, CancellationToken ct) => ExchangeAsync(raw, local, ct);

    public Task<SecuredConnection> RespondAsync(Stream raw, IdentityKey local, CancellationToken ct) => ExchangeAsync(raw, local, ct);

    static async Task<SecuredConnection> ExchangeAsync(Stream raw, IdentityKey local, CancellationToken ct)
    {
        var mine = new MemoryStream();
        var output = new CodedOutputStream(mine);
        output.WriteTag(1, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(local.PeerId.Multihash.Span));
        output.WriteTag(2, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(local.PublicKey.ToProtobuf()));
        output.Flush();
        await LengthPrefixed.WriteAsync(raw, mine.ToArray(), ct);
        var theirs = await LengthPrefixed.ReadAsync(raw, 4096, ct);
        var input = new CodedInputStream(theirs);
        byte[]? id = null, key = null;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == 1) id = input.ReadBytes().ToByteArray();
            else if (WireFormat.GetTagFieldNumber(tag) == 2) key = input.ReadBytes().ToByteArray();
            else input.SkipLastField();
        }
        if (id is null || key is null) throw new IOException("plaintext exchange without id or key");
        var publicKey = PublicKey.FromProtobuf(key);
        if (PeerId.FromMultihash(id) != PeerId.FromPublicKey(publicKey)) throw new IOException("plaintext id does not match the key");
        return new SecuredConnection(raw, publicKey);
    }
}
