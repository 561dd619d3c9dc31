using System.Runtime.InteropServices;

namespace StoreSync.Core;

/// <summary>SHA-256 of up to three byte ranges in a row, through libcrypto's low-level <c>SHA256_Init/Update/Final</c> on a context on
/// the stack: no copy of the ranges into one buffer, no allocation.</summary>
/// <remarks>
/// .NET's <c>SHA256.HashData</c> on Linux goes through OpenSSL's EVP layer: every call creates and frees a digest context, fetches the
/// algorithm and clears OpenSSL's error queue, measured as a third of ingest's SHA-256 CPU (spec/performance.md, "Ingest against
/// RocksDB's floor"). The low-level functions run the same compression code (SHA-NI where the CPU has it) without that overhead.
/// Where no libcrypto with them can be loaded (not Linux, another OpenSSL), <see cref="IsAvailable"/> is false and <see cref="Hash"/>
/// copies the ranges into one buffer for <c>SHA256.HashData</c>: the same digest, at the cost those calls avoid.
/// </remarks>
public static unsafe class OpenSslSha256
{
    /// <summary>Bytes of OpenSSL's <c>SHA256_CTX</c> (8 + 2 + 16 + 2 words of 4 bytes = 112), with room to spare.</summary>
    const int ContextBytes = 128;

    static readonly delegate* unmanaged<byte*, int> Init;
    static readonly delegate* unmanaged<byte*, byte*, nuint, int> Update;
    static readonly delegate* unmanaged<byte*, byte*, int> Final;

    /// <summary>Whether libcrypto's low-level SHA-256 was found (libcrypto.so.3 or .so.1.1, both export it).</summary>
    public static bool IsAvailable { get; }

    static OpenSslSha256()
    {
        if (!OperatingSystem.IsLinux()) return;
        foreach (string name in (ReadOnlySpan<string>)["libcrypto.so.3", "libcrypto.so.1.1"])
        {
            if (!NativeLibrary.TryLoad(name, out nint library)) continue;
            if (NativeLibrary.TryGetExport(library, "SHA256_Init", out nint init)
                && NativeLibrary.TryGetExport(library, "SHA256_Update", out nint update)
                && NativeLibrary.TryGetExport(library, "SHA256_Final", out nint final))
            {
                Init = (delegate* unmanaged<byte*, int>)init;
                Update = (delegate* unmanaged<byte*, byte*, nuint, int>)update;
                Final = (delegate* unmanaged<byte*, byte*, int>)final;
                IsAvailable = true;
                return;
            }
        }
    }

    /// <summary>Writes sha256(<paramref name="a"/> ‖ <paramref name="b"/> ‖ <paramref name="c"/>) into the first 32 bytes of
    /// <paramref name="digest"/>.</summary>
    public static void Hash(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c, Span<byte> digest)
    {
        if (digest.Length < 32) throw new ArgumentException("a SHA-256 digest is 32 bytes", nameof(digest));
        if (!IsAvailable)
        {
            HashGathered(a, b, c, digest);
            return;
        }
        byte* context = stackalloc byte[ContextBytes];
        fixed (byte* pa = a)
        fixed (byte* pb = b)
        fixed (byte* pc = c)
        fixed (byte* pd = digest)
        {
            // Each returns 1; with a valid context and lengths they cannot fail (OpenSSL's sha256.c).
            Init(context);
            if (a.Length > 0) Update(context, pa, (nuint)a.Length);
            if (b.Length > 0) Update(context, pb, (nuint)b.Length);
            if (c.Length > 0) Update(context, pc, (nuint)c.Length);
            Final(pd, context);
        }
    }

    internal static void HashGathered(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c, Span<byte> digest)
    {
        int total = checked(a.Length + b.Length + c.Length);
        byte[]? rented = null;
        Span<byte> buffer = total <= 1024 ? stackalloc byte[total] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(total));
        try
        {
            a.CopyTo(buffer);
            b.CopyTo(buffer[a.Length..]);
            c.CopyTo(buffer[(a.Length + b.Length)..]);
            System.Security.Cryptography.SHA256.HashData(buffer[..total], digest);
        }
        finally
        {
            if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
