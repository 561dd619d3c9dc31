using StoreSync.Libp2p.Multistream;
using StoreSync.Testing.Libp2p;

namespace StoreSync.Libp2p.Tests.Multistream;

public sealed class MultistreamSelectTests : IDisposable
{
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(10));
    CancellationToken Timeout => _timeout.Token;

    public void Dispose() => _timeout.Dispose();

    [Theory]
    [InlineData("/multistream/1.0.0", "132f6d756c746973747265616d2f312e302e300a")]
    [InlineData("/noise", "072f6e6f6973650a")]
    [InlineData("/yamux/1.0.0", "0d2f79616d75782f312e302e300a")]
    [InlineData("/vac/waku/store-query/3.0.0", "1c2f7661632f77616b752f73746f72652d71756572792f332e302e300a")]
    [InlineData("na", "036e610a")]
    public void Encodes_the_spec_vectors(string text, string hex)
    {
        var buffer = new byte[128];
        int n = MultistreamMessage.Encode(buffer, text);
        Assert.Equal(hex, Convert.ToHexStringLower(buffer.AsSpan(0, n)));
    }

    [Fact]
    public async Task Dialer_falls_back_after_na_and_the_stream_carries_data_after_negotiation()
    {
        var (a, b) = DuplexPipe.Create();
        var listener = Task.Run(async () =>
        {
            var p = await MultistreamSelect.HandleAsync(b, ["/yamux/1.0.0", "/echo/1"], Timeout);
            var data = new byte[5];
            await b.ReadExactlyAsync(data, Timeout);
            return (p, System.Text.Encoding.ASCII.GetString(data));
        });
        var chosen = await MultistreamSelect.SelectAsync(a, ["/mplex/6.7.0", "/yamux/1.0.0"], Timeout);
        await a.WriteAsync("hello"u8.ToArray(), Timeout);
        Assert.Equal("/yamux/1.0.0", chosen);
        Assert.Equal(("/yamux/1.0.0", "hello"), await listener);
    }

    [Fact]
    public async Task Dialer_sends_header_and_first_proposal_in_one_write_as_js_libp2p()
    {
        var (a, b) = DuplexPipe.Create();
        _ = MultistreamSelect.SelectAsync(a, ["/noise"], Timeout);
        var buffer = new byte[28];
        await b.ReadExactlyAsync(buffer, Timeout);
        Assert.Equal("132f6d756c746973747265616d2f312e302e300a072f6e6f6973650a", Convert.ToHexStringLower(buffer));
    }

    [Fact]
    public async Task Ls_lists_the_listener_protocols()
    {
        var (a, b) = DuplexPipe.Create();
        var listener = MultistreamSelect.HandleAsync(b, ["/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"], Timeout);
        Assert.Equal(["/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"], await MultistreamSelect.ListAsync(a, Timeout));
        a.Dispose();
        await Assert.ThrowsAsync<MultistreamException>(() => listener);
    }

    [Fact]
    public async Task No_common_protocol_is_an_error_that_names_them()
    {
        var (a, b) = DuplexPipe.Create();
        _ = MultistreamSelect.HandleAsync(b, ["/x/1"], Timeout);
        var e = await Assert.ThrowsAsync<MultistreamException>(() => MultistreamSelect.SelectAsync(a, ["/a/1", "/b/1"], Timeout));
        Assert.Contains("/a/1, /b/1", e.Message);
    }

    [Theory]
    [InlineData("ffff7f")]                                 // claims 2 MB
    [InlineData("132f6d756c746973747265616d2f322e302e300a")] // another version
    [InlineData("05616263")]                               // truncated
    [InlineData("00")]                                     // empty message
    public async Task Garbage_from_the_peer_fails_cleanly(string hex)
    {
        var (a, b) = DuplexPipe.Create();
        await b.WriteAsync(Convert.FromHexString(hex), Timeout);
        b.Dispose();
        await Assert.ThrowsAsync<MultistreamException>(() => MultistreamSelect.SelectAsync(a, ["/noise"], Timeout));
    }
}
