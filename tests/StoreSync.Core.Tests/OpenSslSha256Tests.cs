using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace StoreSync.Core.Tests;

public class OpenSslSha256Tests
{
    [Fact]
    public void Is_available_on_linux()
    {
        // The message hash's fast path; without it every hash falls back to SHA256.HashData (correct, slower).
        Assert.Equal(OperatingSystem.IsLinux(), OpenSslSha256.IsAvailable);
    }

    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(3, 0, 0)]
    [InlineData(0, 0, 55)]
    [InlineData(0, 64, 0)]
    [InlineData(26, 1024, 38)]
    [InlineData(63, 1, 64)]
    [InlineData(700, 150_000, 129)]
    public void Three_ranges_hash_as_their_concatenation(int a, int b, int c)
    {
        if (!OpenSslSha256.IsAvailable) return;
        var bytes = new byte[a + b + c];
        new Random(a * 31 + b * 7 + c).NextBytes(bytes);
        var digest = new byte[32];
        OpenSslSha256.Hash(bytes.AsSpan(0, a), bytes.AsSpan(a, b), bytes.AsSpan(a + b, c), digest);
        Assert.Equal(SHA256.HashData(bytes), digest);
    }

    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(26, 1024, 38)]
    [InlineData(700, 150_000, 129)]
    public void Without_libcrypto_the_ranges_are_gathered_and_hash_the_same(int a, int b, int c)
    {
        var bytes = new byte[a + b + c];
        new Random(a * 31 + b * 7 + c).NextBytes(bytes);
        var digest = new byte[32];
        OpenSslSha256.HashGathered(bytes.AsSpan(0, a), bytes.AsSpan(a, b), bytes.AsSpan(a + b, c), digest);
        Assert.Equal(SHA256.HashData(bytes), digest);
    }

    [Fact]
    public void Message_hash_equals_the_hash_of_the_concatenation_for_random_messages()
    {
        // Topics and meta of every length class (the gathered parts on the stack or rented), payloads up to 4 KiB.
        var random = new Random(17);
        for (int round = 0; round < 500; round++)
        {
            string pubsub = new('p', random.Next(1, round % 5 == 0 ? 900 : 40));
            string content = "/c/" + new string('é', random.Next(0, round % 7 == 0 ? 400 : 20));
            var payload = new byte[random.Next(0, 4096)];
            var meta = new byte[random.Next(0, 65)];
            random.NextBytes(payload);
            random.NextBytes(meta);
            long timestamp = random.NextInt64(long.MinValue, long.MaxValue);
            var whole = new List<byte>();
            whole.AddRange(Encoding.UTF8.GetBytes(pubsub));
            whole.AddRange(payload);
            whole.AddRange(Encoding.UTF8.GetBytes(content));
            whole.AddRange(meta);
            var ts = new byte[8];
            BinaryPrimitives.WriteInt64BigEndian(ts, timestamp);
            whole.AddRange(ts);
            var expected = MessageHash.Read(SHA256.HashData(whole.ToArray()));
            Assert.Equal(expected, MessageHash.Compute(pubsub, payload, content, meta, timestamp));
        }
    }
}
