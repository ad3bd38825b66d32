// Hot paths allocate nothing on the managed heap once warmed up: every primitive of IComputeBackend runs 20 times on a
// two-thread CpuBackend at small and at VAE sizes (batch 128, 784/400/20 features; the large calls run on the pool)
// while GC.GetTotalAllocatedBytes(precise) counts the bytes of all threads. The test runs alone (no other test may
// allocate meanwhile), and a call is blamed only if it allocates in each of three measurements.
using Vae.Cpu;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests;

[CollectionDefinition(nameof(AllocationCollection), DisableParallelization = true)]
public sealed class AllocationCollection;

[Collection(nameof(AllocationCollection))]
public sealed class AllocationTests
{
    const int WarmupCalls = 3, MeasuredCalls = 20, Attempts = 3;

    [Fact]
    public void Every_primitive_allocates_nothing_once_warm()
    {
        using var backend = new CpuBackend(threads: 2);
        using var small = new PrimitiveWorkload(backend, WorkloadSize.Small, seed: 5);
        using var vae = new PrimitiveWorkload(backend, WorkloadSize.VaeLike, seed: 6);
        var calls = new List<PrimitiveCall>();
        foreach (var workload in new[] { small, vae })
        {
            foreach (var call in workload.Calls)
            {
                calls.Add(call with { Name = $"{call.Name} [batch {workload.Size.Batch}]" });
            }
        }
        foreach (var call in calls)
        {
            for (int i = 0; i < WarmupCalls; i++) call.Invoke();
        }
        backend.Synchronize();

        var offenders = new List<string>();
        foreach (var call in calls)
        {
            long fewest = long.MaxValue;
            for (int attempt = 0; attempt < Attempts && fewest > 0; attempt++)
            {
                long before = GC.GetTotalAllocatedBytes(precise: true);
                for (int i = 0; i < MeasuredCalls; i++) call.Invoke();
                backend.Synchronize();
                long after = GC.GetTotalAllocatedBytes(precise: true);
                fewest = Math.Min(fewest, after - before);
            }
            if (fewest > 0) offenders.Add($"{call.Name}: {fewest} bytes in {MeasuredCalls} calls");
        }
        Assert.True(offenders.Count == 0, $"{offenders.Count} of {calls.Count} calls allocate:\n" + string.Join("\n", offenders));
    }
}
