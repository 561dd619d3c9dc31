using Google.Protobuf;
using Microsoft.Extensions.Logging;
using StoreSync.Libp2p;
using StoreSync.Libp2p.Host;

namespace StoreSync.Waku.Metadata;

/// <summary>Serves <c>/vac/waku/metadata/1.0.0</c> and, as nwaku does, asks every new peer for its metadata and drops peers of another
/// cluster, without a cluster id, or relay peers with no shard in common (<see cref="MetadataProtocol.Check"/>).</summary>
/// <remarks>One deviation from nwaku: a peer that does not speak metadata (or fails to answer) is kept, where nwaku drops it. Plain
/// libp2p clients of the store (our CLI's <c>query --peer</c>, any tool that only speaks Store v3) do not mount metadata, and a store
/// node gains nothing by refusing them; spec/node.md says so.</remarks>
public sealed class MetadataService(MetadataProtocol protocol, ILogger<MetadataService> logger)
{
    public void Attach(Libp2pHost host)
    {
        host.SetStreamHandler(MetadataProtocol.ProtocolId, HandleAsync);
        if (protocol.ChecksPeers) host.PeerConnected += connection => _ = CheckPeerAsync(connection);
    }

    async Task HandleAsync(Libp2pStream stream, CancellationToken ct)
    {
        try
        {
            var request = MetadataProtocol.TryParseRequest(await RequestReader.ReadAsync(stream, MetadataProtocol.MaxMessageBytes, ct).ConfigureAwait(false));
            if (request is not null && request.HasClusterId && request.ClusterId != protocol.ClusterId)
                logger.LogInformation("Peer {Peer} announces cluster {Cluster}", stream.RemotePeer, request.ClusterId);
        }
        catch (Exception e) when (e is InvalidDataException or Core.Wire.ProtocolViolationException or EndOfStreamException)
        {
            logger.LogDebug("Metadata request from {Peer} unreadable: {Reason}", stream.RemotePeer, e.Message);
        }
        catch (Exception e) when (e is TimeoutException or StreamIdleException)
        {
            logger.LogDebug("Metadata stream from {Peer} given up: {Reason}", stream.RemotePeer, e.Message);
            stream.Reset();
            return;
        }
        await LengthPrefixed.WriteAsync(stream, protocol.CreateResponse().ToByteArray(), ct).ConfigureAwait(false);
        await stream.CloseWriteAsync(ct).ConfigureAwait(false);
    }

    async Task CheckPeerAsync(Connection connection)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await using var stream = await connection.NewStreamAsync(MetadataProtocol.ProtocolId, timeout.Token).ConfigureAwait(false);
            await LengthPrefixed.WriteAsync(stream, protocol.CreateRequest().ToByteArray(), timeout.Token).ConfigureAwait(false);
            await stream.CloseWriteAsync(timeout.Token).ConfigureAwait(false);
            var response = await LengthPrefixed.ReadAsync(stream, MetadataProtocol.MaxMessageBytes, timeout.Token).ConfigureAwait(false);
            // nwaku compares shards only for relay peers, known from identify; it normally finishes before the metadata answer.
            var identified = await connection.Identified.WaitAsync(timeout.Token).ConfigureAwait(false);
            var check = protocol.Check(response, identified?.Protocols.Contains(MetadataProtocol.RelayProtocolId) == true);
            if (!check.Keep)
            {
                logger.LogInformation("Disconnecting {Peer}: {Reason}", connection.RemotePeer, check.Reason);
                await connection.CloseAsync("metadata: " + check.Reason).ConfigureAwait(false);
            }
            else
            {
                logger.LogDebug("Metadata of {Peer} accepted: cluster {Cluster}, shards [{Shards}]", connection.RemotePeer, check.ClusterId,
                    string.Join(", ", check.Shards));
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or OperationCanceledException or ObjectDisposedException)
        {
            logger.LogDebug("No metadata from {Peer}: {Reason}", connection.RemotePeer, e.Message);
        }
    }
}
