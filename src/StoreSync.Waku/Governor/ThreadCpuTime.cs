using System.Runtime.InteropServices;

namespace StoreSync.Waku.Governor;

/// <summary>CPU time consumed by the calling thread (Linux <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>), to measure handler work.</summary>
/// <remarks>
/// Only a synchronous stretch of code can be measured this way: across an <c>await</c> the work may continue on another
/// thread. Handlers therefore measure their compute sections (decoding, the query, encoding, reconciliation, hashing,
/// storing) and not the time spent waiting for or in the network layers. On other systems <see cref="Supported"/> is false
/// and every reading is 0.
/// </remarks>
public static partial class ThreadCpuTime
{
    const int ClockThreadCpuTimeId = 3;

    [StructLayout(LayoutKind.Sequential)]
    struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out Timespec time);

    public static bool Supported { get; } = Probe();

    static bool Probe()
    {
        if (!OperatingSystem.IsLinux() || !Environment.Is64BitProcess) return false;
        try { return ClockGetTime(ClockThreadCpuTimeId, out _) == 0; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }

    /// <summary>The calling thread's CPU time so far, in nanoseconds (0 when unsupported).</summary>
    public static long Now()
    {
        if (!Supported || ClockGetTime(ClockThreadCpuTimeId, out var t) != 0) return 0;
        return t.Seconds * 1_000_000_000 + t.Nanoseconds;
    }
}
