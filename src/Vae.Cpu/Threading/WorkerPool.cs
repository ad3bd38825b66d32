// Persistent worker threads that run an index range of work items without allocating per call
// (Parallel.For allocates closures and tasks). The calling thread takes part, so ThreadCount = 1 runs inline.
// Work is described by an unmanaged context struct on the caller's stack and a static function pointer.
//
// Each Run is a generation g. Its description (function, context, item count) is written to slot g % 2 before g is
// published, and items are claimed with a compare-and-swap on one 64-bit word holding (generation, next item). Slot
// g % 2 is rewritten only by run g + 2, which starts after the claim word has moved on to g + 1, so a claim of
// (g, i) that succeeds proves that the description read before it was run g's: a worker that wakes late can neither
// take an item of a later run nor run an item twice, and exactly `count` items complete per run. (With a single
// description, a worker that read the last claim word (g, n) of a finished run and then the count of the next, larger
// run could claim item n before the next generation was published: that item ran twice and the caller waited
// forever for a completion count it had already passed.)
//
// Run returns as soon as every item has COMPLETED: it never waits for a descheduled worker that has nothing left to do.
// Nobody yields the processor in a loop (under oversubscription a yield hands the core to another process for its
// whole time slice): each side spins for a bounded time, then blocks on an AutoResetEvent after announcing it with
// a full fence, and the other side re-checks the announcement after its own full fence (Dekker), so no wake-up is
// lost: an idle worker sets sleeping[i], re-reads the generation and sleeps, while the caller publishes the
// generation, then wakes every announced sleeper; the caller sets callerWaiting, re-reads `remaining` and sleeps,
// while the thread that completes the last item decrements `remaining` to 0, then wakes the caller if it announced.
// No Monitor is used: an inflated lock allocates on first contention. One caller at a time owns the workers (an
// interlocked flag); a caller from another thread that finds them taken runs its items inline instead of waiting.
using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Vae.Cpu.Threading;

public sealed unsafe class WorkerPool : IDisposable
{
    /// <summary>How long an idle worker polls for the next run before it blocks (covers the gaps inside a training step).</summary>
    static readonly long WorkerSpinTicks = Stopwatch.Frequency / 5_000;     // 200 us

    /// <summary>How long the caller polls for the other threads' last items before it blocks.</summary>
    static readonly long CallerSpinTicks = Stopwatch.Frequency / 10_000;    // 100 us

    /// <summary>Polls of a shared word (one pause instruction apart, 40-80 ns here) between two reads of the clock.</summary>
    const int PollsPerClockRead = 32;

    static WorkerPool? shared;
    [ThreadStatic] static bool insideWork;

    /// <summary>What run g does; it lives in runs[g &amp; 1].</summary>
    struct RunDescription
    {
        public delegate*<void*, int, void> Body;
        public void* Context;
        public int Count;
    }

    readonly Thread[] workers;
    readonly AutoResetEvent[] wake;
    readonly int[] sleeping;                          // 1 while worker i may be blocked on wake[i]
    readonly AutoResetEvent finished = new(false);    // set for a caller that announced callerWaiting
    readonly RunDescription[] runs = new RunDescription[2];
    int running;              // 1 while a Run is in progress (serializes callers from different threads)
    long claim;               // (generation << 32) | next item of the current run
    int remaining;            // items of the current run that have not completed yet
    int callerWaiting;        // 1 while the caller may be blocked on `finished`
    ExceptionDispatchInfo? failure;
    volatile bool disposed;

    /// <summary>Creates a pool that uses <paramref name="threadCount"/> threads including the caller's.</summary>
    public WorkerPool(int threadCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threadCount, 1);
        ThreadCount = threadCount;
        workers = new Thread[threadCount - 1];
        wake = new AutoResetEvent[workers.Length];
        sleeping = new int[workers.Length];
        for (int i = 0; i < workers.Length; i++)
        {
            wake[i] = new AutoResetEvent(false);
            workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"vae-worker-{i + 1}" };
            workers[i].Start(i);
        }
    }

    /// <summary>One pool per process with one thread per core.</summary>
    public static WorkerPool Shared
    {
        get
        {
            if (shared is null)
            {
                var created = new WorkerPool(Environment.ProcessorCount);
                if (Interlocked.CompareExchange(ref shared, created, null) is not null) created.Dispose();
            }
            return shared;
        }
    }

    public int ThreadCount { get; }

    static int Generation(long word) => (int)(word >> 32);

    /// <summary>
    /// Calls <c>work(context, i)</c> for every i in [0, count), spread over the pool's threads, and returns when all are
    /// done. Items are claimed dynamically; an item must not depend on which thread runs it. Reentrant calls (from
    /// inside a work item), calls made while another thread's run holds the workers, and pools of one thread run the
    /// items inline, in order.
    /// </summary>
    public void Run(delegate*<void*, int, void> work, void* workContext, int count)
    {
        if (count <= 0) return;
        if (count == 1 || workers.Length == 0 || insideWork)
        {
            for (int i = 0; i < count; i++) work(workContext, i);
            return;
        }
        ObjectDisposedException.ThrowIf(disposed, this);
        if (Interlocked.CompareExchange(ref running, 1, 0) != 0)
        {
            // Another thread's run holds the workers: rather than wait for it, run these items on this thread.
            // Results do not depend on which thread runs an item, and nobody spins for a turn.
            for (int i = 0; i < count; i++) work(workContext, i);
            return;
        }
        try
        {
            int generation = Generation(Volatile.Read(ref claim)) + 1;
            // Run generation - 1 used the other slot; generation - 2, the last user of this one, has completed.
            ref var run = ref runs[generation & 1];
            run.Body = work;
            run.Context = workContext;
            run.Count = count;
            failure = null;
            Volatile.Write(ref remaining, count);
            // Full fence: publishes the description, and orders the new generation before reading the sleep flags
            // (a worker sets its flag with a full fence before re-reading the generation, so no wake-up is lost).
            Interlocked.Exchange(ref claim, (long)generation << 32);
            for (int w = 0; w < wake.Length; w++)
                if (Volatile.Read(ref sleeping[w]) != 0) wake[w].Set();
            Execute(generation);
            WaitUntilAllCompleted();
            failure?.Throw();
        }
        finally
        {
            Volatile.Write(ref running, 0);
        }
    }

    /// <summary>Claims and runs items of run <paramref name="generation"/> until none are left.</summary>
    void Execute(int generation)
    {
        ref var run = ref runs[generation & 1];
        insideWork = true;
        try
        {
            while (true)
            {
                long word = Volatile.Read(ref claim);
                if (Generation(word) != generation) return;
                // The slot may already hold run generation + 2 when this thread is late; then the claim below fails
                // (the word moved on before the slot was rewritten) or the run is over anyway (count too small).
                var body = run.Body;
                void* context = run.Context;
                int count = run.Count;
                int item = (int)word;
                if (item >= count) return;
                if (Interlocked.CompareExchange(ref claim, word + 1, word) != word) continue;
                try
                {
                    body(context, item);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null);
                }
                // Full fence, then the caller's flag: the last item wakes a caller that announced it would sleep.
                if (Interlocked.Decrement(ref remaining) == 0 && Volatile.Read(ref callerWaiting) != 0) finished.Set();
            }
        }
        finally
        {
            insideWork = false;
        }
    }

    /// <summary>The caller's wait for items still running on workers: a bounded spin, then a kernel wait.</summary>
    void WaitUntilAllCompleted()
    {
        if (Volatile.Read(ref remaining) == 0) return;
        long start = Stopwatch.GetTimestamp();
        for (int polls = 1; Volatile.Read(ref remaining) != 0; polls++)
        {
            if (polls % PollsPerClockRead == 0 && Stopwatch.GetTimestamp() - start > CallerSpinTicks)
            {
                Interlocked.Exchange(ref callerWaiting, 1);
                // A Set left over from an earlier run only costs one extra pass of this loop.
                while (Volatile.Read(ref remaining) != 0) finished.WaitOne();
                Volatile.Write(ref callerWaiting, 0);
                return;
            }
            Thread.SpinWait(1);
        }
    }

    /// <summary>A worker's wait for a generation after <paramref name="seen"/>: a bounded spin, then a kernel wait.</summary>
    void WaitForNextRun(int index, int seen)
    {
        long start = Stopwatch.GetTimestamp();
        for (int polls = 1; Generation(Volatile.Read(ref claim)) == seen && !disposed; polls++)
        {
            if (polls % PollsPerClockRead == 0 && Stopwatch.GetTimestamp() - start > WorkerSpinTicks)
            {
                Interlocked.Exchange(ref sleeping[index], 1);
                while (Generation(Volatile.Read(ref claim)) == seen && !disposed) wake[index].WaitOne();
                Volatile.Write(ref sleeping[index], 0);
                return;
            }
            Thread.SpinWait(1);
        }
    }

    void WorkerLoop(object? state)
    {
        int index = (int)state!;
        int seen = 0;
        while (true)
        {
            WaitForNextRun(index, seen);
            if (disposed) return;
            seen = Generation(Volatile.Read(ref claim));
            Execute(seen);
        }
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var e in wake) e.Set();
        foreach (var t in workers) t.Join();
        foreach (var e in wake) e.Dispose();
        finished.Dispose();
    }
}
