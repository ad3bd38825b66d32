// The SIMD CPU backend: TensorPrimitives where it has the operation, Vector512/256/128 operators where it does not,
// a packed register-blocked GEMM, and persistent workers (WorkerPool) for multi-core work. One partial file per
// primitive family: CpuBackend.Gemm.cs, CpuBackend.Elementwise.cs, CpuBackend.Losses.cs, ...
using Vae.Cpu.Threading;

namespace Vae.Cpu;

public sealed partial class CpuBackend : HostBackend, IComputeBackend
{
    readonly bool ownsPool;

    /// <summary>A backend using <paramref name="threads"/> threads (default: one per core, shared pool).</summary>
    public CpuBackend(int? threads = null)
    {
        if (threads is null)
        {
            Pool = WorkerPool.Shared;
        }
        else
        {
            Pool = new WorkerPool(threads.Value);
            ownsPool = true;
        }
    }

    public override string Name => "cpu";

    /// <summary>The workers this backend spreads work over; ThreadCount includes the calling thread.</summary>
    public WorkerPool Pool { get; }

    public override void Dispose()
    {
        gemm.Dispose();
        if (ownsPool) Pool.Dispose();
        base.Dispose();
    }
}
