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
    readonly Responder _responder = new(protocol, logger);

    public void Attach(Libp2pHost host)
    {
        host.SetStreamHandler(MetadataProtocol.ProtocolId, HandleAsync);
        if (protocol.ChecksPeers) host.PeerConnected += connection => _ = CheckPeerAsync(connection);
    }

    Task HandleAsync(Libp2pStream stream, CancellationToken ct) => RequestResponseHandler.HandleAsync(stream, _responder, logger, ct);

    /// <summary>Answers every request, readable or not, with our metadata; a differing cluster is only logged (the check on
    /// connect decides).</summary>
    sealed class Responder(MetadataProtocol protocol, ILogger logger) : IRequestResponder<byte[]>
    {
        public string Name => "metadata request";

        public int MaxRequestBytes => MetadataProtocol.MaxMessageBytes;

        public LogLevel RefusalLevel => LogLevel.Debug;

        public byte[] Answer(byte[] request, Libp2pStream stream)
        {
            var parsed = MetadataProtocol.TryParseRequest(request);
            if (parsed is not null && parsed.HasClusterId && parsed.ClusterId != protocol.ClusterId)
                logger.LogInformation("Peer {Peer} announces cluster {Cluster}", stream.RemotePeer, parsed.ClusterId);
            return protocol.CreateResponse().ToByteArray();
        }

        public byte[] Unreadable(string reason, Libp2pStream stream) => protocol.CreateResponse().ToByteArray();

        public ValueTask WriteAsync(Libp2pStream stream, byte[] response, CancellationToken ct) => LengthPrefixed.WriteAsync(stream, response, ct);
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
