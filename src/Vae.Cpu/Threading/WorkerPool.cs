// Persistent worker threads that run an index range of work items without allocating per call
// (Parallel.For allocates closures and tasks). The calling thread takes part, so ThreadCount = 1 runs inline.
// Work is described by an unmanaged context struct on the caller's stack and a static function pointer.
//
// Each Run is a generation. Items are claimed with a compare-and-swap on one 64-bit word holding
// (generation, next item), so a worker that wakes late can never take an item of a later run, and Run returns as
// soon as every item has COMPLETED: it never waits for a descheduled worker that has nothing left to do.
// No Monitor is used: an inflated lock allocates on first contention, so callers are serialized by an interlocked flag
// and idle workers sleep on their own AutoResetEvent, woken by the caller only when they announced that they sleep.
using System.Runtime.ExceptionServices;

namespace Vae.Cpu.Threading;

public sealed unsafe class WorkerPool : IDisposable
{
    const int SpinIterations = 4000;   // roughly 0.1-1 ms of spinning before an idle worker blocks

    static WorkerPool? shared;
    [ThreadStatic] static bool insideWork;

    readonly Thread[] workers;
    readonly AutoResetEvent[] wake;
    readonly int[] sleeping;   // 1 while worker i may be blocked on wake[i]
    int running;               // 1 while a Run is in progress (serializes callers from different threads)
    long claim;              // (generation << 32) | next item of the current run
    int completed;           // items of the current run that have finished
    int itemCount;
    delegate*<void*, int, void> body;
    void* context;
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
            if (shared is null) Interlocked.CompareExchange(ref shared, new WorkerPool(Environment.ProcessorCount), null);
            return shared;
        }
    }

    public int ThreadCount { get; }

    static int Generation(long word) => (int)(word >> 32);

    /// <summary>
    /// Calls <c>work(context, i)</c> for every i in [0, count), spread over the pool's threads, and returns when all are
    /// done. Items are claimed dynamically; an item must not depend on which thread runs it. Reentrant calls (from
    /// inside a work item) and pools of one thread run the items inline, in order.
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
        var waitForTurn = new SpinWait();
        while (Interlocked.CompareExchange(ref running, 1, 0) != 0) waitForTurn.SpinOnce();
        try
        {
            body = work;
            context = workContext;
            itemCount = count;
            failure = null;
            Volatile.Write(ref completed, 0);
            int generation = Generation(Volatile.Read(ref claim)) + 1;
            // Full fence: publishes body, context and count, and orders the new generation before reading the sleep flags
            // (a worker sets its flag with a full fence before re-reading the generation, so no wake-up is lost).
            Interlocked.Exchange(ref claim, (long)generation << 32);
            for (int w = 0; w < wake.Length; w++)
                if (Volatile.Read(ref sleeping[w]) != 0) wake[w].Set();
            Execute(generation);
            var spinner = new SpinWait();
            while (Volatile.Read(ref completed) != count) spinner.SpinOnce(sleep1Threshold: -1);
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
        insideWork = true;
        try
        {
            while (true)
            {
                long word = Volatile.Read(ref claim);
                if (Generation(word) != generation) return;
                // Read the run's description before claiming: a successful claim proves it still belongs to this run,
                // because the caller only replaces it after every item of the run has completed.
                var work = body;
                void* workContext = context;
                int count = itemCount;
                int item = (int)word;
                if (item >= count) return;
                if (Interlocked.CompareExchange(ref claim, word + 1, word) != word) continue;
                try
                {
                    work(workContext, item);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null);
                }
                Interlocked.Increment(ref completed);
            }
        }
        finally
        {
            insideWork = false;
        }
    }

    void WorkerLoop(object? state)
    {
        int index = (int)state!;
        int seen = 0;
        while (true)
        {
            int spins = 0;
            while (Generation(Volatile.Read(ref claim)) == seen && !disposed && spins++ < SpinIterations) Thread.SpinWait(20);
            if (Generation(Volatile.Read(ref claim)) == seen && !disposed)
            {
                Interlocked.Exchange(ref sleeping[index], 1);
                while (Generation(Volatile.Read(ref claim)) == seen && !disposed) wake[index].WaitOne();
                Volatile.Write(ref sleeping[index], 0);
            }
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
    }
}
