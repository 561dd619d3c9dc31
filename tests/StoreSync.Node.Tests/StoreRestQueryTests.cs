using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using StoreSync.Core;
using StoreSync.Node.Rest;

namespace StoreSync.Node.Tests;

public class StoreRestQueryTests
{
    static IQueryCollection Query(params (string, string)[] pairs) =>
        new QueryCollection(pairs.ToDictionary(p => p.Item1, p => new StringValues(p.Item2)));

    [Fact]
    public void Nwaku_defaults_are_forward_without_data()
    {
        Assert.True(StoreRestQuery.TryParse(Query(("pubsubTopic", "/waku/2/rs/1/0"), ("contentTopics", "/a/1/b/c,/a/1/d/c")), out var r, out _));
        Assert.True(r.PaginationForward);
        Assert.False(r.IncludeData);
        Assert.Equal(["/a/1/b/c", "/a/1/d/c"], r.ContentTopics);
        Assert.False(r.HasPaginationLimit);
        Assert.NotEmpty(r.RequestId);
    }

    [Fact]
    public void Parses_every_parameter()
    {
        var hash = MessageHash.Parse("0x64cce733fed134e83da02b02c6f689814872b1a0ac97ea56b76095c3c72bfe05");
        Assert.True(StoreRestQuery.TryParse(Query(("includeData", "true"), ("startTime", "5"), ("endTime", "0"), ("ascending", "false"), ("pageSize", "7"),
            ("cursor", "ZMznM_7RNOg9oCsCxvaJgUhysaCsl-pWt2CVw8cr_gU"), ("hashes", "ZMznM/7RNOg9oCsCxvaJgUhysaCsl+pWt2CVw8cr/gU=,0x64cce733fed134e83da02b02c6f689814872b1a0ac97ea56b76095c3c72bfe05")),
            out var r, out var error), error);
        Assert.True(r.IncludeData);
        Assert.Equal(5, r.TimeStart);
        Assert.False(r.HasTimeEnd); // nwaku: only positive times count
        Assert.False(r.PaginationForward);
        Assert.Equal(7ul, r.PaginationLimit);
        Assert.Equal(hash, MessageHash.Read(r.PaginationCursor.Span));
        Assert.Equal(2, r.MessageHashes.Count);
    }

    [Theory]
    [InlineData("includeData", "yes", "include data")]
    [InlineData("startTime", "noon", "time parsing")]
    [InlineData("pageSize", "-1", "page size")]
    [InlineData("cursor", "abc", "cursor")]
    [InlineData("hashes", "abc", "hash parsing")]
    [InlineData("ascending", "up", "ascending")]
    public void Bad_parameters_get_a_clear_error(string name, string value, string expected)
    {
        Assert.False(StoreRestQuery.TryParse(Query((name, value)), out _, out var error));
        Assert.Contains(expected, error);
    }
}
