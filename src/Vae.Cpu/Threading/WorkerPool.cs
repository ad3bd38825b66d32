// Persistent worker threads that run an index range of work items without allocating per call
// (Parallel.For allocates closures and tasks). The calling thread takes part, so ThreadCount = 1 runs inline.
// Work is described by an unmanaged context struct on the caller's stack and a static function pointer.
using System.Runtime.ExceptionServices;

namespace Vae.Cpu.Threading;

public sealed unsafe class WorkerPool : IDisposable
{
    const int SpinIterations = 4000;   // ~0.1 ms of spinning before a worker blocks

    static WorkerPool? shared;
    [ThreadStatic] static bool insideWork;

    readonly Thread[] workers;
    readonly object gate = new();
    readonly object runLock = new();
    int generation;          // bumped once per Run; workers watch it
    int pending;             // workers that have not finished the current Run
    int nextItem;            // next work item to claim
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
        for (int i = 0; i < workers.Length; i++)
        {
            workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"vae-worker-{i + 1}" };
            workers[i].Start();
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
        lock (runLock)
        {
            body = work;
            context = workContext;
            itemCount = count;
            nextItem = 0;
            failure = null;
            Volatile.Write(ref pending, workers.Length);
            lock (gate)
            {
                generation++;
                Monitor.PulseAll(gate);
            }
            Execute();
            var spinner = new SpinWait();
            while (Volatile.Read(ref pending) != 0) spinner.SpinOnce(sleep1Threshold: -1);
            body = null;
            context = null;
            failure?.Throw();
        }
    }

    void Execute()
    {
        insideWork = true;
        try
        {
            int i;
            while ((i = Interlocked.Increment(ref nextItem) - 1) < itemCount) body(context, i);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null);
            Volatile.Write(ref nextItem, itemCount);   // stop handing out items
        }
        finally
        {
            insideWork = false;
        }
    }

    void WorkerLoop()
    {
        int seen = 0;
        while (true)
        {
            int spins = 0;
            while (Volatile.Read(ref generation) == seen && !disposed && spins++ < SpinIterations) Thread.SpinWait(20);
            if (Volatile.Read(ref generation) == seen && !disposed)
            {
                lock (gate)
                {
                    while (generation == seen && !disposed) Monitor.Wait(gate);
                }
            }
            if (disposed) return;
            seen = Volatile.Read(ref generation);
            Execute();
            Interlocked.Decrement(ref pending);
        }
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        lock (gate) Monitor.PulseAll(gate);
        foreach (var t in workers) t.Join();
    }
}
