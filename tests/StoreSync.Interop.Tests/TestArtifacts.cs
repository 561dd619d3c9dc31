using System.Buffers.Binary;

namespace StoreSync.Interop.Tests;

/// <summary>Where tests keep what a person would look at (screenshots): $TEST_ARTIFACTS_DIR, set by tests/run.sh, else
/// an artifacts folder beside the test binaries.</summary>
internal static class TestArtifacts
{
    public static string Directory()
    {
        var dir = Environment.GetEnvironmentVariable("TEST_ARTIFACTS_DIR") is { Length: > 0 } configured
            ? configured : Path.Combine(AppContext.BaseDirectory, "artifacts");
        System.IO.Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Checks the file is a PNG with enough content not to be a blank page; returns its width and height.</summary>
    public static (int Width, int Height) CheckPng(string path, int minBytes = 20_000)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > minBytes, $"screenshot is only {bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        return (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }
}
