using StoreSync.Libp2p.Identify;
using StoreSync.Libp2p.Tests.Host;

namespace StoreSync.Libp2p.Tests.Identify;

/// <summary>What the host's identify does with a peer that answers badly or not at all.</summary>
public class IdentifyServiceTests
{
    [Fact]
    public async Task An_identify_message_above_the_limit_closes_the_connection_as_invalid()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
        await using var liar = await TestHosts.StartAsync();
        liar.SetStreamHandler(IdentifyProtocol.ProtocolId, async (stream, c) =>
        {
            await LengthPrefixed.WriteAsync(stream, new byte[IdentifyProtocol.MaxMessageBytes + 1], c);
            await stream.CloseWriteAsync(c);
        });
        await using var asker = await TestHosts.StartAsync();
        var gone = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        asker.PeerDisconnected += (_, reason) => gone.TrySetResult(reason);

        var connection = await asker.DialAsync(liar.ListenAddresses[0], ct);
        Assert.Null(await connection.Identified.WaitAsync(ct));
        var reason = await gone.Task.WaitAsync(ct);
        Assert.Contains("invalid identify", reason);
        Assert.Contains($"exceeds the limit of {IdentifyProtocol.MaxMessageBytes}", reason);
    }

    [Fact]
    public async Task A_peer_without_identify_keeps_its_connection()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
        await using var quiet = await TestHosts.StartAsync();
        quiet.RemoveStreamHandler(IdentifyProtocol.ProtocolId);
        await using var asker = await TestHosts.StartAsync();

        var connection = await asker.DialAsync(quiet.ListenAddresses[0], ct);
        Assert.Null(await connection.Identified.WaitAsync(ct));
        Assert.Null(connection.RemoteIdentify);
        Assert.False(connection.IsClosed);
        Assert.True(await connection.PingAsync(ct) >= TimeSpan.Zero);
    }
}
