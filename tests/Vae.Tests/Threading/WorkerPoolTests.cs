// WorkerPool: every item of every run runs exactly once, for any thread and item count; workers that went to sleep
// between runs are woken; a caller that blocks on a worker's slow item is woken; an item's exception reaches the
// caller; callers on several threads sharing a pool each get their items run once (one runs them inline). The
// regression test drives several pools at once, about eight threads per core, alternating runs of 2 items
// with larger runs: the old pool, with one shared run description, let a late worker claim item 2 of the next run
// before it was published, so that item ran twice and the caller waited forever for a completion count it had passed.
// Runs are driven on background threads and watched for progress: a hang fails the test after StallLimit without
// progress (generous; nothing asserts on speed), and a hung driver thread is left behind rather than blocking the host.
using System.Diagnostics;
using System.Runtime.InteropServices;
using Vae.Cpu.Threading;
using Xunit;

namespace Vae.Tests.Threading;

public sealed unsafe class WorkerPoolTests
{
    /// <summary>A correct pool never goes this long without finishing a run; a hung one never finishes another.</summary>
    static readonly TimeSpan StallLimit = TimeSpan.FromMinutes(2);

    /// <summary>Room for the largest run of these tests; items beyond a run's count must stay untouched.</summary>
    const int MaxItems = 64;

    /// <summary>What the work items of one driver share: how often each item ran, and the rendezvous counter.</summary>
    struct Tally
    {
        public fixed int Hits[MaxItems];
        public int Arrived;
        public int Count;
        public int SlowItem;
        public int ThrowingItem;
    }

    static void CountItem(void* context, int item) => Interlocked.Increment(ref ((Tally*)context)->Hits[item]);

    /// <summary>Counts the item, then waits until every item of the run has started: each thread must take one.</summary>
    static void CountItemAndMeetTheOthers(void* context, int item)
    {
        var tally = (Tally*)context;
        Interlocked.Increment(ref tally->Hits[item]);
        Interlocked.Increment(ref tally->Arrived);
        var wait = new SpinWait();
        while (Volatile.Read(ref tally->Arrived) < tally->Count) wait.SpinOnce();
    }

    static void CountItemSleepingOnOne(void* context, int item)
    {
        var tally = (Tally*)context;
        if (item == tally->SlowItem) Thread.Sleep(1);
        Interlocked.Increment(ref tally->Hits[item]);
    }

    static void CountItemThrowingOnOne(void* context, int item)
    {
        var tally = (Tally*)context;
        Interlocked.Increment(ref tally->Hits[item]);
        if (item == tally->ThrowingItem) throw new InvalidOperationException($"item {item} failed on purpose");
    }

    /// <summary>Checks that items [0, count) ran once and the others never, then clears the counts for the next run.</summary>
    static string? CheckAndClear(Tally* tally, int count, string run)
    {
        string? error = null;
        for (int i = 0; i < MaxItems; i++)
        {
            int expected = i < count ? 1 : 0;
            if (tally->Hits[i] != expected && error is null) error = $"{run} (count {count}): item {i} ran {tally->Hits[i]} times, expected {expected}";
            tally->Hits[i] = 0;
        }
        return error;
    }

    /// <summary>
    /// Runs <paramref name="drivers"/> loops at once on background threads; each calls its step with the run index and
    /// returns an error text or null. Fails on the first error, or when no loop finished a step for StallLimit.
    /// </summary>
    static void DriveAndWatch(int drivers, int steps, Func<int, int, string?> step)
    {
        var progress = new long[drivers];
        string? firstError = null;
        var threads = new Thread[drivers];
        for (int d = 0; d < drivers; d++)
        {
            int driver = d;
            threads[d] = new Thread(() =>
            {
                try
                {
                    for (int s = 0; s < steps && Volatile.Read(ref firstError) is null; s++)
                    {
                        string? error = step(driver, s);
                        if (error is not null) Interlocked.CompareExchange(ref firstError, $"driver {driver}: {error}", null);
                        Volatile.Write(ref progress[driver], s + 1);
                    }
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref firstError, $"driver {driver}: {e}", null);
                }
            }) { IsBackground = true, Name = $"pool-test-driver-{d}" };
            threads[d].Start();
        }
        var last = new long[drivers];
        var sinceProgress = Stopwatch.StartNew();
        while (true)
        {
            bool allDone = threads.All(t => t.Join(50));
            Assert.True(Volatile.Read(ref firstError) is null, Volatile.Read(ref firstError));
            if (allDone) return;
            for (int d = 0; d < drivers; d++)
            {
                long now = Volatile.Read(ref progress[d]);
                if (now != last[d]) sinceProgress.Restart();
                last[d] = now;
            }
            Assert.True(sinceProgress.Elapsed < StallLimit,
                $"no run finished for {StallLimit.TotalSeconds} s: the pool hangs (runs finished per driver: {string.Join(", ", last)} of {steps})");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void Every_item_runs_exactly_once_for_any_count(int threads)
    {
        using var pool = new WorkerPool(threads);
        var tally = (Tally*)NativeMemory.AllocZeroed((nuint)sizeof(Tally));
        try
        {
            for (int repeat = 0; repeat < 20; repeat++)
            {
                for (int count = 0; count <= MaxItems; count++)
                {
                    pool.Run(&CountItem, tally, count);
                    string? error = CheckAndClear(tally, count, $"{threads} threads, repeat {repeat}");
                    Assert.True(error is null, error);
                }
            }
        }
        finally
        {
            NativeMemory.Free(tally);
        }
    }

    [Fact]
    public void Oversubscribed_pools_never_run_an_item_twice_nor_hang()
    {
        // About eight threads per core (two callers per core, each with three workers), so that threads are preempted
        // anywhere, including between reading the claim word and claiming; the old pool failed here within seconds.
        int pools = Math.Clamp(2 * Environment.ProcessorCount, 4, 32);
        const int ThreadsPerPool = 4, RunsPerPool = 300_000;
        var owned = new WorkerPool[pools];
        var tallies = new nint[pools];
        for (int p = 0; p < pools; p++)
        {
            owned[p] = new WorkerPool(ThreadsPerPool);
            tallies[p] = (nint)NativeMemory.AllocZeroed((nuint)sizeof(Tally));
        }
        DriveAndWatch(pools, RunsPerPool, (p, run) =>
        {
            // Every other run has 2 items; the runs in between have 3 to 64.
            int count = (run & 1) == 0 ? 2 : 3 + (run >> 1) % (MaxItems - 2);
            var tally = (Tally*)tallies[p];
            owned[p].Run(&CountItem, tally, count);
            return CheckAndClear(tally, count, $"run {run}");
        });
        // Only reached when no run hung: a hung caller still uses its pool and tally.
        for (int p = 0; p < pools; p++)
        {
            owned[p].Dispose();
            NativeMemory.Free((void*)tallies[p]);
        }
    }

    [Fact]
    public void Callers_on_several_threads_sharing_one_pool_each_get_every_item_run_exactly_once()
    {
        // Whoever finds the workers taken runs its items inline; every run still runs each of its items once.
        using var pool = new WorkerPool(3);
        const int Callers = 4;
        var tallies = new nint[Callers];
        for (int c = 0; c < Callers; c++) tallies[c] = (nint)NativeMemory.AllocZeroed((nuint)sizeof(Tally));
        try
        {
            DriveAndWatch(Callers, 20_000, (c, run) =>
            {
                int count = 2 + (run * 7 + c) % (MaxItems - 1);
                var tally = (Tally*)tallies[c];
                pool.Run(&CountItem, tally, count);
                return CheckAndClear(tally, count, $"run {run}");
            });
        }
        finally
        {
            foreach (var t in tallies) NativeMemory.Free((void*)t);
        }
    }

    [Fact]
    public void SpinThenSleep_returns_once_another_thread_sets_the_value_after_the_spin_is_over()
    {
        // The value changes after a sleep far longer than the spin, so the wait passes through its sleeping phase.
        var flag = new int[1];
        var setter = new Thread(() =>
        {
            Thread.Sleep(20);
            Volatile.Write(ref flag[0], 2);
        });
        setter.Start();
        SpinThenSleep.UntilEqual(ref flag[0], 2);
        Assert.Equal(2, Volatile.Read(ref flag[0]));
        setter.Join();
        SpinThenSleep.UntilEqual(ref flag[0], 2);   // already equal: returns at once
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Workers_asleep_after_an_idle_gap_are_woken_for_the_next_run(int threads)
    {
        // Each item waits until all have started, so a run finishes only if every worker woke up and took one.
        using var pool = new WorkerPool(threads);
        var tally = (Tally*)NativeMemory.AllocZeroed((nuint)sizeof(Tally));
        try
        {
            DriveAndWatch(1, 200, (_, run) =>
            {
                Thread.Sleep(2);   // far longer than a worker polls before it blocks
                tally->Arrived = 0;
                tally->Count = threads;
                pool.Run(&CountItemAndMeetTheOthers, tally, threads);
                return CheckAndClear(tally, threads, $"run {run}");
            });
        }
        finally
        {
            NativeMemory.Free(tally);
        }
    }

    [Fact]
    public void A_caller_waiting_for_a_slow_item_on_a_worker_is_woken()
    {
        // One item of each run sleeps, longer than the caller polls, so whenever a worker has it the caller blocks.
        using var pool = new WorkerPool(2);
        var tally = (Tally*)NativeMemory.AllocZeroed((nuint)sizeof(Tally));
        try
        {
            DriveAndWatch(1, 300, (_, run) =>
            {
                int count = 2 + run % 3;
                tally->SlowItem = run % count;
                pool.Run(&CountItemSleepingOnOne, tally, count);
                return CheckAndClear(tally, count, $"run {run}");
            });
        }
        finally
        {
            NativeMemory.Free(tally);
        }
    }

    [Fact]
    public void An_items_exception_reaches_the_caller_after_the_other_items_ran_and_the_pool_stays_usable()
    {
        using var pool = new WorkerPool(3);
        var tally = (Tally*)NativeMemory.AllocZeroed((nuint)sizeof(Tally));
        try
        {
            tally->ThrowingItem = 17;
            var e = Assert.Throws<InvalidOperationException>(() => pool.Run(&CountItemThrowingOnOne, tally, 50));
            Assert.Equal("item 17 failed on purpose", e.Message);
            Assert.Null(CheckAndClear(tally, 50, "throwing run"));
            pool.Run(&CountItem, tally, 50);
            Assert.Null(CheckAndClear(tally, 50, "run after the throwing run"));
        }
        finally
        {
            NativeMemory.Free(tally);
        }
    }
}
