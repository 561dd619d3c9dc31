using FsCheck.Xunit;
using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Libp2p.Tests.Multiformats;

/// <summary>Base58btc and base32 against known values, round trips and rejection of invalid text.</summary>
public class BaseEncodingTests
{
    [Theory]
    [InlineData("", "")]
    [InlineData("000001", "112")]
    [InlineData("48656c6c6f20576f726c6421", "2NEpo7TZRRrLZSi2U")]
    public void Base58_known_values(string hex, string text)
    {
        Assert.Equal(text, Base58.Encode(Hex.Bytes(hex)));
        Assert.Equal(hex, Hex.Of(Base58.Decode(text)));
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("66", "my")]
    [InlineData("666f6f626172", "mzxw6ytboi")]
    public void Base32_known_values(string hex, string text)
    {
        Assert.Equal(text, Base32.Encode(Hex.Bytes(hex)));
        Assert.Equal(hex, Hex.Of(Base32.Decode(text)));
        Assert.Equal(hex, Hex.Of(Base32.Decode(text.ToUpperInvariant())));
    }

    [Property(MaxTest = 300)]
    public bool Base58_round_trips(byte[] data) => Base58.Decode(Base58.Encode(data)).AsSpan().SequenceEqual(data);

    [Property(MaxTest = 300)]
    public bool Base32_round_trips(byte[] data) => Base32.Decode(Base32.Encode(data)).AsSpan().SequenceEqual(data);

    [Theory]
    [InlineData("0OIl")]
    [InlineData("abc+")]
    public void Base58_rejects_characters_outside_the_alphabet(string text) =>
        Assert.Contains("invalid base58 character", Assert.Throws<FormatException>(() => Base58.Decode(text)).Message);

    [Theory]
    [InlineData("a", "impossible")]
    [InlineData("mz1a", "invalid base32 character '1'")]
    [InlineData("mz", "non-zero trailing bits")]
    [InlineData("my======", "invalid base32 character '='")]
    public void Base32_rejects_bad_text(string text, string fragment) =>
        Assert.Contains(fragment, Assert.Throws<FormatException>(() => Base32.Decode(text)).Message);

    [Fact]
    public void Base58_refuses_oversized_text() =>
        Assert.Contains("longer than 1024", Assert.Throws<FormatException>(() => Base58.Decode(new string('2', 1025))).Message);
}
