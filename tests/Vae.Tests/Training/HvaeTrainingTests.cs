// The hierarchical VAE in the generic training loop: a training step of the default 784-400-400-z32-100-100-z16 model
// allocates nothing once warm (full and partial batches, free bits, KL warm-up), the Trainer lowers the test loss on
// learnable images with z1 encoding them, the evaluation reports each layer's KL (summing to the total)
// and active units, and the noise counter advances by L1 + L2 per image.
using Vae.Cpu;
using Vae.Models;
using Vae.Tests.Support;
using Vae.Training;
using Xunit;
using Xunit.Abstractions;

namespace Vae.Tests.Training;

[Collection(nameof(AllocationCollection))]
public sealed class HvaeTrainingTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(128, 0f, false)]
    [InlineData(96, 0f, false)]
    [InlineData(128, 0.25f, false)]
    [InlineData(128, 0f, true)]
    public void A_training_step_of_the_default_model_allocates_nothing_once_warm(int rows, float freeBits, bool warmup)
    {
        const int images = 300, warmupSteps = 3, measuredSteps = 8;
        var config = HvaeConfig.Default;
        var options = new TrainingOptions
        {
            Epochs = 1, BatchSize = 128, Seed = 3, FreeBits = freeBits,
            KlSchedule = warmup ? KlSchedule.Linear(1000) : KlSchedule.Constant,
        };
        using var run = new TrainingSetup<HvaeModel>(new CpuBackend(threads: 2), config, options, new TrainingState(), SyntheticImages.Uniform(seed: 1, images, config.Input), null);
        var m = AllocationMeter.MeasureTrainingSteps(run.Trainer, run.Train, AllocationMeter.SpreadIndices(rows, images), run.Backend, warmupSteps, measuredSteps);
        output.WriteLine($"{measuredSteps} steps of {rows} rows, free bits {freeBits}, warm-up {warmup}: {m.FewestOnThread} bytes on the calling thread, {m.FewestInProcess} in the process");
        Assert.True(m.FewestOnThread == 0, $"training steps allocated {m.FewestOnThread} bytes on the calling thread");
        Assert.False(m.ProcessAllocates, $"training steps allocated {m.FewestInProcess} bytes in the process (pool workers)");
        Assert.True(float.IsFinite(run.Trainer.LastTotals[0]) && run.Trainer.LastTotals[0] > 0 && run.Trainer.LastTotals[1] > 0);
    }

    [Fact]
    public void Trainer_lowers_the_test_loss_and_reports_each_layer()
    {
        var config = new HvaeConfig(64, [48], 6, [16], 3);
        var options = new TrainingOptions { Epochs = 6, BatchSize = 32, Adam = new AdamSettings(3e-3f), Seed = 5 };
        var train = SyntheticImages.Prototypes(seed: 1, 512, config.Input, prototypes: 6, noise: 0.1f);
        var test = SyntheticImages.Prototypes(seed: 1, 512 + 128, config.Input, prototypes: 6, noise: 0.1f).AsSpan(512 * config.Input).ToArray();
        using var run = new TrainingSetup<HvaeModel>(Backends.Create("cpu"), config, options, new TrainingState(), train, test);
        var before = Evaluation.Run(run.Model, run.Test!, null);
        run.Trainer.Run(null);
        var state = run.Trainer.State;
        Assert.Equal(6L * 16, state.Step);
        Assert.Equal(6UL * 512 * (ulong)(config.Latent1 + config.Latent2), state.RngOffset);
        var after = run.Trainer.LastEvaluation!;
        output.WriteLine($"test loss {before.Loss:F2} -> {after.Loss:F2} (recon {after.Recon:F2}, kl {after.Kl:F2}); " +
            string.Join("; ", after.Groups.Select(g => $"{g.Name}: kl {g.Kl:F3}, active {g.ActiveUnits}/{g.Width}, variance {g.LatentVariance:F4}")));
        Assert.True(after.Loss < before.Loss - 5, $"the test loss should fall: {before.Loss} -> {after.Loss}");
        Assert.Equal(["z1", "z2"], after.Groups.Select(g => g.Name));
        Assert.Equal(after.Kl, after.Groups.Sum(g => g.Kl), 3);
        Assert.True(after.Groups[0].Kl > 1 && after.Groups[0].ActiveUnits > 0, $"z1 should encode the prototypes: KL {after.Groups[0].Kl}, {after.Groups[0].ActiveUnits} active");
        Assert.True(after.Groups[1].Kl >= 0 && double.IsFinite(after.Groups[1].Kl), $"z2: KL {after.Groups[1].Kl}");
        Assert.Equal(after.ActiveUnits, after.Groups.Sum(g => g.ActiveUnits));
        Assert.All(state.History, e => Assert.True(double.IsFinite(e.TestLoss)));
    }
}
