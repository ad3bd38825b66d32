// Waiting inside a work item for something another thread of the same run is doing right now (a GEMM panel it packs):
// spin for a bounded time, which covers the wait whenever that thread is on a core, then sleep a millisecond at a time.
// Yielding in a loop instead degrades without bound when the machine is oversubscribed: the other thread may be
// preempted for many time slices while the waiter keeps handing its core to unrelated processes.
using System.Diagnostics;

namespace Vae.Cpu.Threading;

internal static class SpinThenSleep
{
    /// <summary>200 us: far longer than the work waited for takes on a core (packing one panel: a few microseconds).</summary>
    static readonly long SpinTicks = Stopwatch.Frequency / 5_000;

    /// <summary>Returns once <paramref name="location"/> holds <paramref name="value"/>.</summary>
    public static void UntilEqual(ref int location, int value)
    {
        if (Volatile.Read(ref location) == value) return;
        long start = Stopwatch.GetTimestamp();
        bool spinOver = false;
        for (int polls = 1; Volatile.Read(ref location) != value; polls++)
        {
            // Polls are one pause instruction apart; the clock is read every 32 of them.
            if (!spinOver && polls % 32 == 0) spinOver = Stopwatch.GetTimestamp() - start > SpinTicks;
            if (spinOver) Thread.Sleep(1);
            else Thread.SpinWait(1);
        }
    }
}
