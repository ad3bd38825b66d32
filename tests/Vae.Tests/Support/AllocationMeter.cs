// The one allocation rule of the tests: run an action N times, up to Attempts times, and keep the smallest counts.
//  - GC.GetAllocatedBytesForCurrentThread on the calling thread (where validation and setup run) must be exactly 0;
//  - GC.GetTotalAllocatedBytes(precise) counts every thread, pool workers included, but also the test runner's own
//    background allocations (about 2 KB/s measured here), so the process "allocates" only when, in every attempt, it
//    allocated both at least one smallest object (24 bytes) per repetition and more than 8 KB per second of the
//    attempt (4x the background rate; the time only scales this allowance, nothing asserts on it).
// MeasureTrainingSteps applies the rule to warmed-up training steps, as every model's allocation test does.
using System.Diagnostics;

namespace Vae.Tests.Support;

public readonly record struct AllocationMeasurement(long FewestOnThread, long FewestInProcess, bool ProcessAllocates)
{
    public bool AllocatesNothing => FewestOnThread == 0 && !ProcessAllocates;
}

public static class AllocationMeter
{
    public const int Attempts = 3, SmallestObjectBytes = 24;
    public const double BackgroundAllowanceBytesPerSecond = 8192;

    /// <summary>Measures <paramref name="repetitions"/> calls of <paramref name="action"/> (warm it up first).</summary>
    public static AllocationMeasurement Measure(Action action, int repetitions, Action synchronize)
    {
        long fewestOnThread = long.MaxValue, fewestInProcess = long.MaxValue;
        bool processAllocates = true;
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            long start = Stopwatch.GetTimestamp();
            long processBefore = GC.GetTotalAllocatedBytes(precise: true);
            long threadBefore = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < repetitions; i++) action();
            synchronize();
            long threadAfter = GC.GetAllocatedBytesForCurrentThread();
            long processAfter = GC.GetTotalAllocatedBytes(precise: true);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            long inProcess = processAfter - processBefore;
            fewestOnThread = Math.Min(fewestOnThread, threadAfter - threadBefore);
            fewestInProcess = Math.Min(fewestInProcess, inProcess);
            processAllocates &= inProcess >= repetitions * SmallestObjectBytes && inProcess > BackgroundAllowanceBytesPerSecond * seconds;
            if (fewestOnThread == 0 && !processAllocates) break;
        }
        return new AllocationMeasurement(fewestOnThread, fewestInProcess, processAllocates);
    }

    /// <summary>The rows of a measured batch: image (7 i + 3) mod <paramref name="images"/> for row i.</summary>
    public static int[] SpreadIndices(int rows, int images) => Enumerable.Range(0, rows).Select(i => (i * 7 + 3) % images).ToArray();

    /// <summary>
    /// <paramref name="warmupSteps"/> training steps of the batch <paramref name="indices"/> of <paramref name="data"/>
    /// (Trainer.LoadBatch + Trainer.TrainStep), then <see cref="Measure"/> of <paramref name="measuredSteps"/> more.
    /// </summary>
    public static AllocationMeasurement MeasureTrainingSteps(Vae.Training.Trainer trainer, Vae.Training.DeviceDataset data, int[] indices, IComputeBackend backend,
        int warmupSteps = 3, int measuredSteps = 8)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(backend);
        void Step()
        {
            trainer.LoadBatch(data, indices);
            trainer.TrainStep(indices.Length);
        }
        for (int i = 0; i < warmupSteps; i++) Step();
        backend.Synchronize();
        return Measure(Step, measuredSteps, backend.Synchronize);
    }
}
