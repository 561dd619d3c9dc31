namespace StoreSync.Libp2p.Tests;

/// <summary>Hex test vectors as written in the reference files (spaces allowed between groups).</summary>
internal static class Hex
{
    public static byte[] Bytes(string hex) => Convert.FromHexString(hex.Replace(" ", ""));

    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);
}
