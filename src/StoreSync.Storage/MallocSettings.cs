using System.Runtime.InteropServices;

namespace StoreSync.Storage;

/// <summary>Makes glibc give RocksDB's large freed blocks back to the kernel, so the process's RSS follows RocksDB's own memory budget.</summary>
/// <remarks>
/// RocksDB allocates memtables in arena blocks of megabytes and frees them when the memtable is flushed. glibc raises its
/// mmap threshold every time such a block is freed, so later blocks come from the heap and stay resident after they are
/// freed: measured, 197 MiB of anonymous RSS for 84 MiB that RocksDB and the GC hold (spec/storage.md, "Memory"). A fixed threshold
/// (which also turns off glibc's dynamic adjustment) sends blocks of at least <see cref="MmapThresholdBytes"/> to mmap, and
/// munmap returns them when freed. Process-wide and idempotent; a no-op where the C library has no mallopt (non-glibc).
/// </remarks>
internal static partial class MallocSettings
{
    const int MallocMmapThreshold = -3; // M_MMAP_THRESHOLD in glibc's malloc.h
    const int MmapThresholdBytes = 512 << 10;

    static int _applied;

    public static void Apply()
    {
        if (!OperatingSystem.IsLinux() || Interlocked.Exchange(ref _applied, 1) == 1) return;
        try { _ = MallOpt(MallocMmapThreshold, MmapThresholdBytes); }
        catch (EntryPointNotFoundException) { }
        catch (DllNotFoundException) { }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int MallOpt(int parameter, int value);
}
