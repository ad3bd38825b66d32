// A training step of the seed VAE (784-400-400-20, batch 128, two-thread CpuBackend) allocates nothing on the managed
// heap once warm: Trainer.LoadBatch + Trainer.TrainStep for a full batch, a partial batch of 96 rows, and with
// gradient clipping. Same rules as AllocationTests, smallest of three measurements:
//  - GC.GetAllocatedBytesForCurrentThread on the calling thread must be exactly 0;
//  - GC.GetTotalAllocatedBytes(precise) (every thread, pool workers included, but also the test runner's background
//    allocations) flags a step only when, in each measurement, the process allocated both at least 24 bytes (one
//    smallest object) per step and more than 8 KB per second of the measurement (the time only scales this
//    allowance; nothing asserts on it).
// Evaluation is not measured: it returns host arrays per call by design.
using Vae.Cpu;
using Vae.Models;
using Vae.Tests.Support;
using Vae.Training;
using Xunit;
using Xunit.Abstractions;

namespace Vae.Tests.Training;

[Collection(nameof(AllocationCollection))]
public sealed class TrainingAllocationTests(ITestOutputHelper output)
{
    const int WarmupSteps = 3, MeasuredSteps = 8;
    const int Images = 300;

    [Theory]
    [InlineData(128, 0f)]
    [InlineData(96, 0f)]
    [InlineData(128, 1f)]
    public void A_training_step_of_the_seed_model_allocates_nothing_once_warm(int rows, float clip)
    {
        var config = VaeConfig.Default;
        var options = new TrainingOptions { Epochs = 1, BatchSize = 128, ClipNorm = clip, Seed = 3 };
        using var run = new TrainingSetup(new CpuBackend(threads: 2), config, options, new TrainingState(),
            SyntheticImages.Uniform(seed: 1, Images, config.Input), null);
        var trainer = run.Trainer;
        var m = AllocationMeter.MeasureTrainingSteps(trainer, run.Train, AllocationMeter.SpreadIndices(rows, Images), run.Backend, WarmupSteps, MeasuredSteps);
        long fewestOnThread = m.FewestOnThread, fewestInProcess = m.FewestInProcess;
        bool processAllocates = m.ProcessAllocates;

        output.WriteLine($"{MeasuredSteps} steps of {rows} rows, clip {clip}: fewest bytes {fewestOnThread} on the calling thread, {fewestInProcess} in the process");
        Assert.True(fewestOnThread == 0, $"{MeasuredSteps} training steps ({rows} rows, clip {clip}) allocated {fewestOnThread} bytes on the calling thread");
        Assert.False(processAllocates, $"{MeasuredSteps} training steps ({rows} rows, clip {clip}) allocated {fewestInProcess} bytes in the process (pool workers)");
        // The steps did train: the loss is finite and the step counter advanced.
        Assert.True(float.IsFinite(trainer.LastTotals[0]) && trainer.LastTotals[0] > 0);
        Assert.InRange(trainer.State.Step, WarmupSteps + MeasuredSteps, WarmupSteps + AllocationMeter.Attempts * MeasuredSteps);
    }
}
