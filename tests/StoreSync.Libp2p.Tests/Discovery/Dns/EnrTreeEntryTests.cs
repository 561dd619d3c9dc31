using StoreSync.Libp2p.Discovery.Dns;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Tests.Discovery.Dns;

/// <summary>The EIP-1459 example records parse and verify; malformed roots, branches, leaves and URLs are refused.</summary>
public class EnrTreeEntryTests
{
    /// <summary>The key that signed the example root (the EIP's prose names the link's key, which did not sign it).</summary>
    internal const string ExampleKey = "AKPYQIUQIL7PSIACI32J7FGZW56E5FKHEFCCOFHILBIMW3M6LWXS2";
    internal const string LinkKey = "AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2";
    internal const string ExampleRoot =
        "enrtree-root:v1 e=JWXYDBPXYWG6FX3GMDIBFA6CJ4 l=C7HRFPF3BLGF3YR4DY5KX3SMBE seq=1 sig=o908WmNp7LibOfPsr4btQwatZJ5URBr2ZAuxvK4UWHlsB9sUOTJQaGAlLPVAhM__XJesCHxLISo94z5Z2a463gA";

    /// <summary>The example zone of EIP-1459, "DNS Record Structure".</summary>
    internal static readonly Dictionary<string, string> ExampleZone = new()
    {
        ["nodes.example.org"] = ExampleRoot,
        ["C7HRFPF3BLGF3YR4DY5KX3SMBE.nodes.example.org"] = "enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@morenodes.example.org",
        ["JWXYDBPXYWG6FX3GMDIBFA6CJ4.nodes.example.org"] = "enrtree-branch:2XS2367YHAXJFGLZHVAWLQD4ZY,H4FHT4B454P6UXFD7JCYQ5PWDY,MHTDO6TMUBRIA2XWG5LUDACK24",
        ["2XS2367YHAXJFGLZHVAWLQD4ZY.nodes.example.org"] = "enr:-HW4QOFzoVLaFJnNhbgMoDXPnOvcdVuj7pDpqRvh6BRDO68aVi5ZcjB3vzQRZH2IcLBGHzo8uUN3snqmgTiE56CH3AMBgmlkgnY0iXNlY3AyNTZrMaECC2_24YYkYHEgdzxlSNKQEnHhuNAbNlMlWJxrJxbAFvA",
        ["H4FHT4B454P6UXFD7JCYQ5PWDY.nodes.example.org"] = "enr:-HW4QAggRauloj2SDLtIHN1XBkvhFZ1vtf1raYQp9TBW2RD5EEawDzbtSmlXUfnaHcvwOizhVYLtr7e6vw7NAf6mTuoCgmlkgnY0iXNlY3AyNTZrMaECjrXI8TLNXU0f8cthpAMxEshUyQlK-AM0PW2wfrnacNI",
        ["MHTDO6TMUBRIA2XWG5LUDACK24.nodes.example.org"] = "enr:-HW4QLAYqmrwllBEnzWWs7I5Ev2IAs7x_dZlbYdRdMUx5EyKHDXp7AV5CkuPGUPdvbv1_Ms1CPfhcGCvSElSosZmyoqAgmlkgnY0iXNlY3AyNTZrMaECriawHKWdDRk2xeZkrOXBQ0dfMFLHY4eENZwdufn1S1o",
    };

    [Fact]
    public void The_example_root_parses_and_is_signed_by_the_example_key()
    {
        var root = EnrTreeRoot.Parse(ExampleRoot);
        Assert.Equal("JWXYDBPXYWG6FX3GMDIBFA6CJ4", root.EnrRoot);
        Assert.Equal("C7HRFPF3BLGF3YR4DY5KX3SMBE", root.LinkRoot);
        Assert.Equal(1ul, root.Seq);
        Assert.Equal(ExampleRoot, root.ToString());
        var url = EnrTreeUrl.Parse($"enrtree://{ExampleKey}@nodes.example.org");
        Assert.True(root.IsSignedBy(url.PublicKey.Span));
        Assert.False((root with { Seq = 2 }).IsSignedBy(url.PublicKey.Span));
        Assert.False(root.IsSignedBy(EnrTreeUrl.Parse($"enrtree://{LinkKey}@nodes.example.org").PublicKey.Span));
    }

    [Fact]
    public void Every_example_entry_hashes_to_its_name()
    {
        foreach (var (name, text) in ExampleZone.Where(z => z.Key != "nodes.example.org"))
        {
            string hash = name.Split('.')[0];
            Assert.Equal(hash, EnrTreeHash.Of(text));
            Assert.True(EnrTreeHash.Matches(hash, text));
            Assert.NotNull(EnrTreeEntry.TryParse(text));
        }
        Assert.False(EnrTreeHash.Matches("JWXYDBPXYWG6FX3GMDIBFA6CJ4", "enr:AAAA"));
    }

    [Fact]
    public void A_root_signed_here_verifies_and_round_trips()
    {
        var key = Secp256k1Signatures.GeneratePrivateKey();
        var root = EnrTreeRoot.Sign("JWXYDBPXYWG6FX3GMDIBFA6CJ4", "C7HRFPF3BLGF3YR4DY5KX3SMBE", 42, key);
        var parsed = EnrTreeRoot.Parse(root.ToString());
        Assert.True(parsed.IsSignedBy(Secp256k1Signatures.PublicKeyOf(key)));
        Assert.True(parsed.Signature.Span[64] is 0 or 1);
    }

    [Theory]
    [InlineData("gibberish")]
    [InlineData("enrtree-root:v1e=JWXYDBPXYWG6FX3GMDIBFA6CJ4 l=C7HRFPF3BLGF3YR4DY5KX3SMBE seq=1 sig=o908WmNp7LibOfPsr4btQwatZJ5URBr2ZAuxvK4UWHlsB9sUOTJQaGAlLPVAhM__XJesCHxLISo94z5Z2a463gA")]
    [InlineData("enrtree-root:v1 e=JWXYDBPXYWG6FX3GMDIBFA6CJ l=C7HRFPF3BLGF3YR4DY5KX3SMBE seq=1 sig=o908WmNp7LibOfPsr4btQwatZJ5URBr2ZAuxvK4UWHlsB9sUOTJQaGAlLPVAhM__XJesCHxLISo94z5Z2a463gA")]
    [InlineData("enrtree-root:v1 e=JWXYDBPXYWG6FX3GMDIBFA6CJ4 l=C7HRFPF3BLGF3YR4DY5KX3SMBE seq=-1 sig=o908WmNp7LibOfPsr4btQwatZJ5URBr2ZAuxvK4UWHlsB9sUOTJQaGAlLPVAhM__XJesCHxLISo94z5Z2a463gA")]
    [InlineData("enrtree-root:v1 e=JWXYDBPXYWG6FX3GMDIBFA6CJ4 l=C7HRFPF3BLGF3YR4DY5KX3SMBE seq=1 sig=o908WmNp7LibOfPsr4btQwatZJ5URBr2ZAuxvK4UWHlsB9sUOTJQaGAlLPVAhM__XJesCHxLISo94z5Z2a463g")]
    [InlineData("enrtree-root:v1 e=JWXYDBPXYWG6FX3GMDIBFA6CJ4 l=C7HRFPF3BLGF3YR4DY5KX3SMBE seq=1 sig=o908WmNp7LibOfPsr4btQwatZJ5URBr2ZAuxvK4UWHlsB9sUOTJQaGAlLPVAhM__XJesCHxLISo94z5Z2a463gA extra=1")]
    public void Malformed_roots_are_refused(string text) => Assert.ThrowsAny<FormatException>(() => EnrTreeRoot.Parse(text));

    [Theory]
    [InlineData("enrtree-branch: 2XS2367YHAXJFGLZHVAWLQD4ZY,H4FHT4B454P6UXFD7JCYQ5PWDY")]
    [InlineData("enrtree-branch:2XS2367YHAXJFGLZHVAWLQD4ZY,H4FHT4B454P6UXFD7JCYQ5PWD")]
    [InlineData("enrtree-branch:2XS2367YHAXJFGLZHVAWLQD4ZY,,H4FHT4B454P6UXFD7JCYQ5PWDY")]
    [InlineData("enr:-HW4Q+OFzoVLaFJnNhbg")]
    [InlineData("enr:")]
    [InlineData("enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5DPRT2@morenodes.example.org")]
    [InlineData("enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2#morenodes.example.org")]
    [InlineData("enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@more..example.org")]
    [InlineData("enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@")]
    public void Malformed_entries_are_refused(string text) => Assert.ThrowsAny<FormatException>(() => EnrTreeEntry.TryParse(text));

    [Fact]
    public void Oversized_and_foreign_entries()
    {
        Assert.ThrowsAny<FormatException>(() => EnrTreeEntry.TryParse("enr:" + new string('A', DnsDiscoveryLimits.MaxRecordTextLength)));
        var wide = "enrtree-branch:" + string.Join(',', Enumerable.Repeat("2XS2367YHAXJFGLZHVAWLQD4ZY", DnsDiscoveryLimits.MaxBranchChildren + 1));
        Assert.ThrowsAny<FormatException>(() => EnrTreeEntry.TryParse(wide));
        Assert.Null(EnrTreeEntry.TryParse("v=spf1 -all"));
        Assert.Empty(Assert.IsType<EnrTreeBranch>(EnrTreeEntry.TryParse("enrtree-branch:")).Children);
    }

    [Fact]
    public void Url_round_trips_and_lower_cases_the_domain()
    {
        var url = EnrTreeUrl.Parse($"enrtree://{LinkKey}@Nodes.Example.org.");
        Assert.Equal("nodes.example.org", url.Domain);
        Assert.Equal($"enrtree://{LinkKey}@nodes.example.org", url.ToString());
        Assert.Equal(url, EnrTreeUrl.Parse(url.ToString()));
        Assert.False(EnrTreeUrl.TryParse("https://example.org", out _));
    }
}
