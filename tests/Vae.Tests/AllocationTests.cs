// Hot paths allocate nothing on the managed heap once warmed up: every primitive of IComputeBackend runs 20 times on a
// two-thread CpuBackend at small and at VAE sizes (batch 128, 784/400/20 features; the large calls run on the pool).
// Two counters per call, the smallest of three measurements:
//  - GC.GetAllocatedBytesForCurrentThread on the calling thread (where validation and setup run) must be exactly 0;
//  - GC.GetTotalAllocatedBytes(precise) counts every thread, pool workers included, but also the test runner's own
//    background allocations (about 2 KB/s measured here), so it flags a call only when, in each measurement, the
//    process allocated both at least one smallest object (24 bytes) per call and more than 8 KB per second of the
//    measurement (4x the background rate; the time only scales this allowance, nothing asserts on it).
// The test runs alone (DisableParallelization), so no other test allocates meanwhile.
using Vae.Cpu;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests;

[CollectionDefinition(nameof(AllocationCollection), DisableParallelization = true)]
public sealed class AllocationCollection;

[Collection(nameof(AllocationCollection))]
public sealed class AllocationTests
{
    const int WarmupCalls = 3, MeasuredCalls = 20;

    [Fact]
    public void Every_primitive_allocates_nothing_once_warm()
    {
        using var backend = new CpuBackend(threads: 2);
        using var small = new PrimitiveWorkload(backend, WorkloadSize.Small, seed: 5);
        using var vae = new PrimitiveWorkload(backend, WorkloadSize.VaeLike, seed: 6);
        var calls = new List<PrimitiveCall>();
        foreach (var workload in new[] { small, vae })
        {
            foreach (var call in workload.Calls) calls.Add(call with { Name = $"{call.Name} [batch {workload.Size.Batch}]" });
        }
        foreach (var call in calls)
        {
            for (int i = 0; i < WarmupCalls; i++) call.Invoke();
        }
        backend.Synchronize();

        var offenders = new List<string>();
        foreach (var call in calls)
        {
            var m = AllocationMeter.Measure(call.Invoke, MeasuredCalls, backend.Synchronize);
            long fewestOnThread = m.FewestOnThread, fewestInProcess = m.FewestInProcess;
            bool processAllocates = m.ProcessAllocates;
            if (fewestOnThread > 0)
                offenders.Add($"{call.Name}: {fewestOnThread} bytes on the calling thread in {MeasuredCalls} calls");
            else if (processAllocates)
                offenders.Add($"{call.Name}: {fewestInProcess} bytes in the process (pool workers) in {MeasuredCalls} calls");
        }
        Assert.True(offenders.Count == 0, $"{offenders.Count} of {calls.Count} calls allocate:\n" + string.Join("\n", offenders));
    }
}
