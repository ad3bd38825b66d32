// The hierarchical VAE (HvaeModel, HvaeConfig): configuration JSON and errors, the PyTorch reference fixtures
// (tests/fixtures/hvae_reference_*.safetensors: loss, recon, both KLs, every network output and every gradient, one
// with free bits), the CUDA backend's kernels on the PTX interpreter against the CPU backend, the latent groups and
// the host-side helpers (sampling, reconstruction, interpolation).
using System.Text.Json;
using Vae.Checkpoints;
using Vae.Models;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Models;

public sealed class HvaeModelTests
{
    /// <summary>A model of <paramref name="config"/> with seeded parameters nudged by +-spread/2 (biases nonzero), images and noise on the device.</summary>
    internal static HvaeModel Prepare(IComputeBackend backend, HvaeConfig config, int rows, int capacity, int seed, float spread,
        out float[] x, out float[] eps1, out float[] eps2, out float[] p)
    {
        var model = new HvaeModel(backend, config, capacity);
        model.InitializeParameters((ulong)seed);
        var rng = new System.Random(seed);
        p = new float[model.Parameters.Layout.TotalLength];
        backend.Download<float>(model.Parameters.Parameters, p);
        for (int i = 0; i < p.Length; i++) p[i] += spread * (rng.NextSingle() - 0.5f);
        backend.Upload<float>(p, model.Parameters.Parameters);
        x = SyntheticImages.Uniform(seed, rows, config.Input);
        backend.Upload<float>(x, model.Input.Slice(0, x.Length));
        int noise = model.NoisePerRow;
        backend.RandomNormal(model.Noise.Slice(0, rows * noise), (ulong)seed, 0);
        var both = new float[rows * noise];
        backend.Download(model.Noise.Slice(0, both.Length), both);
        eps1 = new float[rows * config.Latent1];
        eps2 = new float[rows * config.Latent2];
        for (int r = 0; r < rows; r++)
        {
            both.AsSpan(r * noise, config.Latent1).CopyTo(eps1.AsSpan(r * config.Latent1));
            both.AsSpan(r * noise + config.Latent1, config.Latent2).CopyTo(eps2.AsSpan(r * config.Latent2));
        }
        return model;
    }

    static float[] Download(IComputeBackend backend, DeviceSpan<float> view, int count)
    {
        var values = new float[count];
        backend.Download<float>(view.Slice(0, count), values);
        return values;
    }

    // ------------------------------------------------------------------ configuration

    [Fact]
    public void Config_json_round_trips_and_is_known_to_ModelConfigs()
    {
        var config = new HvaeConfig(50, [40, 30], 6, [12], 3, ReconstructionLoss.Mse, 0.25f);
        string json = config.ToJson();
        using (var doc = JsonDocument.Parse(json))
        {
            Assert.Equal("hvae", doc.RootElement.GetProperty("model").GetString());
            Assert.Equal(6, doc.RootElement.GetProperty("latent1").GetInt32());
            Assert.Equal(3, doc.RootElement.GetProperty("latent2").GetInt32());
            Assert.Equal("[12]", doc.RootElement.GetProperty("hidden2").GetRawText());
        }
        Assert.Equal(config, HvaeConfig.FromJson(json, "test"));
        var parsed = ModelConfigs.FromJson(json, "test");
        Assert.IsType<HvaeConfig>(parsed);
        Assert.Equal(config, parsed);
        Assert.Contains("hvae", ModelConfigs.Kinds);
        Assert.Equal("50-40-30-z6-12-z3", config.Describe());
        Assert.Equal("50-40-30-z6-12-z3 mse beta=0.25", config.ToString());
        Assert.NotEqual(config, new HvaeConfig(50, [40, 30], 6, [12], 4, ReconstructionLoss.Mse, 0.25f));
        Assert.NotEqual(config, new HvaeConfig(50, [40, 30], 6, [13], 3, ReconstructionLoss.Mse, 0.25f));
    }

    [Fact]
    public void Bad_configs_are_rejected_with_what_is_wrong()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new HvaeConfig(10, [4], 0, [3], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HvaeConfig(10, [4], 3, [3], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HvaeConfig(10, [4], 3, [0], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HvaeConfig(10, [4], 3, [3], 2, beta: float.NaN));
        var missing = Assert.Throws<InvalidDataException>(() => ModelConfigs.FromJson("""{"model":"hvae","input":10,"hidden":[4],"latent1":3}""", "f.safetensors"));
        Assert.Contains("f.safetensors", missing.Message, StringComparison.Ordinal);
        Assert.Contains("hidden2", missing.Message, StringComparison.Ordinal);
        var negative = Assert.Throws<InvalidDataException>(() => HvaeConfig.FromJson("""{"model":"hvae","input":10,"hidden":[4],"latent1":3,"hidden2":[5],"latent2":-1}""", "g"));
        Assert.Contains("second latent layer", negative.Message, StringComparison.Ordinal);
        var other = Assert.Throws<InvalidDataException>(() => HvaeConfig.FromJson(VaeConfig.Default.ToJson(), "h"));
        Assert.Contains("'vae'", other.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Default_architecture_has_the_documented_size_and_latent_groups()
    {
        var config = HvaeConfig.Default;
        using var backend = Backends.Create("cpu");
        using var model = new HvaeModel(backend, config, 8);
        // Linear layers (in, out): q1 784-400-400-(2x32), q2 32-100-100-(2x16), prior 16-100-100-(2x32), decoder 32-400-400-784.
        (int In, int Out)[] layers = [(784, 400), (400, 400), (400, 64), (32, 100), (100, 100), (100, 32), (16, 100), (100, 100), (100, 64),
            (32, 400), (400, 400), (400, 784)];
        Assert.Equal(layers.Sum(l => (long)l.In * l.Out + l.Out), model.ParameterCount);
        using var vae = new VaeModel(backend, VaeConfig.Default, 8);
        double ratio = model.ParameterCount / (double)vae.ParameterCount;
        Assert.InRange(ratio, 1.0, 1.1);   // comparable in size to the seed VAE
        Assert.Equal(48, model.NoisePerRow);
        Assert.Equal(["z1", "z2"], model.LatentGroups.Select(g => g.Name));
        Assert.Equal([32, 16], model.LatentGroups.Select(g => g.Width));
        Assert.Equal(model.NamedTensors.Sum(t => (long)t.Length), model.ParameterCount);
        Assert.Equal(model.NamedTensors.Count, model.NamedTensors.Select(t => t.Name).Distinct().Count());
    }

    // ------------------------------------------------------------------ PyTorch fixtures

    public static TheoryData<string, string> Fixtures => PyTorchFixture.OnBothBackends(
        "hvae_reference_bce_60_24_6_10_4.safetensors",
        "hvae_reference_mse_784_32_16_8_12_10_3.safetensors");

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Model_matches_pytorch_losses_outputs_and_every_gradient(string fixtureName, string backendName)
    {
        var fixture = new PyTorchFixture(fixtureName);
        var config = HvaeConfig.FromJson(fixture.ConfigJson, fixture.Path);
        int batch = fixture.Batch;
        float freeBits = fixture.Meta.GetProperty("free_bits").GetSingle();
        using var backend = Backends.Create(backendName);
        using var model = new HvaeModel(backend, config, batch + 1);   // capacity above the batch: the rows < capacity path
        fixture.LoadParameters(model);
        backend.Upload<float>(fixture.Floats("x"), model.Input.Slice(0, batch * config.Input));
        var eps1 = fixture.Floats("eps1");
        var eps2 = fixture.Floats("eps2");
        var noise = new float[batch * model.NoisePerRow];
        for (int r = 0; r < batch; r++)
        {
            eps1.AsSpan(r * config.Latent1, config.Latent1).CopyTo(noise.AsSpan(r * model.NoisePerRow));
            eps2.AsSpan(r * config.Latent2, config.Latent2).CopyTo(noise.AsSpan(r * model.NoisePerRow + config.Latent1));
        }
        backend.Upload<float>(noise, model.Noise.Slice(0, noise.Length));

        model.Forward(batch);
        model.Backward(batch, config.Beta, freeBits);

        var totals = Download(backend, model.LossTotals, 2);
        double recon = totals[0] / (double)batch, kl = totals[1] / (double)batch;
        double kl1 = Download(backend, model.LatentGroups[0].KlTotal, 1)[0] / (double)batch;
        double kl2 = Download(backend, model.LatentGroups[1].KlTotal, 1)[0] / (double)batch;
        fixture.AssertClose("recon", [recon]);
        fixture.AssertClose("kl1", [kl1]);
        fixture.AssertClose("kl2", [kl2]);
        PyTorchFixture.AssertClose("kl", [fixture.Doubles("kl1")[0] + fixture.Doubles("kl2")[0]], [kl]);
        fixture.AssertClose("loss", [recon + config.Beta * kl]);
        var klPerSample = Download(backend, model.KlPerSample, batch);
        Assert.Equal(kl * batch, klPerSample.Sum(v => (double)v), 3);
        foreach (var (name, view, width) in new[]
        {
            ("mu1", model.Mu1, config.Latent1), ("logvar1", model.LogVar1, config.Latent1), ("mu2", model.Mu2, config.Latent2),
            ("logvar2", model.LogVar2, config.Latent2), ("prior_mu", model.PriorMu, config.Latent1), ("prior_logvar", model.PriorLogVar, config.Latent1),
            ("logits", model.Logits, config.Input),
        })
            fixture.AssertClose(name, PyTorchFixture.Download(backend, view, batch * width));
        fixture.AssertGradients(model);
        if (freeBits > 0)
        {
            // The fixture was chosen with dimensions on both sides of the floor in each layer: the mask did something.
            var perDimension = Download(backend, model.KlPerDimension, config.Latent1 + config.Latent2);
            Assert.Contains(perDimension.Take(config.Latent1), k => k > freeBits);
            Assert.Contains(perDimension.Take(config.Latent1), k => k < freeBits);
            Assert.Contains(perDimension.Skip(config.Latent1), k => k > freeBits);
            Assert.Contains(perDimension.Skip(config.Latent1), k => k < freeBits);
        }
    }

    // ------------------------------------------------------------------ backends

    [Theory]
    [InlineData(ReconstructionLoss.Bce, 1f, 0f)]
    [InlineData(ReconstructionLoss.Mse, 0.5f, 0.05f)]
    public void Interpreted_cuda_backend_agrees_with_the_cpu_backend(ReconstructionLoss recon, float beta, float freeBits)
    {
        var config = new HvaeConfig(12, [8], 4, [6], 3, recon, beta);
        const int rows = 5, seed = 21;
        (float[] Totals, float[] Groups, float[] Gradients, float[] PerDimension) Run(string name)
        {
            using var backend = Backends.Create(name);
            using var model = Prepare(backend, config, rows, rows + 2, seed, 0.6f, out _, out _, out _, out _);
            model.Forward(rows);
            model.Backward(rows, beta, freeBits);
            var groups = new[] { Download(backend, model.LatentGroups[0].KlTotal, 1)[0], Download(backend, model.LatentGroups[1].KlTotal, 1)[0] };
            return (Download(backend, model.LossTotals, 2), groups, Download(backend, model.Parameters.Gradients, model.Parameters.Layout.TotalLength),
                Download(backend, model.KlPerDimension, config.Latent1 + config.Latent2));
        }
        var cpu = Run("cpu");
        var cuda = Run("cuda-interpreted");
        for (int i = 0; i < 2; i++)
        {
            Assert.True(Math.Abs(cuda.Totals[i] - cpu.Totals[i]) <= 1e-5 * Math.Abs(cpu.Totals[i]), $"totals[{i}]: {cuda.Totals[i]} vs {cpu.Totals[i]}");
            Assert.True(Math.Abs(cuda.Groups[i] - cpu.Groups[i]) <= 1e-5 * Math.Abs(cpu.Groups[i]) + 1e-7, $"group {i} KL: {cuda.Groups[i]} vs {cpu.Groups[i]}");
        }
        double largest = cpu.Gradients.Max(Math.Abs);
        Assert.True(largest > 0);
        for (int i = 0; i < cpu.Gradients.Length; i++)
            Assert.True(Math.Abs(cuda.Gradients[i] - cpu.Gradients[i]) <= 1e-4 * largest, $"gradient [{i}]: {cuda.Gradients[i]} vs {cpu.Gradients[i]}");
        if (freeBits > 0)
            for (int i = 0; i < cpu.PerDimension.Length; i++)
                Assert.True(Math.Abs(cuda.PerDimension[i] - cpu.PerDimension[i]) <= 1e-5 * Math.Abs(cpu.PerDimension[i]) + 1e-7, $"KL per dimension [{i}]");
    }

    // ------------------------------------------------------------------ forward details and helpers

    [Fact]
    public void Forward_reports_each_layer_and_the_z2_means_of_q_at_the_z1_mean()
    {
        var config = new HvaeConfig(10, [7], 4, [5], 2);
        const int rows = 6;
        using var backend = Backends.Create("cpu");
        using var model = Prepare(backend, config, rows, 8, seed: 4, spread: 0.4f, out var x, out var eps1, out var eps2, out var p);
        model.Forward(rows);
        var reference = new DoubleHvae(config, model.NamedTensors, p);
        var terms = reference.Forward(x, eps1, eps2, rows);
        double kl1 = Download(backend, model.LatentGroups[0].KlTotal, 1)[0] / (double)rows;
        double kl2 = Download(backend, model.LatentGroups[1].KlTotal, 1)[0] / (double)rows;
        Assert.Equal(terms.Kl1, kl1, 4);
        Assert.Equal(terms.Kl2, kl2, 4);
        Assert.Equal(terms.Recon, Download(backend, model.LossTotals, 1)[0] / (double)rows, 3);
        // The z2 group's means are q(z2 | z1)'s mean at z1 = mu1(x), not at the sampled z1.
        var (mu1, _) = reference.Encode1(x.Select(v => (double)v).ToArray(), rows);
        var (expected, _) = reference.Encode2(mu1, rows);
        var means = Download(backend, model.LatentGroups[1].Means, rows * config.Latent2);
        var sampled = Download(backend, model.Mu2, rows * config.Latent2);
        for (int i = 0; i < means.Length; i++) Assert.Equal(expected[i], means[i], 5);
        Assert.NotEqual(sampled, means);
    }

    [Fact]
    public void Sample_reconstruct_and_interpolate_give_finite_probabilities_and_repeat_for_a_seed()
    {
        var config = new HvaeConfig(16, [9], 4, [6], 2);
        using var backend = Backends.Create("cpu");
        using var model = Prepare(backend, config, 3, capacity: 5, seed: 8, spread: 0.2f, out var x, out _, out _, out _);
        var samples = model.Sample(12, seed: 3);   // 12 > capacity: several chunks
        Assert.Equal(12 * 16, samples.Length);
        Assert.All(samples, v => Assert.InRange(v, 0f, 1f));
        Assert.Equal(samples, model.Sample(12, seed: 3));
        Assert.NotEqual(samples, model.Sample(12, seed: 4));
        // The first chunk of a longer draw is the same draw (sample i takes its own slice of the noise stream).
        Assert.Equal(samples.AsSpan(0, 5 * 16).ToArray(), model.Sample(5, seed: 3));

        var reconstructions = model.Reconstruct(x, 3);
        Assert.Equal(3 * 16, reconstructions.Length);
        Assert.All(reconstructions, v => Assert.True(v is >= 0f and <= 1f));
        var path = model.Interpolate(x.AsSpan(0, 16), x.AsSpan(16, 16), 4);
        Assert.Equal(4 * 16, path.Length);
        Assert.Equal(reconstructions.AsSpan(0, 16).ToArray(), path.AsSpan(0, 16).ToArray());
        Assert.Equal(reconstructions.AsSpan(16, 16).ToArray(), path.AsSpan(3 * 16, 16).ToArray());

        Assert.Throws<ArgumentException>(() => model.Sample(2, 1, [0, 1]));
        Assert.Contains("16 pixels", Assert.Throws<ArgumentException>(() => model.Reconstruct(new float[15], 1)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(6));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Backward(1, float.NaN, 0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Backward(1, 1f, -1f));
    }

    [Fact]
    public void Checkpoint_round_trip_restores_the_model()
    {
        var config = new HvaeConfig(10, [6], 3, [4], 2, ReconstructionLoss.Bce, 0.5f);
        using var backend = Backends.Create("cpu");
        using var model = Prepare(backend, config, 2, 4, seed: 12, spread: 0.3f, out _, out _, out _, out var p);
        using var folder = new TempFolder();
        string file = folder.File("h.safetensors");
        Checkpoint.Save(file, model, new Vae.Training.TrainingOptions { Epochs = 1, BatchSize = 4 }, new Vae.Training.TrainingState());
        var read = Checkpoint.Read(file);
        Assert.Equal(config, read.Config);
        using var loaded = (HvaeModel)read.Config.Create(backend, 4);
        read.LoadInto(loaded, withOptimizerState: true);
        var restored = Download(backend, loaded.Parameters.Parameters, p.Length);
        foreach (var t in loaded.NamedTensors) Assert.Equal(p.AsSpan(t.Offset, t.Length).ToArray(), restored.AsSpan(t.Offset, t.Length).ToArray());
        using var vae = new VaeModel(backend, new VaeConfig(10, [6], 3), 4);
        var mismatch = Assert.Throws<InvalidDataException>(() => read.LoadInto(vae, withOptimizerState: false));
        Assert.Contains("hvae", mismatch.Message, StringComparison.Ordinal);
    }
}
