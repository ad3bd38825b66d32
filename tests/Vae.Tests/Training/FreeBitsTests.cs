// Free bits (a KL floor per latent dimension) in training: the option's validation, that a trainer step with free bits
// is exactly the step done by hand with the model's free-bits backward (alone and under a KL warm-up), that a floor below
// every latent's KL changes nothing and one above all of them drops the KL gradient, that a captured CUDA step equals
// eager steps, and that the setting survives a checkpoint (and reads as 0 from one written without it).
using Vae.Checkpoints;
using Vae.Cpu;
using Vae.Cuda;
using Vae.Models;
using Vae.Tests.Support;
using Vae.Training;
using Xunit;

namespace Vae.Tests.Training;

public sealed class FreeBitsTests
{
    static readonly VaeConfig Config = new(10, [6], 4, ReconstructionLoss.Bce, 1.5f);
    static readonly int[] Batch = [0, 5, 9, 12, 3];

    [Fact]
    public void Invalid_free_bits_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { FreeBits = -0.1f }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { FreeBits = float.NaN }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { FreeBits = float.PositiveInfinity }.Validate());
        var e = Assert.Throws<ArgumentException>(() => new TrainingOptions { FreeBits = 0.5f, KlSchedule = KlSchedule.Capacity(5, 10) }.Validate());
        Assert.Contains("capacity", e.Message, StringComparison.Ordinal);
        new TrainingOptions { FreeBits = 0.5f, KlSchedule = KlSchedule.Linear(10) }.Validate();
        new TrainingOptions { FreeBits = 0f, KlSchedule = KlSchedule.Capacity(5, 10) }.Validate();
        using var backend = new CpuBackend(threads: 1);
        using var model = new VaeModel(backend, Config, 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Backward(2, 1f, -1f));
    }

    /// <summary>Parameters after <paramref name="steps"/> trainer steps on the same batch.</summary>
    static float[] TrainerSteps(IComputeBackend backend, TrainingOptions options, int steps)
    {
        using var run = new TrainingSetup(backend, Config, options, new TrainingState(), SyntheticImages.Uniform(3, 16, Config.Input), null);
        for (int i = 0; i < steps; i++)
        {
            run.Trainer.LoadBatch(run.Train, Batch);
            run.Trainer.TrainStep(Batch.Length);
        }
        return run.Parameters();
    }

    /// <summary>
    /// The same steps by hand: the trainer's noise, forward, the model's backward with KL weight beta * factor(step) and
    /// the floor, Adam. Also returns each latent's batch-mean KL at the first step, computed here in double.
    /// </summary>
    static float[] ManualSteps(TrainingOptions options, int steps, out double[] firstKl)
    {
        using var backend = new CpuBackend(threads: 1);
        using var model = new VaeModel(backend, Config, options.BatchSize);
        model.InitializeParameters(options.Seed);
        var images = SyntheticImages.Uniform(3, 16, Config.Input);
        var input = new float[Batch.Length * Config.Input];
        for (int r = 0; r < Batch.Length; r++) images.AsSpan(Batch[r] * Config.Input, Config.Input).CopyTo(input.AsSpan(r * Config.Input));
        using var counters = backend.Allocate(64);
        var stepCounter = counters.AsSpan<int>().Slice(0, 1);
        firstKl = [];
        int rows = Batch.Length, l = Config.Latent;
        for (int step = 1; step <= steps; step++)
        {
            backend.Upload<float>(input, model.Input.Slice(0, input.Length));
            backend.RandomNormal(model.Eps.Slice(0, rows * l), options.Seed, (ulong)((step - 1) * rows * l));
            model.Forward(rows);
            if (step == 1)
            {
                var mu = new float[rows * l];
                var logVar = new float[rows * l];
                backend.Download(model.Mu.Slice(0, rows * l), mu);
                backend.Download(model.LogVar.Slice(0, rows * l), logVar);
                firstKl = new double[l];
                for (int r = 0; r < rows; r++)
                    for (int j = 0; j < l; j++)
                    {
                        double m = mu[r * l + j], v = logVar[r * l + j];
                        firstKl[j] += -0.5 * (1 + v - m * m - Math.Exp(v)) / rows;
                    }
            }
            model.Backward(rows, Config.Beta * options.KlSchedule.Factor(step), options.FreeBits);
            var p = model.Parameters;
            backend.AdamStep(p.Parameters, p.Gradients, p.AdamM, p.AdamV, options.Adam, stepCounter);
        }
        var parameters = new float[model.Parameters.Layout.TotalLength];
        backend.Download<float>(model.Parameters.Parameters, parameters);
        return parameters;
    }

    /// <summary>A floor halfway in the widest gap between the latents' first-step KLs: some latents above it, some below.</summary>
    static float FloorBetween(double[] kl)
    {
        var sorted = kl.Order().ToArray();
        int gap = 0;
        for (int k = 1; k + 1 < sorted.Length; k++)
            if (sorted[k + 1] - sorted[k] > sorted[gap + 1] - sorted[gap]) gap = k;
        Assert.True(sorted[gap + 1] - sorted[gap] > 1e-3, $"the latents' KLs {string.Join(", ", kl)} are too close together");
        return (float)(0.5 * (sorted[gap] + sorted[gap + 1]));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_trainer_step_with_free_bits_is_the_manual_step(bool warmup)
    {
        var options = new TrainingOptions { Epochs = 1, BatchSize = 5, Seed = 6, KlSchedule = warmup ? KlSchedule.Linear(4) : KlSchedule.Constant };
        ManualSteps(options, 1, out var kl);
        options = options with { FreeBits = FloorBetween(kl) };
        var trainer = TrainerSteps(new CpuBackend(threads: 1), options, 3);
        var manual = ManualSteps(options, 3, out _);
        Tolerance.AssertBitwiseEqual("parameters after 3 steps with free bits", trainer, manual);
        Assert.NotEqual(TrainerSteps(new CpuBackend(threads: 1), options with { FreeBits = 0f }, 3), trainer);
    }

    [Fact]
    public void A_floor_below_every_latent_changes_nothing_and_one_above_all_drops_the_kl_gradient()
    {
        var options = new TrainingOptions { Epochs = 1, BatchSize = 5, Seed = 6 };
        ManualSteps(options, 1, out var kl);
        var plain = TrainerSteps(new CpuBackend(threads: 1), options, 1);
        Tolerance.AssertBitwiseEqual("a floor below every latent's KL", TrainerSteps(new CpuBackend(threads: 1), options with { FreeBits = (float)(0.5 * kl.Min()) }, 1), plain);
        var noKl = TrainerSteps(new CpuBackend(threads: 1), options with { FreeBits = 1e4f }, 1);
        var betaZero = ManualStepWithKlWeight(options, 0f);
        Tolerance.AssertBitwiseEqual("a floor above every latent's KL vs no KL gradient", noKl, betaZero);
        Assert.NotEqual(plain, noKl);
    }

    static float[] ManualStepWithKlWeight(TrainingOptions options, float klWeight)
    {
        using var run = new TrainingSetup(new CpuBackend(threads: 1), Config, options, new TrainingState(), SyntheticImages.Uniform(3, 16, Config.Input), null);
        run.Trainer.LoadBatch(run.Train, Batch);
        var backend = run.Backend;
        var model = run.Model;
        backend.RandomNormal(model.Eps.Slice(0, Batch.Length * Config.Latent), options.Seed, 0);
        model.Forward(Batch.Length);
        model.Backward(Batch.Length, klWeight);
        using var counters = backend.Allocate(64);
        var p = model.Parameters;
        backend.AdamStep(p.Parameters, p.Gradients, p.AdamM, p.AdamV, options.Adam, counters.AsSpan<int>().Slice(0, 1));
        return run.Parameters();
    }

    [Fact]
    public void Captured_cuda_steps_with_free_bits_equal_eager_steps()
    {
        var options = new TrainingOptions { Epochs = 1, BatchSize = 5, Seed = 6 };
        ManualSteps(options, 1, out var kl);
        options = options with { FreeBits = FloorBetween(kl) };
        var eager = TrainerSteps(new CudaBackend(new InterpretedCudaDevice()), options with { UseGraphs = false }, 4);
        var device = new InterpretedCudaDevice();
        var replayed = TrainerSteps(new CudaBackend(device), options, 4);
        Assert.Equal(3, device.GraphReplays);   // step 1 eager, then step 2 captured, and steps 2 to 4 replayed
        Tolerance.AssertBitwiseEqual("parameters after 4 steps", replayed, eager);
    }

    [Fact]
    public void Free_bits_survive_a_checkpoint_and_default_to_zero()
    {
        using var folder = new ScratchDirectory();
        using var backend = new CpuBackend(threads: 1);
        using var model = new VaeModel(backend, Config, 4);
        string path = Path.Combine(folder.Path, "c.safetensors");
        var options = new TrainingOptions { Epochs = 2, BatchSize = 4, FreeBits = 0.375f, KlSchedule = KlSchedule.Cyclical(7, 0.25) };
        Checkpoint.Save(path, model, options, new TrainingState());
        var read = Checkpoint.Read(path).Options!;
        Assert.Equal(0.375f, read.FreeBits);
        Assert.Equal(options.KlSchedule, read.KlSchedule);
        Assert.Equal(options with { UseGraphs = read.UseGraphs }, read);

        Checkpoint.Save(path, model, options with { FreeBits = 0f }, new TrainingState());
        var file = SafeTensorsFile.Read(path);
        Assert.DoesNotContain("free_bits", file.Metadata["training"], StringComparison.Ordinal);   // absent = off
        Assert.Equal(0f, Checkpoint.Read(path).Options!.FreeBits);
    }
}

/// <summary>A training step of the seed model with free bits allocates nothing once warm (the rules of TrainingAllocationTests).</summary>
[Collection(nameof(AllocationCollection))]
public sealed class FreeBitsAllocationTests
{
    [Fact]
    public void A_training_step_with_free_bits_allocates_nothing_once_warm()
    {
        var config = VaeConfig.Default;
        const int rows = 128, images = 300;
        var options = new TrainingOptions { Epochs = 1, BatchSize = rows, Seed = 3, FreeBits = 1e-3f };
        var state = new TrainingState();
        using var run = new TrainingSetup(new CpuBackend(threads: 2), config, options, state, SyntheticImages.Uniform(seed: 1, images, config.Input), null);
        var indices = AllocationMeter.SpreadIndices(rows, images);
        run.Trainer.LoadBatch(run.Train, indices);
        run.Trainer.TrainStep(rows);
        // A floor at the median latent's KL, so the step takes the masked path (some latents above, some below).
        var kl = run.Download(run.Model.KlPerDimension);
        float floor = kl.Order().ElementAt(kl.Length / 2);
        using var trainer = new Trainer(run.Model, run.Train, null, options with { FreeBits = floor }, state);
        var m = AllocationMeter.MeasureTrainingSteps(trainer, run.Train, indices, run.Backend);
        Assert.True(m.FewestOnThread == 0, $"8 training steps with free bits allocated {m.FewestOnThread} bytes on the calling thread");
        Assert.False(m.ProcessAllocates, $"8 training steps with free bits allocated {m.FewestInProcess} bytes in the process (pool workers)");
        kl = run.Download(run.Model.KlPerDimension);
        Assert.True(kl.Any(k => k > floor) && kl.Any(k => k <= floor), $"the floor {floor} no longer splits the latents' KLs {string.Join(", ", kl)}");
    }
}
