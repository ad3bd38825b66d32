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
    // Work is measured in units of about one simple elementwise operation (a copy or an add of one float, ~0.05 ns
    // on one core); the costs below weight the primitives by their measured single-core time per element.

    /// <summary>A load, a store and a few arithmetic instructions per element (copy, axpy, relu, squared error).</summary>
    public const int SimpleCost = 1;

    /// <summary>One exp, log or divide per element (sigmoid, tanh, KL terms, reparameterization).</summary>
    public const int TranscendentalCost = 12;

    /// <summary>Two transcendentals per element (softplus, BCE forward: exp and log1p).</summary>
    public const int DoubleTranscendentalCost = 24;

    /// <summary>Adam: four streams, a square root and a divide per element.</summary>
    public const int AdamCost = 8;

    /// <summary>Below this much work (about 10 us on one core) one thread does it all: waking workers costs more.</summary>
    public const long ParallelThreshold = 200_000;

    /// <summary>Work per piece handed to the pool: large enough to amortize claiming it.</summary>
    const long PieceWork = 64 * 1024;

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
    /// Runs <paramref name="kernel"/> over [0, count): in one call when <paramref name="work"/> (in units) is below
    /// <see cref="ParallelThreshold"/>, else in pieces of <paramref name="grain"/> indices spread over the pool.
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

    /// <summary>Elements per piece for work of <paramref name="cost"/> units per element: 4096 to 65536, a multiple of 64.</summary>
    public static int ElementsPerPiece(int cost) => (int)Math.Clamp(PieceWork / Math.Max(cost, 1), 4096, 65536) & ~63;

    /// <summary>Flat elementwise work over [0, length) at <paramref name="cost"/> units per element.</summary>
    public static void RunElements<TKernel>(WorkerPool pool, in TKernel kernel, int length, int cost) where TKernel : unmanaged, IRangeKernel =>
        Run(pool, kernel, length, ElementsPerPiece(cost), (long)length * cost);

    /// <summary>Row-wise work: rows of <paramref name="cols"/> elements at <paramref name="cost"/> units per element.</summary>
    public static void RunRows<TKernel>(WorkerPool pool, in TKernel kernel, int rows, int cols, int cost) where TKernel : unmanaged, IRangeKernel =>
        Run(pool, kernel, rows, Math.Max(1, ElementsPerPiece(cost) / Math.Max(cols, 1)), (long)rows * cols * cost);
}
