// The VAE model: host conveniences (Interpolate, Sample, Reconstruct) agree with each other, results for a row do not
// depend on how many rows run with it or on the model's capacity, the SIMD CPU backend agrees with the scalar
// reference backend on the loss and every gradient, Evaluation's latent statistics match a direct computation, and
// configurations are validated and survive their JSON round trip.
using Vae.Models;
using Vae.Tests.Support;
using Vae.Training;
using Xunit;
using Xunit.Abstractions;

namespace Vae.Tests.Models;

public sealed class VaeModelTests(ITestOutputHelper output)
{
    static readonly VaeConfig Config = new(64, [24, 16], 6);

    static VaeModel NewModel(IComputeBackend backend, VaeConfig config, int capacity, ulong seed = 9)
    {
        var model = new VaeModel(backend, config, capacity);
        model.InitializeParameters(seed);
        return model;
    }

    static float[] Download(IComputeBackend backend, DeviceSpan<float> view)
    {
        var host = new float[view.Length];
        backend.Download(view, host);
        return host;
    }

    /// <summary>|got - want| &lt;= rel * max(|want|, 1e-3) elementwise.</summary>
    static void AssertRelativeClose(string what, ReadOnlySpan<float> got, ReadOnlySpan<float> want, double rel)
    {
        var bound = new double[want.Length];
        for (int i = 0; i < bound.Length; i++) bound[i] = rel * Math.Max(Math.Abs(want[i]), 1e-3);
        Tolerance.AssertWithin(what, got, want, bound, $"rel {rel}");
    }

    [Fact]
    public void Interpolation_ends_are_the_reconstructions_of_the_two_images()
    {
        using var backend = Backends.Create("cpu-3");
        using var model = NewModel(backend, Config, capacity: 4);   // 7 steps run in two calls of 4 and 3 rows
        var images = SyntheticImages.Uniform(seed: 1, 2, Config.Input);
        var a = images.AsSpan(0, Config.Input);
        var b = images.AsSpan(Config.Input, Config.Input);
        var path = model.Interpolate(a, b, steps: 7);
        Assert.Equal(7 * Config.Input, path.Length);
        var reconstructions = model.Reconstruct(images, 2);
        Tolerance.AssertClose("first interpolation step vs reconstruction of a", path.AsSpan(0, Config.Input), reconstructions.AsSpan(0, Config.Input), 1e-5, 1e-5);
        Tolerance.AssertClose("last interpolation step vs reconstruction of b", path.AsSpan(6 * Config.Input), reconstructions.AsSpan(Config.Input), 1e-5, 1e-5);
        // The middle is neither end.
        Assert.NotEqual(path.AsSpan(3 * Config.Input, Config.Input).ToArray(), reconstructions.AsSpan(0, Config.Input).ToArray());
        Assert.NotEqual(path.AsSpan(3 * Config.Input, Config.Input).ToArray(), reconstructions.AsSpan(Config.Input).ToArray());
        foreach (float p in path) Assert.InRange(p, 0f, 1f);
    }

    [Fact]
    public void Interpolation_rejects_images_of_the_wrong_size()
    {
        using var backend = Backends.Create("cpu-1");
        using var model = NewModel(backend, Config, capacity: 4);
        var image = new float[Config.Input];
        Assert.Throws<ArgumentException>(() => model.Interpolate(image.AsSpan(0, Config.Input - 1), image, 3));
        Assert.Throws<ArgumentException>(() => model.Interpolate(image, new float[Config.Input + 1], 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Interpolate(image, image, 1));
    }

    [Fact]
    public void Samples_are_deterministic_per_seed_independent_of_capacity_and_differ_between_seeds()
    {
        using var backend = Backends.Create("cpu-3");
        using var small = NewModel(backend, Config, capacity: 5);
        using var large = NewModel(backend, Config, capacity: 64);
        var first = small.Sample(13, seed: 42);
        var again = small.Sample(13, seed: 42);
        var other = small.Sample(13, seed: 43);
        Assert.Equal(13 * Config.Input, first.Length);
        Tolerance.AssertBitwiseEqual("same seed twice", again, first);
        // Sample i uses noise indices [i L, (i + 1) L) of the stream whatever the batching.
        Tolerance.AssertClose("capacity 64 vs capacity 5", large.Sample(13, seed: 42), first, 1e-6, 1e-5);
        int differing = 0;
        for (int i = 0; i < first.Length; i++) if (first[i] != other[i]) differing++;
        Assert.True(differing > first.Length / 2, $"only {differing} of {first.Length} pixels differ between seeds 42 and 43");
        foreach (float p in first) Assert.InRange(p, 0f, 1f);
    }

    [Theory]
    [InlineData(ReconstructionLoss.Bce)]
    [InlineData(ReconstructionLoss.Mse)]
    public void Rows_fewer_than_capacity_give_the_same_rows_as_a_full_batch(ReconstructionLoss loss)
    {
        var config = new VaeConfig(64, [24, 16], 6, loss);
        const int capacity = 32, rows = 13;
        using var backend = Backends.Create("cpu-3");
        using var model = NewModel(backend, config, capacity);
        var images = SyntheticImages.Uniform(seed: 2, capacity, config.Input);
        var eps = HostData.Normal(new System.Random(3), capacity * config.Latent);

        backend.Upload<float>(images, model.Input);
        backend.Upload<float>(eps, model.Eps);
        model.Forward(capacity);
        var fullMu = Download(backend, model.Mu);
        var fullLogVar = Download(backend, model.LogVar);
        var fullLogits = Download(backend, model.Logits);
        var fullRecon = Download(backend, model.ReconPerSample);
        var fullKl = Download(backend, model.KlPerSample);

        // Scramble everything past the first rows so a kernel that reads beyond them would show.
        backend.Upload<float>(SyntheticImages.Uniform(seed: 99, capacity, config.Input), model.Input);
        backend.Upload<float>(images.AsSpan(0, rows * config.Input), model.Input.Slice(0, rows * config.Input));
        model.Forward(rows);
        int nl = rows * config.Latent, nd = rows * config.Input;
        AssertRelativeClose("mu", Download(backend, model.Mu)[..nl], fullMu[..nl], 1e-5);
        AssertRelativeClose("logvar", Download(backend, model.LogVar)[..nl], fullLogVar[..nl], 1e-5);
        AssertRelativeClose("logits", Download(backend, model.Logits)[..nd], fullLogits[..nd], 1e-5);
        AssertRelativeClose("recon per image", Download(backend, model.ReconPerSample)[..rows], fullRecon[..rows], 1e-5);
        AssertRelativeClose("kl per image", Download(backend, model.KlPerSample)[..rows], fullKl[..rows], 1e-5);
        var totals = Download(backend, model.LossTotals);
        Assert.Equal(fullRecon[..rows].Sum(x => (double)x), totals[0], 1e-4 * Math.Abs(totals[0]));
        Assert.Equal(fullKl[..rows].Sum(x => (double)x), totals[1], 1e-4 * Math.Abs(totals[1]) + 1e-6);

        // EncodeMeans through a smaller and a larger capacity agrees with the batch's mu.
        using var tiny = NewModel(backend, config, capacity: 3);
        AssertRelativeClose("EncodeMeans at capacity 3", tiny.EncodeMeans(images, capacity), fullMu, 1e-5);
    }

    public static TheoryData<ReconstructionLoss, int[]> LossesAndDepths => new()
    {
        { ReconstructionLoss.Bce, [] },
        { ReconstructionLoss.Bce, [24] },
        { ReconstructionLoss.Bce, [24, 20, 16] },
        { ReconstructionLoss.Mse, [] },
        { ReconstructionLoss.Mse, [24] },
        { ReconstructionLoss.Mse, [24, 20, 16] },
    };

    [Theory]
    [MemberData(nameof(LossesAndDepths))]
    public void Cpu_backend_matches_the_reference_on_loss_and_every_gradient(ReconstructionLoss loss, int[] hidden)
    {
        var config = new VaeConfig(64, hidden, 6, loss, beta: 0.7f);
        const int rows = 29, capacity = 32;
        using var cpu = Backends.Create("cpu-3");
        using var reference = Backends.Create("reference");
        using var fast = NewModel(cpu, config, capacity);
        using var exact = NewModel(reference, config, capacity);
        var images = SyntheticImages.Uniform(seed: 4, rows, config.Input);
        var eps = HostData.Normal(new System.Random(5), rows * config.Latent);
        foreach (var (backend, model) in new[] { (cpu, fast), (reference, exact) })
        {
            Tolerance.AssertBitwiseEqual("initial parameters", Download(backend, model.Parameters.Parameters), Download(reference, exact.Parameters.Parameters));
            backend.Upload<float>(images, model.Input.Slice(0, images.Length));
            backend.Upload<float>(eps, model.Eps.Slice(0, eps.Length));
            // Stale gradients must not leak into the result: Backward assigns this batch's gradient.
            backend.Fill(model.Parameters.Gradients, 123f);
            model.Forward(rows);
            model.Backward(rows);
        }

        var gotTotals = Download(cpu, fast.LossTotals);
        var wantTotals = Download(reference, exact.LossTotals);
        Assert.Equal(wantTotals[0], gotTotals[0], 1e-5 * Math.Abs(wantTotals[0]));
        Assert.Equal(wantTotals[1], gotTotals[1], 1e-5 * Math.Abs(wantTotals[1]) + 1e-6);
        Assert.True(wantTotals[0] > 0 && wantTotals[1] > 0, "both loss terms are positive");

        var got = Download(cpu, fast.Parameters.Gradients);
        var want = Download(reference, exact.Parameters.Gradients);
        Assert.Equal(4 * hidden.Length + 6, fast.NamedTensors.Count);   // enc.i and dec.i weight + bias, then mu, logvar, out
        double worst = 0;
        string worstName = "";
        foreach (var t in fast.NamedTensors)
        {
            var g = got.AsSpan(t.Offset, t.Length);
            var w = want.AsSpan(t.Offset, t.Length);
            double scale = 0, difference = 0;
            for (int i = 0; i < w.Length; i++)
            {
                scale = Math.Max(scale, Math.Abs(w[i]));
                difference = Math.Max(difference, Math.Abs(g[i] - w[i]));
            }
            if (scale > 0 && difference / scale > worst) (worst, worstName) = (difference / scale, t.Name);
            Assert.True(scale > 0, $"gradient of {t.Name} is all zero on the reference backend");
            Tolerance.AssertWithin($"gradient of {t.Name} {string.Join("x", t.Shape)}", g, w, Enumerable.Repeat(1e-4 * scale, t.Length).ToArray(), $"1e-4 * max |want| = {1e-4 * scale:G3}");
        }
        output.WriteLine($"largest gradient difference: {worst:G3} of the tensor's max |gradient| ({worstName}); loss {gotTotals[0]} + {gotTotals[1]} vs {wantTotals[0]} + {wantTotals[1]}");
    }

    [Fact]
    public void Evaluation_loss_does_not_depend_on_the_model_capacity()
    {
        const int count = 500;
        var images = SyntheticImages.Uniform(seed: 6, count, Config.Input);
        using var backend = Backends.Create("cpu-3");
        using var data = new DeviceDataset(backend, images, count, Config.Input);
        using var batched = NewModel(backend, Config, capacity: 64);    // 8 batches, the last of 52
        using var whole = NewModel(backend, Config, capacity: 500);     // one batch
        var perImageBatched = new float[2 * count];
        var perImageWhole = new float[2 * count];
        var a = Evaluation.Run(batched, data, perImageBatched);
        var b = Evaluation.Run(whole, data, perImageWhole);
        Assert.Equal(count, a.Images);
        Assert.Equal(b.Loss, a.Loss, 1e-5 * Math.Abs(b.Loss));
        Assert.Equal(b.Recon, a.Recon, 1e-5 * Math.Abs(b.Recon));
        Assert.Equal(b.Kl, a.Kl, 1e-5 * Math.Abs(b.Kl));
        AssertRelativeClose("per-image recon and KL", perImageBatched, perImageWhole, 1e-5);
        Assert.Equal(a.Recon + Config.Beta * a.Kl, a.Loss, 1e-12 * a.Loss);
        Assert.Equal(perImageWhole.Where((_, i) => i % 2 == 0).Sum(x => (double)x) / count, b.Recon, 1e-5 * b.Recon);
        Assert.Equal(perImageWhole.Where((_, i) => i % 2 == 1).Sum(x => (double)x) / count, b.Kl, 1e-5 * b.Kl);

        // The evaluation noise is fixed: the same call twice gives the same numbers.
        Assert.Equal(a.Loss, Evaluation.Run(batched, data, null).Loss);
    }

    [Fact]
    public void Evaluation_latent_statistics_match_a_direct_computation()
    {
        const int count = 300;
        int l = Config.Latent;
        var images = SyntheticImages.Uniform(seed: 7, count, Config.Input);
        using var backend = Backends.Create("cpu-3");
        using var data = new DeviceDataset(backend, images, count, Config.Input);
        using var model = NewModel(backend, Config, capacity: 64);

        // Spread the latent variances across the active-unit threshold (0.01): scale the mu rows of the first three
        // latents up and of the others down.
        var mu = model.NamedTensors.Single(t => t.Name == "mu.weight");
        int top = mu.Shape[1];
        var weights = Download(backend, model.Parameters.Parameters.Slice(mu.Offset, mu.Length));
        for (int j = 0; j < l; j++)
            for (int i = 0; i < top; i++) weights[j * top + i] *= j < 3 ? 8f : 0.02f;
        backend.Upload<float>(weights, model.Parameters.Parameters.Slice(mu.Offset, mu.Length));

        var result = Evaluation.Run(model, data, null);
        var means = model.EncodeMeans(images, count);

        var mean = new double[l];
        for (int n = 0; n < count; n++) for (int a = 0; a < l; a++) mean[a] += means[n * l + a] / (double)count;
        var covariance = new double[l, l];
        for (int n = 0; n < count; n++)
            for (int a = 0; a < l; a++)
                for (int b = 0; b < l; b++) covariance[a, b] += (means[n * l + a] - mean[a]) * (means[n * l + b] - mean[b]) / count;
        double varianceMean = 0, correlationSum = 0;
        int active = 0, pairs = 0;
        for (int a = 0; a < l; a++)
        {
            varianceMean += covariance[a, a] / l;
            if (covariance[a, a] > 0.01) active++;
            for (int b = 0; b < a; b++)
            {
                correlationSum += Math.Abs(covariance[a, b] / Math.Sqrt(covariance[a, a] * covariance[b, b]));
                pairs++;
            }
        }
        Assert.Equal(3, active);   // the scaling above put three latents on each side of the threshold
        Assert.Equal(active, result.ActiveUnits);
        Assert.Equal(varianceMean, result.LatentVariance, 1e-6 * varianceMean);
        Assert.Equal(correlationSum / pairs, result.MeanAbsLatentCorrelation, 1e-6);
        Assert.InRange(result.MeanAbsLatentCorrelation, 0.01, 1);
    }

    [Fact]
    public void Configurations_with_wrong_sizes_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new VaeConfig(0, [16], 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VaeConfig(-3, [16], 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VaeConfig(64, [16], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VaeConfig(64, [16, 0], 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VaeConfig(64, [-1], 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VaeConfig(64, [16], 4, beta: -0.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VaeConfig(64, [16], 4, beta: float.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VaeConfig(64, [16], 4, beta: float.PositiveInfinity));
        Assert.Throws<ArgumentException>(() => VaeConfig.ParseReconstruction("l1"));

        using var backend = Backends.Create("cpu-1");
        Assert.Throws<ArgumentOutOfRangeException>(() => new VaeModel(backend, Config, capacity: 0));
        using var model = NewModel(backend, Config, capacity: 4);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(5));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Encode(0));
        var wrongImages = Assert.Throws<ArgumentException>(() => model.EncodeMeans(new float[2 * 63], 2));
        Assert.Contains("64 pixels", wrongImages.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => model.DecodeLatents(new float[7], 2));
    }

    [Fact]
    public void The_config_constructor_copies_the_hidden_sizes()
    {
        int[] hidden = [24, 16];
        var config = new VaeConfig(64, hidden, 6);
        hidden[0] = 1;
        Assert.Equal([24, 16], config.Hidden);
        Assert.Equal(new VaeConfig(64, [24, 16], 6), config);
        Assert.NotEqual(new VaeConfig(64, [16, 24], 6), config);
        Assert.Equal("64-24-16-6", config.Describe());
        Assert.Equal("64-6", new VaeConfig(64, [], 6).Describe());
    }

    public static TheoryData<VaeConfig> Configs => new()
    {
        VaeConfig.Default,
        new VaeConfig(64, [], 3),
        new VaeConfig(784, [512, 256, 128], 32, ReconstructionLoss.Mse, 0.25f),
        new VaeConfig(10, [7], 2, ReconstructionLoss.Bce, 0f),
        new VaeConfig(10, [7], 2, ReconstructionLoss.Bce, 1f / 3f),   // a beta with no short decimal form
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void Config_json_round_trips(VaeConfig config)
    {
        var json = config.ToJson();
        var back = VaeConfig.FromJson(json, "test.json");
        Assert.Equal(config, back);
        Assert.Equal(BitConverter.SingleToInt32Bits(config.Beta), BitConverter.SingleToInt32Bits(back.Beta));
        Assert.Equal(json, back.ToJson());
    }

    [Theory]
    [InlineData("{\"input\": 64, \"hidden\": [16]}")]                              // no latent
    [InlineData("{\"input\": 64, \"hidden\": [16], \"latent\": 0}")]              // invalid size
    [InlineData("{\"input\": \"64\", \"hidden\": [16], \"latent\": 4}")]          // wrong type
    [InlineData("{\"input\": 64, \"hidden\": 16, \"latent\": 4}")]               // hidden not a list
    [InlineData("{\"input\": 64, \"hidden\": [16], \"latent\": 4, \"recon\": \"l1\"}")]
    [InlineData("{\"model\": \"vqvae\", \"input\": 64, \"hidden\": [16], \"latent\": 4}")]
    [InlineData("{\"input\": 64, \"hidden\": [16], \"latent\": 4.5}")]
    [InlineData("not json")]
    public void Invalid_config_json_is_an_error_naming_the_source(string json)
    {
        var e = Assert.Throws<InvalidDataException>(() => VaeConfig.FromJson(json, "some/file.safetensors"));
        Assert.StartsWith("some/file.safetensors: ", e.Message, StringComparison.Ordinal);
    }
}
