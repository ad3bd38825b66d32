// Splits an index range (elements, rows, column stripes, blocks) into fixed pieces and runs them on a WorkerPool.
// The pieces depend only on the sizes, never on the thread count, so every result is the same for any pool.
// A kernel is an unmanaged readonly struct of raw pointers and scalars; nothing is allocated per call.
namespace Vae.Cpu.Threading;

/// <summary>Work over a range of indices: Execute(start, count) handles [start, start + count).</summary>
internal interface IRangeKernel
{
    void Execute(int start, int count);
}

internal static unsafe class RangeWork
{
    /// <summary>Below this many elements of work, one thread does it all: waking workers would cost more.</summary>
    public const long ParallelThreshold = 32 * 1024;

    /// <summary>Elements per piece for flat elementwise work (64 KB of floats per stream).</summary>
    public const int ElementGrain = 16 * 1024;

    struct Job<TKernel> where TKernel : unmanaged, IRangeKernel
    {
        public TKernel Kernel;
        public int Count;
        public int Grain;
    }

    static void RunPiece<TKernel>(void* context, int piece) where TKernel : unmanaged, IRangeKernel
    {
        var job = (Job<TKernel>*)context;
        int start = piece * job->Grain;
        job->Kernel.Execute(start, Math.Min(job->Grain, job->Count - start));
    }

    /// <summary>
    /// Runs <paramref name="kernel"/> over [0, count): in one call when <paramref name="work"/> (elements touched) is
    /// below <see cref="ParallelThreshold"/>, else in pieces of <paramref name="grain"/> indices spread over the pool.
    /// Kernels must give the same results either way (reductions fix their own order).
    /// </summary>
    public static void Run<TKernel>(WorkerPool pool, in TKernel kernel, int count, int grain, long work) where TKernel : unmanaged, IRangeKernel
    {
        if (count <= 0) return;
        grain = Math.Max(grain, 1);
        if (work < ParallelThreshold || count <= grain)
        {
            kernel.Execute(0, count);
            return;
        }
        var job = new Job<TKernel> { Kernel = kernel, Count = count, Grain = grain };
        pool.Run(&RunPiece<TKernel>, &job, (int)(((long)count + grain - 1) / grain));
    }

    /// <summary>Flat elementwise work over [0, length) in pieces of <see cref="ElementGrain"/>.</summary>
    public static void RunElements<TKernel>(WorkerPool pool, in TKernel kernel, int length) where TKernel : unmanaged, IRangeKernel =>
        Run(pool, kernel, length, ElementGrain, length);

    /// <summary>Row-wise work: rows of <paramref name="cols"/> elements, about <see cref="ElementGrain"/> elements per piece.</summary>
    public static void RunRows<TKernel>(WorkerPool pool, in TKernel kernel, int rows, int cols) where TKernel : unmanaged, IRangeKernel =>
        Run(pool, kernel, rows, Math.Max(1, ElementGrain / Math.Max(cols, 1)), (long)rows * cols);
}
