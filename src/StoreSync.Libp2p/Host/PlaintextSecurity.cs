using Google.Protobuf;
using StoreSync.Libp2p.Host.Pb;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Host;

/// <summary>libp2p <c>/plaintext/2.0.0</c>: peers exchange their public keys unencrypted and unauthenticated.</summary>
/// <remarks>Only for tests and for measuring the muxer without encryption; a node must never be configured with it.</remarks>
internal sealed class PlaintextSecurity : IConnectionSecurity
{
    public const string Id = "/plaintext/2.0.0";

    /// <summary>An Exchange carries a peer id and a public key; 4 KiB covers RSA-4096.</summary>
    const int MaxExchangeBytes = 4096;

    public string ProtocolId => Id;

    public Task<SecuredConnection> SecureOutboundAsync(Stream transport, IdentityKey local, PeerId? expectedRemote, CancellationToken ct) =>
        ExchangeAsync(transport, local, expectedRemote, ct);

    public Task<SecuredConnection> SecureInboundAsync(Stream transport, IdentityKey local, CancellationToken ct) =>
        ExchangeAsync(transport, local, null, ct);

    static async Task<SecuredConnection> ExchangeAsync(Stream transport, IdentityKey local, PeerId? expectedRemote, CancellationToken ct)
    {
        var mine = new Exchange { Id = ByteString.CopyFrom(local.PeerId.Multihash.Span), Pubkey = ByteString.CopyFrom(local.PublicKey.ToProtobuf()) };
        await LengthPrefixed.WriteAsync(transport, mine.ToByteArray(), ct).ConfigureAwait(false);
        var theirs = Exchange.Parser.ParseFrom(await LengthPrefixed.ReadAsync(transport, MaxExchangeBytes, ct).ConfigureAwait(false));
        var key = PublicKey.FromProtobuf(theirs.Pubkey.Span);
        var peer = PeerId.FromPublicKey(key);
        if (!theirs.Id.Span.SequenceEqual(peer.Multihash.Span)) throw new IOException("plaintext exchange: peer id does not match the public key");
        if (expectedRemote is not null && expectedRemote != peer) throw new IOException($"plaintext exchange: expected {expectedRemote}, peer is {peer}");
        return new SecuredConnection(transport, peer, key);
    }
}
