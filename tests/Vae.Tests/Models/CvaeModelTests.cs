// The conditional VAE: against PyTorch (tests/fixtures/cvae_reference_*.safetensors: loss, its parts, mu, logvar,
// logits and every parameter gradient to 1e-4 of each tensor's largest magnitude), the CUDA backend's kernels (PTX
// interpreter) against the CPU backend on a forward/backward, the label actually conditioning the decoder, the host
// conveniences (samples per seed and label, reconstructions, interpolation ends), label validation, the importance
// weights against the double-precision formula, and the configuration's validation and JSON round trip.
using System.Globalization;
using Vae.Checkpoints;
using Vae.Diagnostics;
using Vae.Models;
using Vae.Random;
using Vae.Tests.Support;
using Vae.Training;
using Xunit;
using Xunit.Abstractions;

namespace Vae.Tests.Models;

public sealed class CvaeModelTests(ITestOutputHelper output)
{
    static readonly CvaeConfig Small = new(12, [7], 3, 3);

    /// <summary>A seeded model whose parameters are nudged off the initialization (every bias non-zero).</summary>
    internal static CvaeModel NewModel(IComputeBackend backend, CvaeConfig config, int capacity, int seed)
    {
        var model = new CvaeModel(backend, config, capacity);
        model.InitializeParameters((ulong)seed);
        var p = Download(backend, model.Parameters.Parameters);
        var rng = new System.Random(seed);
        for (int i = 0; i < p.Length; i++) p[i] += 0.05f * (rng.NextSingle() - 0.5f);
        backend.Upload<float>(p, model.Parameters.Parameters);
        return model;
    }

    internal static float[] Download(IComputeBackend backend, DeviceSpan<float> view)
    {
        var host = new float[view.Length];
        backend.Download(view, host);
        return host;
    }

    /// <summary>(rows, classes) one-hot rows of labels.</summary>
    internal static float[] OneHot(IReadOnlyList<int> labels, int classes)
    {
        var rows = new float[labels.Count * classes];
        for (int i = 0; i < labels.Count; i++) rows[i * classes + labels[i]] = 1f;
        return rows;
    }

    /// <summary>Images, one-hot labels and noise of a batch, uploaded into the model's Input, Condition and Eps.</summary>
    internal static (float[] X, float[] Y, float[] Eps) LoadBatch(CvaeModel model, int rows, int seed)
    {
        var backend = model.Backend;
        var config = model.Config;
        var x = SyntheticImages.Uniform(seed, rows, config.Input);
        var y = OneHot(Enumerable.Range(0, rows).Select(i => (i * 7 + seed) % config.Classes).ToArray(), config.Classes);
        backend.Upload<float>(x, model.Input.Slice(0, x.Length));
        backend.Upload<float>(y, model.Condition.Slice(0, y.Length));
        backend.RandomNormal(model.Eps.Slice(0, rows * config.Latent), (ulong)seed, 0);
        return (x, y, Download(backend, model.Eps.Slice(0, rows * config.Latent)));
    }

    public static TheoryData<string, string> Fixtures => PyTorchFixture.OnBothBackends(
        "cvae_reference_bce_784_32_8_c10.safetensors",
        "cvae_reference_mse_50_24_16_5_c3.safetensors");

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Model_matches_pytorch_loss_activations_and_every_gradient(string fixtureName, string backendName)
    {
        var fixture = new PyTorchFixture(fixtureName);
        var config = CvaeConfig.FromJson(fixture.ConfigJson, fixture.Path);
        int batch = fixture.Batch;
        using var backend = Backends.Create(backendName);
        using var model = new CvaeModel(backend, config, batch);
        Assert.Equal(model.NamedTensors.Select(t => t.Name), fixture.File.Tensors.Select(t => t.Name).Where(n => model.NamedTensors.Any(t => t.Name == n)));
        fixture.LoadParameters(model);
        backend.Upload<float>(fixture.Floats("x"), model.Input.Slice(0, batch * config.Input));
        backend.Upload<float>(fixture.Floats("y"), model.Condition.Slice(0, batch * config.Classes));
        backend.Upload<float>(fixture.Floats("eps"), model.Eps.Slice(0, batch * config.Latent));

        model.Forward(batch);
        model.Backward(batch);

        fixture.AssertOneLayerVae(model, config.Beta);
    }

    [Theory]
    [InlineData(ReconstructionLoss.Bce, 0f)]
    [InlineData(ReconstructionLoss.Mse, 0.05f)]
    public void Interpreted_cuda_backend_agrees_with_the_cpu_backend_on_forward_and_backward(ReconstructionLoss recon, float freeBits)
    {
        var config = new CvaeConfig(12, [7], 3, 3, recon, beta: 0.7f);
        const int rows = 5;
        (float[] Totals, float[] Gradients, float[] Logits) Run(string name)
        {
            using var backend = Backends.Create(name);
            using var model = NewModel(backend, config, capacity: rows + 1, seed: 17);
            LoadBatch(model, rows, seed: 4);
            model.Forward(rows);
            model.Backward(rows, config.Beta, freeBits);
            return (Download(backend, model.LossTotals), Download(backend, model.Parameters.Gradients), Download(backend, model.Logits.Slice(0, rows * config.Input)));
        }
        var cpu = Run("cpu");
        var cuda = Run("cuda-interpreted");
        Tolerance.AssertClose("loss totals", cuda.Totals, cpu.Totals, 1e-5, 1e-5);
        Tolerance.AssertClose("logits", cuda.Logits, cpu.Logits, 1e-5, 1e-5);
        double largest = cpu.Gradients.Max(g => Math.Abs(g));
        Assert.True(largest > 0, "the gradient is identically zero");
        Tolerance.AssertClose("gradients", cuda.Gradients, cpu.Gradients, 1e-4 * largest, 0);
    }

    [Fact]
    public void The_label_conditions_the_decoder_and_samples_repeat_per_seed_whatever_the_capacity()
    {
        using var backend = Backends.Create("cpu");
        using var wide = NewModel(backend, Small, capacity: 16, seed: 3);
        using var narrow = NewModel(backend, Small, capacity: 3, seed: 3);   // 8 samples in chunks of 3, 3 and 2
        int[] labels = [0, 1, 2, 0, 1, 2, 2, 0];
        var a = wide.Sample(8, seed: 5, labels);
        Assert.Equal(a, wide.Sample(8, seed: 5, labels));
        Assert.Equal(a, narrow.Sample(8, seed: 5, labels));
        Assert.NotEqual(a, wide.Sample(8, seed: 6, labels));
        foreach (float p in a) Assert.InRange(p, 0f, 1f);

        // The same z under another label decodes differently, and a label's samples are its own whatever the others.
        int d = Small.Input;
        var relabelled = wide.Sample(8, seed: 5, [1, 1, 2, 0, 1, 2, 2, 0]);
        Assert.NotEqual(a.AsSpan(0, d).ToArray(), relabelled.AsSpan(0, d).ToArray());
        Assert.Equal(a.AsSpan(d).ToArray(), relabelled.AsSpan(d).ToArray());

        // The decoder reads exactly z and the label: DecodeLatents of the prior draws under the labels gives the samples.
        var z = new float[8 * Small.Latent];
        for (int i = 0; i < z.Length; i++) z[i] = PhiloxNormal.Sample(5, (ulong)i);
        Tolerance.AssertClose("decoded prior draws vs samples", wide.DecodeLatents(z, labels, 8), a, 1e-6, 1e-5);
    }

    [Fact]
    public void Reconstructions_use_the_labels_and_interpolation_ends_are_the_two_reconstructions()
    {
        using var backend = Backends.Create("cpu-3");
        using var model = NewModel(backend, Small, capacity: 4, seed: 9);
        int d = Small.Input;
        var images = SyntheticImages.Uniform(seed: 1, 2, d);
        var reconstructions = model.Reconstruct(images, 2, [2, 0]);
        Assert.NotEqual(reconstructions, model.Reconstruct(images, 2, [1, 0]));
        var path = model.Interpolate(images.AsSpan(0, d), images.AsSpan(d, d), steps: 7, labelA: 2, labelB: 0);
        Assert.Equal(7 * d, path.Length);
        Tolerance.AssertClose("first step vs reconstruction of a", path.AsSpan(0, d), reconstructions.AsSpan(0, d), 1e-5, 1e-5);
        Tolerance.AssertClose("last step vs reconstruction of b", path.AsSpan(6 * d), reconstructions.AsSpan(d), 1e-5, 1e-5);
        Assert.NotEqual(path.AsSpan(3 * d, d).ToArray(), reconstructions.AsSpan(0, d).ToArray());
    }

    [Fact]
    public void Missing_and_out_of_range_labels_are_rejected()
    {
        using var backend = Backends.Create("cpu");
        using var model = NewModel(backend, Small, capacity: 4, seed: 1);
        var image = SyntheticImages.Uniform(seed: 2, 1, Small.Input);
        Assert.Contains("one class label per image", Assert.Throws<ArgumentException>(() => model.Sample(2, 1)).Message, StringComparison.Ordinal);
        Assert.Contains("outside the model's 3 classes", Assert.Throws<ArgumentOutOfRangeException>(() => model.Sample(2, 1, [0, 3])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Sample(1, 1, [-1]));
        Assert.Throws<ArgumentException>(() => model.Reconstruct(image, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Interpolate(image, image, 3, 0, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Interpolate(image, image, 3));
    }

    [Theory]
    [InlineData(ReconstructionLoss.Bce)]
    [InlineData(ReconstructionLoss.Mse)]
    public void Importance_weights_equal_the_double_precision_formula_for_the_same_noise(ReconstructionLoss recon)
    {
        var config = new CvaeConfig(12, [7, 5], 3, 4, recon);
        const int images = 5, samples = 7;
        using var backend = Backends.Create("cpu");
        using var model = NewModel(backend, config, capacity: 4, seed: 11);
        var x = SyntheticImages.Uniform(seed: 2, images, config.Input);
        byte[] labels = [3, 0, 2, 1, 3];
        using var data = new DeviceDataset(backend, x, images, config.Input, labels, config.Classes);
        using var weights = model.CreateImportanceWeights();
        var perImage = new double[images];
        // 3 images per batch and chunks of 4 samples: chunks cross image and batch boundaries.
        var result = ImportanceSampling.Run(weights, data, samples, seed: 99, imagesPerBatch: 3, perImage: perImage);

        var reference = new DoubleCvae(config, model.NamedTensors, Download(backend, model.Parameters.Parameters));
        var y = OneHot(labels.Select(b => (int)b).ToArray(), config.Classes);
        ImportanceSamplingChecks.EqualsTheFormula(output, result, perImage, samples, config.Latent, seed: 99,
            (i, eps) => reference.LogWeight(x.AsSpan(i * config.Input, config.Input), y.AsSpan(i * config.Classes, config.Classes), [.. eps.Select(v => (double)v)]), recon);

        // A dataset without the model's labels is refused.
        using var unlabelled = new DeviceDataset(backend, x, images, config.Input);
        Assert.Contains("4 classes", Assert.Throws<ArgumentException>(() => ImportanceSampling.Run(weights, unlabelled, 2)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Configurations_are_validated_and_round_trip_through_json_and_model_configs()
    {
        foreach (var config in new[] { CvaeConfig.Default, new CvaeConfig(50, [], 2, 1, ReconstructionLoss.Mse, 0.25f), new CvaeConfig(12, [9, 8, 7], 3, 5, beta: 4f) })
        {
            string json = config.ToJson();
            Assert.StartsWith("{\"model\":\"cvae\",", json, StringComparison.Ordinal);
            Assert.Equal(config, CvaeConfig.FromJson(json, "test"));
            Assert.Equal(config, ModelConfigs.FromJson(json, "test"));
            Assert.Equal(config.GetHashCode(), CvaeConfig.FromJson(json, "test").GetHashCode());
        }
        Assert.Equal("784-400-400-20 (10 classes) bce beta=1", CvaeConfig.Default.ToString());
        Assert.NotEqual(CvaeConfig.Default, new CvaeConfig(784, [400, 400], 20, 9));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CvaeConfig(784, [400], 20, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CvaeConfig(784, [0], 20, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CvaeConfig(784, [400], 20, 10, beta: -1f));
        Assert.Contains("'vae' model", Assert.Throws<InvalidDataException>(() => CvaeConfig.FromJson(VaeConfig.Default.ToJson(), "file.safetensors")).Message, StringComparison.Ordinal);
        var missing = Assert.Throws<InvalidDataException>(() => CvaeConfig.FromJson("{\"model\":\"cvae\",\"input\":4,\"hidden\":[],\"latent\":2}", "file.safetensors"));
        Assert.Contains("file.safetensors", missing.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => CvaeConfig.FromJson("{\"model\":\"cvae\",\"input\":4,\"hidden\":[],\"latent\":2,\"classes\":0}", "f"));
        Assert.Throws<InvalidDataException>(() => CvaeConfig.FromJson("not json", "f"));
    }

    [Fact]
    public void A_checkpoint_of_a_cvae_restores_the_model_of_its_kind()
    {
        using var folder = new TempFolder();
        using var backend = Backends.Create("cpu");
        using var model = NewModel(backend, Small, capacity: 2, seed: 4);
        Checkpoint.Save(folder.File("c.safetensors"), model, null, null);
        var checkpoint = Checkpoint.Read(folder.File("c.safetensors"));
        Assert.Equal(Small, checkpoint.Config);
        using var loaded = checkpoint.Config.Create(backend, 3);
        checkpoint.LoadInto(loaded, withOptimizerState: false);
        Assert.IsType<CvaeModel>(loaded);
        var saved = Download(backend, model.Parameters.Parameters);
        var restored = Download(backend, loaded.Parameters.Parameters);
        Assert.Equal(model.NamedTensors.Select(t => t.Name), loaded.NamedTensors.Select(t => t.Name));
        foreach (var t in model.NamedTensors) Assert.Equal(saved.AsSpan(t.Offset, t.Length).ToArray(), restored.AsSpan(t.Offset, t.Length).ToArray());
        Assert.Equal(model.Sample(4, 2, [0, 1, 2, 1]), loaded.Sample(4, 2, [0, 1, 2, 1]));
    }
}
