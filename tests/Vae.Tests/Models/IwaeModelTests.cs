// The VAE trained on the IWAE bound (VaeConfig.ImportanceSamples = K > 1): the configuration's JSON ("iwae" only when
// K > 1, so an ELBO model's JSON is unchanged), K = 1 as the ELBO model itself, the bound and the K-sample -ELBO of a
// forward pass equal to the importance-sampling estimator (VaeImportanceWeights + ImportanceSampling) for the same
// noise, the CUDA backend's kernels (PTX interpreter) agreeing with the CPU backend, free bits refused, training that
// lowers the bound, checkpoints that round-trip and resume bit for bit, and a training step that allocates nothing.
using Vae.Checkpoints;
using Vae.Cpu;
using Vae.Models;
using Vae.Tests.GradientChecks;
using Vae.Tests.Support;
using Vae.Training;
using Xunit;
using Xunit.Abstractions;

namespace Vae.Tests.Models;

public sealed class IwaeModelTests(ITestOutputHelper output)
{
    static float[] Download(IComputeBackend backend, DeviceSpan<float> view)
    {
        var host = new float[view.Length];
        backend.Download(view, host);
        return host;
    }

    [Fact]
    public void The_json_names_k_only_above_one_and_round_trips()
    {
        var elbo = new VaeConfig(64, [24, 16], 6);
        Assert.Equal("""{"model":"vae","input":64,"hidden":[24,16],"latent":6,"recon":"bce","beta":1}""", elbo.ToJson());
        Assert.Equal(elbo.ToJson(), new VaeConfig(64, [24, 16], 6, importanceSamples: 1).ToJson());
        Assert.Equal(1, VaeConfig.FromJson(elbo.ToJson(), "old.safetensors").ImportanceSamples);
        Assert.DoesNotContain("iwae", elbo.ToString(), StringComparison.Ordinal);

        var iwae = new VaeConfig(64, [24, 16], 6, ReconstructionLoss.Mse, beta: 0.5f, importanceSamples: 5);
        Assert.Equal("""{"model":"vae","input":64,"hidden":[24,16],"latent":6,"recon":"mse","beta":0.5,"iwae":5}""", iwae.ToJson());
        var back = VaeConfig.FromJson(iwae.ToJson(), "run.safetensors");
        Assert.Equal(iwae, back);
        Assert.Equal(5, back.ImportanceSamples);
        Assert.Equal(iwae, ModelConfigs.FromJson(iwae.ToJson(), "run.safetensors"));
        Assert.NotEqual(new VaeConfig(64, [24, 16], 6, importanceSamples: 2), new VaeConfig(64, [24, 16], 6, importanceSamples: 3));
        Assert.EndsWith(" iwae=5", iwae.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65")]
    [InlineData("2.5")]
    [InlineData("\"five\"")]
    public void A_bad_sample_count_in_a_checkpoint_is_refused_naming_the_file(string k)
    {
        string json = """{"model":"vae","input":64,"hidden":[24],"latent":6,"recon":"bce","beta":1,"iwae":""" + k + "}";
        var e = Assert.Throws<InvalidDataException>(() => VaeConfig.FromJson(json, "broken.safetensors"));
        Assert.Contains("broken.safetensors", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new VaeConfig(64, [24], 6, importanceSamples: 0));
    }

    [Fact]
    public void K_one_is_the_elbo_model_bit_for_bit()
    {
        var images = SyntheticImages.Uniform(seed: 4, 90, 30);
        var options = new TrainingOptions { Epochs = 2, BatchSize = 16, Seed = 8 };
        float[] Train(VaeConfig config)
        {
            using var run = new TrainingSetup(Backends.Create("cpu-3"), config, options, new TrainingState(), images, images.AsSpan(0, 20 * 30).ToArray());
            Assert.Equal(config.Latent, run.Model.NoisePerRow);
            Assert.Equal(run.Model.Capacity, run.Model.SampleCapacity);
            Assert.Throws<InvalidOperationException>(() => run.Model.IwaeBoundTotal);
            run.Trainer.Run(null);
            return [.. run.Parameters(), .. run.AdamV(), (float)run.Trainer.State.History[^1].TestLoss];
        }
        var explicitOne = Train(new VaeConfig(30, [12], 4, importanceSamples: 1));
        Tolerance.AssertBitwiseEqual("parameters, Adam v and test loss, K = 1 vs the ELBO model", explicitOne, Train(new VaeConfig(30, [12], 4)));
        // ... and K = 2 is another objective: the same seed and data train a different model.
        Assert.NotEqual(explicitOne, Train2());

        float[] Train2()
        {
            using var run = new TrainingSetup(Backends.Create("cpu-3"), new VaeConfig(30, [12], 4, importanceSamples: 2), options, new TrainingState(), images, null);
            run.Trainer.Run(null);
            return [.. run.Parameters(), .. run.AdamV(), float.NaN];
        }
    }

    [Theory]
    [InlineData("cpu", ReconstructionLoss.Bce)]
    [InlineData("cpu", ReconstructionLoss.Mse)]
    [InlineData("cuda-interpreted", ReconstructionLoss.Bce)]
    public void Forward_gives_the_importance_sampling_estimate_for_the_same_noise(string backendName, ReconstructionLoss recon)
    {
        const int rows = 5, k = 4;
        const ulong seed = 99;
        var config = new VaeConfig(12, [7, 5], 3, recon, importanceSamples: k);
        using var backend = Backends.Create(backendName);
        using var model = new VaeModel(backend, config, capacity: rows + 1);
        model.InitializeParameters(21);
        var x = SyntheticImages.Uniform(seed: 2, rows, config.Input);
        backend.Upload<float>(x, model.Input.Slice(0, x.Length));
        // Sample s of image i takes noise numbers [(i K + s) L, (i K + s + 1) L): the estimator's layout of its stream.
        backend.RandomNormal(model.Noise.Slice(0, rows * model.NoisePerRow), seed, 0);
        model.Forward(rows);
        var bound = Download(backend, model.IwaeBoundPerSample.Slice(0, rows));
        var totals = Download(backend, model.LossTotals);

        using var data = new DeviceDataset(backend, x, rows, config.Input);
        using var weights = new VaeImportanceWeights(model, maxSamples: 3);   // chunks of 3 samples cross the images' boundaries
        var perImage = new double[rows];
        var estimate = ImportanceSampling.Run(weights, data, k, seed, perImage: perImage);
        // The estimator's Gaussian likelihood of an MSE model adds (D / 2) log(pi) to the squared error (see VaeImportanceWeights).
        double constant = recon == ReconstructionLoss.Mse ? 0.5 * config.Input * Math.Log(Math.PI) : 0;
        for (int i = 0; i < rows; i++)
        {
            output.WriteLine($"image {i}: forward's bound {bound[i] + constant:R}, estimator {perImage[i]:R}");
            Assert.True(Math.Abs(bound[i] + constant - perImage[i]) <= 2e-5 * Math.Abs(perImage[i]) + 1e-5, $"image {i}: {bound[i] + constant} vs {perImage[i]}");
        }
        double negativeElbo = (totals[0] + (double)totals[1]) / rows + constant;
        Assert.True(Math.Abs(negativeElbo - estimate.NegativeElbo) <= 2e-5 * Math.Abs(estimate.NegativeElbo), $"K-sample -ELBO {negativeElbo} vs {estimate.NegativeElbo}");
        Assert.True(estimate.Nll < estimate.NegativeElbo);
    }

    [Theory]
    [InlineData(ReconstructionLoss.Bce, 1f)]
    [InlineData(ReconstructionLoss.Mse, 0.5f)]
    public void The_cuda_kernels_agree_with_the_cpu_backend(ReconstructionLoss recon, float klWeight)
    {
        const int rows = 6;
        var config = new VaeConfig(20, [9, 7], 4, recon, importanceSamples: 3);
        (float[] Totals, float[] Bound, float[] Gradients) Run(string backendName)
        {
            using var backend = Backends.Create(backendName);
            using var model = IwaeGradientTests.Prepare(backend, config, rows, seed: 5, out _, out _, out _);
            model.Forward(rows);
            model.Backward(rows, klWeight, 0f);
            return (Download(backend, model.LossTotals), Download(backend, model.IwaeBoundPerSample.Slice(0, rows)), Download(backend, model.Parameters.Gradients));
        }
        var cpu = Run("cpu");
        var cuda = Run("cuda-interpreted");
        Tolerance.AssertClose("loss totals", cuda.Totals, cpu.Totals, 1e-5, 1e-5);
        Tolerance.AssertClose("bound per image", cuda.Bound, cpu.Bound, 1e-5, 1e-5);
        double largest = cpu.Gradients.Max(g => Math.Abs((double)g));
        Assert.True(largest > 0);
        Tolerance.AssertClose("gradients", cuda.Gradients, cpu.Gradients, 1e-4 * largest, 0);
    }

    [Fact]
    public void Free_bits_are_refused_and_the_noise_holds_k_samples_per_image()
    {
        using var backend = Backends.Create("cpu");
        using var model = new VaeModel(backend, new VaeConfig(10, [6], 3, importanceSamples: 5), capacity: 4);
        Assert.Equal(15, model.NoisePerRow);
        Assert.Equal(20, model.SampleCapacity);
        Assert.Equal(4 * 15, model.Noise.Length);
        model.InitializeParameters(1);
        backend.Upload<float>(SyntheticImages.Uniform(1, 4, 10), model.Input.Slice(0, 40));
        model.Forward(4);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Backward(4, 1f, 0.5f));
        Assert.Contains("IWAE objective", e.Message, StringComparison.Ordinal);
        model.Backward(4, 1f, 0f);
    }

    [Fact]
    public void Training_on_the_bound_lowers_it_and_evaluates()
    {
        const int pixels = 36;
        var train = SyntheticImages.Prototypes(seed: 3, 512, pixels, prototypes: 6, noise: 0.1f);
        var test = train.AsSpan(0, 128 * pixels).ToArray();
        var config = new VaeConfig(pixels, [24], 4, importanceSamples: 5);
        var options = new TrainingOptions { Epochs = 6, BatchSize = 32, Seed = 2, Adam = new AdamSettings(3e-3f) };
        using var run = new TrainingSetup(Backends.Create("cpu-3"), config, options, new TrainingState(), train, test);
        double Bound()
        {
            using var weights = run.Model.CreateImportanceWeights();
            return ImportanceSampling.Run(weights, run.Test!, 5).Nll;
        }
        double before = Bound();
        run.Trainer.Run(null);
        double after = Bound();
        var eval = run.Trainer.LastEvaluation!;
        output.WriteLine($"test IWAE-5 bound {before:F2} -> {after:F2}; test loss {eval.Loss:F2} (recon {eval.Recon:F2}, kl {eval.Kl:F2}), active units {eval.ActiveUnits}");
        Assert.True(after < before - 5, $"training did not lower the bound: {before} -> {after}");
        Assert.True(double.IsFinite(eval.Loss) && eval.ActiveUnits > 0, $"test loss {eval.Loss}, active units {eval.ActiveUnits}");
        foreach (var r in run.Trainer.State.History) Assert.True(double.IsFinite(r.TrainLoss));
    }

    [Fact]
    public void Captured_cuda_graph_steps_equal_eager_steps_bit_for_bit()
    {
        // The interpreted device records what stream capture would, and fails a capture that copies to the host: the
        // importance-weighted step must be device work only, replayed with new noise and weights each time.
        var config = new VaeConfig(12, [7], 3, importanceSamples: 3);
        var images = SyntheticImages.Uniform(5, 23, 12);   // batch 8: two full batches and a partial one per epoch
        float[] Train(bool graphs, out int replays)
        {
            var device = new InterpretedCudaDevice();
            var options = new TrainingOptions { Epochs = 2, BatchSize = 8, Seed = 9, UseGraphs = graphs };
            using var setup = new TrainingSetup(new Vae.Cuda.CudaBackend(device), config, options, new TrainingState(), images, null);
            Assert.Equal(graphs, setup.Trainer.UsesGraphs);
            setup.Trainer.Run(null);
            replays = device.GraphReplays;
            return setup.Parameters();
        }
        var eager = Train(false, out int eagerReplays);
        var replayed = Train(true, out int replays);
        Assert.Equal(0, eagerReplays);
        Assert.Equal(5, replays);   // 6 steps: the first eager, every later one a replay (graphs for 8 and for 7 rows)
        Tolerance.AssertBitwiseEqual("parameters after 2 epochs", replayed, eager);
    }

    [Fact]
    public void A_checkpoint_round_trips_and_a_resumed_run_continues_bit_for_bit()
    {
        var config = new VaeConfig(30, [12], 4, importanceSamples: 3);
        var trainData = SyntheticImages.Uniform(seed: 5, 100, config.Input);   // 100 = 6 * 16 + 4: a partial last batch
        var testData = SyntheticImages.Uniform(seed: 6, 24, config.Input);
        var options = new TrainingOptions { Epochs = 2, BatchSize = 16, Seed = 4, Adam = new AdamSettings(2e-3f) };
        using var continuous = new TrainingSetup(Backends.Create("cpu-3"), config, options, new TrainingState(), trainData, testData);
        continuous.Trainer.Run(null);

        using var folder = new TempFolder();
        string path = folder.File("iwae.safetensors");
        using (var first = new TrainingSetup(Backends.Create("cpu-3"), config, options with { Epochs = 1 }, new TrainingState(), trainData, testData))
        {
            first.Trainer.Run(null, _ => Checkpoint.Save(path, first.Model, first.Trainer.Options, first.Trainer.State));
            Assert.Equal(100UL * 3 * 4, first.Trainer.State.RngOffset);   // K * L noise numbers per image
        }
        Assert.Contains("\"iwae\":3", SafeTensorsFile.Read(path).Metadata["config"], StringComparison.Ordinal);
        var checkpoint = Checkpoint.Read(path);
        Assert.Equal(config, checkpoint.Config);
        using var resumed = new TrainingSetup(Backends.Create("cpu-1"), (VaeConfig)checkpoint.Config, checkpoint.Options! with { Epochs = 2 },
            checkpoint.State, trainData, testData, initialize: false);
        checkpoint.LoadInto(resumed.Model, withOptimizerState: true);
        resumed.Trainer.Run(null);
        Tolerance.AssertBitwiseEqual("parameters after a resumed IWAE run", resumed.Parameters(), continuous.Parameters());
        Tolerance.AssertBitwiseEqual("Adam m after a resumed IWAE run", resumed.AdamM(), continuous.AdamM());
        Assert.Equal(continuous.Trainer.State.RngOffset, resumed.Trainer.State.RngOffset);
        Assert.Equal(continuous.Trainer.State.History[^1].TestLoss, resumed.Trainer.State.History[^1].TestLoss);
    }
}

[Collection(nameof(AllocationCollection))]
public sealed class IwaeAllocationTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(128)]
    [InlineData(96)]
    public void An_importance_weighted_training_step_allocates_nothing_once_warm(int rows)
    {
        var config = new VaeConfig(784, [400, 400], 20, importanceSamples: 5);
        var options = new TrainingOptions { Epochs = 1, BatchSize = 128, Seed = 3 };
        using var run = new TrainingSetup(new CpuBackend(threads: 2), config, options, new TrainingState(), SyntheticImages.Uniform(seed: 1, 300, config.Input), null);
        var m = AllocationMeter.MeasureTrainingSteps(run.Trainer, run.Train, AllocationMeter.SpreadIndices(rows, 300), run.Backend, measuredSteps: 6);
        output.WriteLine($"6 steps of {rows} rows, K = 5: fewest bytes {m.FewestOnThread} on the calling thread, {m.FewestInProcess} in the process");
        Assert.True(m.FewestOnThread == 0, $"IWAE training steps allocated {m.FewestOnThread} bytes on the calling thread");
        Assert.False(m.ProcessAllocates, $"IWAE training steps allocated {m.FewestInProcess} bytes in the process (pool workers)");
        Assert.True(float.IsFinite(run.Trainer.LastTotals[0]) && run.Trainer.LastTotals[0] > 0);
    }
}
