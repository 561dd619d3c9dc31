using System.Runtime.InteropServices;

namespace StoreSync.Benchmarks;

/// <summary>The calling thread's CPU time (Linux clock_gettime CLOCK_THREAD_CPUTIME_ID): a cost that neighbours on a shared machine inflate far less than wall time.</summary>
internal static partial class ThreadCpu
{
    const int ClockThreadCpuTimeId = 3;

    [StructLayout(LayoutKind.Sequential)]
    struct TimeSpec { public long Seconds; public long Nanoseconds; }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    public static long Nanoseconds() => ClockGetTime(ClockThreadCpuTimeId, out var t) == 0 ? t.Seconds * 1_000_000_000 + t.Nanoseconds : 0;
}
