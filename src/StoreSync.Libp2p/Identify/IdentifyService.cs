using Microsoft.Extensions.Logging;
using StoreSync.Core.Wire;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Multistream;

namespace StoreSync.Libp2p.Identify;

/// <summary>The host's identify: answers <c>/ipfs/id/1.0.0</c> with what the host is, and asks every new connection's peer for the same.</summary>
/// <remarks><c>/ipfs/id/push/1.0.0</c> is not served (answered <c>na</c>, which js-libp2p accepts).</remarks>
internal sealed class IdentifyService(Libp2pHost host, ILogger logger)
{
    /// <summary>Listen addresses kept from one peer's message (the address book keeps 16 per peer anyway).</summary>
    const int MaxAddressesKept = 16;

    /// <summary>The stream handler of <see cref="IdentifyProtocol.ProtocolId"/>: our key, addresses and protocols, then FIN.</summary>
    public async Task RespondAsync(Libp2pStream stream, CancellationToken ct)
    {
        var info = new IdentifyInfo(host.Identity.PublicKey, host.ListenAddresses, host.Protocols, stream.Connection.RemoteAddress.WithoutPeerId(),
            IdentifyProtocol.LibP2PProtocolVersion, host.Options.AgentVersion);
        await IdentifyProtocol.RespondAsync(stream, info, () => stream.CloseWriteAsync(ct), ct).ConfigureAwait(false);
    }

    /// <summary>Asks the connection's peer for identify (as js-libp2p does on every new connection) and remembers its dialable
    /// listen addresses. Completes <see cref="Connection.Identified"/>; returns the peer's info, or null when identify failed.</summary>
    public async Task<IdentifyInfo?> RequestAsync(Connection connection, CancellationToken stopping)
    {
        IdentifyInfo? info = null;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            timeout.CancelAfter(host.Options.IdentifyTimeout);
            await using var stream = await connection.NewStreamAsync(IdentifyProtocol.ProtocolId, timeout.Token).ConfigureAwait(false);
            info = await IdentifyProtocol.RequestAsync(stream, connection.RemotePeer, timeout.Token).ConfigureAwait(false);
            foreach (var address in info.ListenAddresses.Take(MaxAddressesKept))
            {
                if (IsDialable(address)) host.AddAddress(connection.RemotePeer, address);
            }
        }
        catch (Exception e) when (e is InvalidDataException or ProtocolViolationException and not MultistreamException)
        {
            // A key that is not the one the handshake proved is an impersonation attempt, not a glitch.
            logger.LogWarning("Identify from {Peer} is invalid, closing the connection: {Reason}", connection.RemotePeer, e.Message);
            await connection.CloseAsync("invalid identify: " + e.Message).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or EndOfStreamException or ObjectDisposedException)
        {
            logger.LogDebug("Identify of {Peer} failed: {Reason}", connection.RemotePeer, e.Message);
        }
        finally
        {
            connection.SetIdentify(info);
        }
        return info;
    }

    static bool IsDialable(Multiaddr address) => Transports.TransportAddress.TryParse(address, out _);
}
