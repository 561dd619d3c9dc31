using System.Buffers.Binary;
using StoreSync.Libp2p.Discovery.Dns;
using StoreSync.Libp2p.Identity;
using StoreSync.Testing.Dns;

namespace StoreSync.Libp2p.Tests.Discovery.Dns;

/// <summary>
/// Walks trees served by a DNS server on 127.0.0.1 through the real UDP/TCP resolver: the EIP-1459 example, trees signed
/// here, a wrong signature, loops, deep and malformed trees, truncated and junk answers.
/// </summary>
public sealed class EnrTreeWalkerTests : IAsyncLifetime
{
    readonly LoopbackDnsServer _dns = new();
    readonly byte[] _key = Secp256k1Signatures.GeneratePrivateKey();
    EnrTreeWalker _walker = null!;

    public Task InitializeAsync()
    {
        _walker = new EnrTreeWalker(new DnsTxtResolver([_dns.EndPoint], TimeSpan.FromSeconds(2)));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _dns.DisposeAsync();

    static CancellationToken Within(int seconds) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    EnrTreeUrl UrlOf(string domain, byte[]? key = null) => EnrTreeUrl.Create(Secp256k1Signatures.PublicKeyOf(key ?? _key), domain);

    static string[] Leaves(int n) => Enumerable.Range(0, n).Select(i => "enr:-leaf" + i).ToArray();

    [Fact]
    public async Task The_EIP_1459_example_tree_yields_its_three_records()
    {
        _dns.ServeOn(EnrTreeEntryTests.ExampleZone);
        var contents = await _walker.WalkAsync(EnrTreeUrl.Parse($"enrtree://{EnrTreeEntryTests.ExampleKey}@nodes.example.org"), Within(30));
        Assert.Equal(3, contents.Records.Count);
        Assert.All(contents.Records, r => Assert.StartsWith("enr:-HW4Q", r, StringComparison.Ordinal));
        // The link points at morenodes.example.org, which this server does not serve: noted, not fatal.
        Assert.Equal(["nodes.example.org"], contents.Trees.Select(t => t.Url.Domain));
        Assert.Contains(contents.Problems, p => p.Contains("morenodes.example.org", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_example_tree_under_the_wrong_key_is_refused()
    {
        _dns.ServeOn(EnrTreeEntryTests.ExampleZone);
        var e = await Assert.ThrowsAsync<DnsDiscoveryException>(
            () => _walker.WalkAsync(EnrTreeUrl.Parse($"enrtree://{EnrTreeEntryTests.LinkKey}@nodes.example.org"), Within(30)));
        Assert.Contains("not signed", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tree_and_the_tree_it_links_to_are_read()
    {
        var otherKey = Secp256k1Signatures.GeneratePrivateKey();
        _dns.ServeOn(EnrTreePublisher.Publish("other.test", otherKey, Leaves(4), []));
        _dns.ServeOn(EnrTreePublisher.Publish("nodes.test", _key, Leaves(10), [UrlOf("other.test", otherKey).ToString()], seq: 7));
        var contents = await _walker.WalkAsync(UrlOf("nodes.test"), Within(30));
        Assert.Equal(10, contents.Records.Count); // leaves 0..3 are in both trees: deduplicated
        Assert.Equal([("nodes.test", 7ul), ("other.test", 1ul)], contents.Trees.Select(t => (t.Url.Domain, t.Seq)));
        Assert.Empty(contents.Problems);
    }

    [Fact]
    public async Task A_root_signed_by_another_key_is_refused()
    {
        _dns.ServeOn(EnrTreePublisher.Publish("nodes.test", Secp256k1Signatures.GeneratePrivateKey(), Leaves(3), []));
        var e = await Assert.ThrowsAsync<DnsDiscoveryException>(() => _walker.WalkAsync(UrlOf("nodes.test"), Within(30)));
        Assert.Contains("not signed", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_linked_tree_with_a_bad_signature_is_skipped_and_the_rest_kept()
    {
        _dns.ServeOn(EnrTreePublisher.Publish("other.test", Secp256k1Signatures.GeneratePrivateKey(), ["enr:-other"], []));
        _dns.ServeOn(EnrTreePublisher.Publish("nodes.test", _key, Leaves(2), [UrlOf("other.test").ToString()]));
        var contents = await _walker.WalkAsync(UrlOf("nodes.test"), Within(30));
        Assert.Equal(Leaves(2), contents.Records);
        Assert.Contains(contents.Problems, p => p.Contains("not signed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_missing_or_garbled_root_is_refused()
    {
        await Assert.ThrowsAsync<DnsDiscoveryException>(() => _walker.WalkAsync(UrlOf("absent.test"), Within(30)));
        _dns.SetTxt("nodes.test", "enrtree-root:v1 e=nonsense");
        await Assert.ThrowsAsync<DnsDiscoveryException>(() => _walker.WalkAsync(UrlOf("nodes.test"), Within(30)));
    }

    [Fact]
    public async Task Branch_loops_and_link_loops_end()
    {
        // A branch that lists itself can't be published (its name is its own hash), so loop through a tampered name:
        // the branch at X lists X; the walker must refuse X's text (hash mismatch) or, if it matched, not revisit it.
        var records = new Dictionary<string, string>();
        string leaf = EnrTreePublisher.Put("nodes.test", "enr:-only", records);
        string branch = EnrTreePublisher.Put("nodes.test", $"enrtree-branch:{leaf}", records);
        records[$"{leaf}.nodes.test"] = $"enrtree-branch:{branch},{leaf}"; // the leaf's name now holds a branch back up
        // Two trees linking to each other.
        var other = EnrTreePublisher.Publish("other.test", _key, ["enr:-other"], [UrlOf("nodes.test").ToString()]);
        string linkRoot = EnrTreePublisher.Put("nodes.test", UrlOf("other.test").ToString(), records);
        records["nodes.test"] = EnrTreeRoot.Sign(branch, linkRoot, 1, _key).ToString();
        _dns.ServeOn(records);
        _dns.ServeOn(other);

        var contents = await _walker.WalkAsync(UrlOf("nodes.test"), Within(30));
        Assert.Equal(["enr:-other"], contents.Records);
        Assert.Equal(2, contents.Trees.Count);
        Assert.Contains(contents.Problems, p => p.Contains("does not hash to its name", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Branches_deeper_than_the_bound_are_not_followed()
    {
        var records = new Dictionary<string, string>();
        string top = EnrTreePublisher.Put("nodes.test", "enr:-deep", records);
        for (int i = 0; i < DnsDiscoveryLimits.MaxDepth + 2; i++) top = EnrTreePublisher.Put("nodes.test", "enrtree-branch:" + top, records);
        string links = EnrTreePublisher.Put("nodes.test", "enrtree-branch:", records);
        records["nodes.test"] = EnrTreeRoot.Sign(top, links, 1, _key).ToString();
        _dns.ServeOn(records);
        var contents = await _walker.WalkAsync(UrlOf("nodes.test"), Within(30));
        Assert.Empty(contents.Records);
        Assert.Contains(contents.Problems, p => p.Contains("depth", StringComparison.Ordinal));
        Assert.True(_dns.Queries <= DnsDiscoveryLimits.MaxDepth + 4);
    }

    [Fact]
    public async Task Leaves_in_the_link_subtree_and_links_in_the_record_subtree_are_skipped()
    {
        var records = EnrTreePublisher.Publish("nodes.test", _key, [UrlOf("x.test").ToString(), "enr:-good"], ["enr:-misplaced"]);
        _dns.ServeOn(records);
        var contents = await _walker.WalkAsync(UrlOf("nodes.test"), Within(30));
        Assert.Equal(["enr:-good"], contents.Records);
        Assert.Equal(2, contents.Problems.Count);
    }

    [Fact]
    public async Task Oversized_and_malformed_entries_are_skipped()
    {
        var records = EnrTreePublisher.Publish("nodes.test", _key, ["enr:-good", "enr:" + new string('A', 3000), "enr:bad+chars"], []);
        _dns.ServeOn(records);
        var contents = await _walker.WalkAsync(UrlOf("nodes.test"), Within(30));
        Assert.Equal(["enr:-good"], contents.Records);
        Assert.Equal(2, contents.Problems.Count);
    }

    [Fact]
    public async Task Truncated_udp_answers_are_asked_again_over_tcp()
    {
        _dns.AlwaysTruncateUdp = true;
        _dns.ServeOn(EnrTreePublisher.Publish("nodes.test", _key, Leaves(5), []));
        var contents = await _walker.WalkAsync(UrlOf("nodes.test"), Within(30));
        Assert.Equal(5, contents.Records.Count);
    }

    [Fact]
    public async Task Long_records_split_over_several_strings_are_joined()
    {
        string longLeaf = "enr:" + new string('B', 600);
        _dns.ServeOn(EnrTreePublisher.Publish("nodes.test", _key, [longLeaf], []));
        var contents = await _walker.WalkAsync(UrlOf("nodes.test"), Within(30));
        Assert.Equal([longLeaf], contents.Records);
    }

    [Theory]
    [InlineData("short")]
    [InlineData("pointer-loop")]
    [InlineData("not-a-response")]
    [InlineData("servfail")]
    [InlineData("rdata-overrun")]
    public async Task Junk_answers_are_clear_errors(string kind)
    {
        _dns.RawAnswer = query =>
        {
            var answer = query.ToArray();
            switch (kind)
            {
                case "short": return answer[..5];
                case "not-a-response": return answer;
                case "servfail":
                    answer[2] = 0x81; answer[3] = 0x82;
                    return answer;
            }
            answer[2] = 0x81; answer[3] = 0x80;
            BinaryPrimitives.WriteUInt16BigEndian(answer.AsSpan(6), 1);
            BinaryPrimitives.WriteUInt16BigEndian(answer.AsSpan(10), 0);
            int questionEnd = answer.Length - 11;
            var head = answer[..questionEnd];
            byte[] record = kind == "pointer-loop"
                ? [0xC0, (byte)questionEnd, 0, 16, 0, 1, 0, 0, 0, 0, 0, 0]
                : [0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 0, 0, 9, 200, 65, 65];
            return [.. head, .. record];
        };
        var resolver = new DnsTxtResolver([_dns.EndPoint], TimeSpan.FromMilliseconds(kind == "short" ? 300 : 2000));
        await Assert.ThrowsAsync<DnsDiscoveryException>(() => resolver.ResolveTxtAsync("nodes.test", Within(30)));
    }

    [Fact]
    public async Task Query_names_are_checked_before_anything_is_sent()
    {
        var resolver = new DnsTxtResolver([_dns.EndPoint]);
        await Assert.ThrowsAnyAsync<FormatException>(() => resolver.ResolveTxtAsync(new string('a', 64) + ".test", Within(30)));
        Assert.Equal(0, _dns.Queries);
    }
}
