// A training step of the default VQ-VAE (784-400-400-16x16/128, batch 128, two-thread CpuBackend) allocates nothing on
// the managed heap once warm: Trainer.LoadBatch + Trainer.TrainStep (forward with quantization, backward with the
// straight-through and commitment gradients, Adam, and AfterOptimizerStep's usage counts and EMA codebook update), with
// EMA and with the codebook loss, for a full and a partial batch. Same rules as AllocationTests (AllocationMeter).
using Vae.Cpu;
using Vae.Models;
using Vae.Tests.Support;
using Vae.Training;
using Xunit;
using Xunit.Abstractions;

namespace Vae.Tests.Training;

[Collection(nameof(AllocationCollection))]
public sealed class VqVaeAllocationTests(ITestOutputHelper output)
{
    const int WarmupSteps = 3, MeasuredSteps = 8, Images = 300;

    [Theory]
    [InlineData(true, 128)]
    [InlineData(false, 128)]
    [InlineData(true, 96)]
    public void A_training_step_of_the_default_vqvae_allocates_nothing_once_warm(bool ema, int rows)
    {
        var d = VqVaeConfig.Default;
        var config = new VqVaeConfig(d.Input, d.Hidden, d.Positions, d.CodeDim, d.Codes, ema: ema);
        var options = new TrainingOptions { Epochs = 1, BatchSize = 128, Seed = 3 };
        using var run = new TrainingSetup<VqVaeModel>(new CpuBackend(threads: 2), config, options, new TrainingState(),
            SyntheticImages.Uniform(seed: 1, Images, config.Input), null);
        var (backend, model, trainer) = (run.Backend, run.Model, run.Trainer);
        var m = AllocationMeter.MeasureTrainingSteps(trainer, run.Train, AllocationMeter.SpreadIndices(rows, Images), backend, WarmupSteps, MeasuredSteps);

        output.WriteLine($"{MeasuredSteps} steps (ema {ema}, {rows} rows): fewest bytes {m.FewestOnThread} on the calling thread, {m.FewestInProcess} in the process");
        Assert.True(m.FewestOnThread == 0, $"{MeasuredSteps} vqvae training steps (ema {ema}) allocated {m.FewestOnThread} bytes on the calling thread");
        Assert.False(m.ProcessAllocates, $"{MeasuredSteps} vqvae training steps (ema {ema}) allocated {m.FewestInProcess} bytes in the process (pool workers)");
        // The steps did train: the loss is finite and every step counted its codes.
        Assert.True(float.IsFinite(trainer.LastTotals[0]) && trainer.LastTotals[0] > 0);
        var usage = VqVaeSetup.Download(backend, model.EpochUsage);
        Assert.Equal((double)trainer.State.Step * rows * config.Positions, usage.Sum(u => (double)u));
    }
}
