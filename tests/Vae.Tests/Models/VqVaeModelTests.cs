// The VQ-VAE model: its configuration (JSON round trip, bad values), the loss convention (recon + P ln K), the EMA
// codebook update against a host computation in double, dead-code restarts (which codes, what they become, the EMA
// statistics and Adam moments they reset, determinism by seed and epoch), the fitted prior and sampling from it,
// code perplexity on hand-made counts, agreement of the CUDA backend (PTX interpreted) and the reference backend with
// the CPU backend, checkpoints carrying the non-trained state, and a resumed run continuing bit-exactly.
using Vae.Checkpoints;
using Vae.Models;
using Vae.Tests.Support;
using Vae.Training;
using Xunit;

namespace Vae.Tests.Models;

public sealed class VqVaeModelTests
{
    static readonly VqVaeConfig Small = SmallConfig(ema: true, restartThreshold: 0.5f);

    /// <summary>16 pixels, one hidden layer of 12, 2 positions of 3 values, 8 codes.</summary>
    static VqVaeConfig SmallConfig(bool ema, float restartThreshold) => new(16, [12], 2, 3, 8, ema: ema, restartThreshold: restartThreshold);

    // ---------------------------------------------------------------- configuration

    [Fact]
    public void Configuration_round_trips_through_json_and_the_kind_registry()
    {
        var configs = new[]
        {
            VqVaeConfig.Default,
            new VqVaeConfig(64, [], 4, 5, 7, commitment: 0.5f, ema: false, emaDecay: 0.9f, restartThreshold: 0f, reconstruction: ReconstructionLoss.Mse),
        };
        foreach (var config in configs)
        {
            string json = config.ToJson();
            Assert.StartsWith("{\"model\":\"vqvae\"", json, StringComparison.Ordinal);
            Assert.Equal(config, VqVaeConfig.FromJson(json, "test"));
            Assert.Equal(config, ModelConfigs.FromJson(json, "test"));
        }
        Assert.Contains("vqvae", ModelConfigs.Kinds);
        Assert.Equal("784-400-400-16x16/128", VqVaeConfig.Default.Describe());
        Assert.Equal(1f, VqVaeConfig.Default.Beta);
    }

    [Theory]
    [InlineData("{\"model\":\"vqvae\",\"input\":16,\"hidden\":[],\"positions\":2,\"code_dim\":3,\"codes\":0}", "codebook needs at least one code")]
    [InlineData("{\"model\":\"vqvae\",\"input\":16,\"hidden\":[],\"positions\":2,\"code_dim\":3}", "\"codes\" is missing")]
    [InlineData("{\"model\":\"vqvae\",\"input\":16,\"hidden\":[],\"positions\":2,\"code_dim\":3,\"codes\":4,\"ema_decay\":1}", "EMA decay")]
    [InlineData("{\"model\":\"vqvae\",\"input\":16,\"hidden\":[],\"positions\":2,\"code_dim\":3,\"codes\":4,\"recon\":\"l1\"}", "l1")]
    public void A_bad_configuration_names_the_source_and_the_problem(string json, string fragment)
    {
        var e = Assert.Throws<InvalidDataException>(() => ModelConfigs.FromJson(json, "run.safetensors"));
        Assert.Contains("run.safetensors", e.Message, StringComparison.Ordinal);
        Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_constructor_rejects_bad_values()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new VqVaeConfig(16, [], 2, 3, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VqVaeConfig(16, [], 0, 3, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VqVaeConfig(16, [], 2, 0, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VqVaeConfig(16, [], 2, 3, 4, commitment: -1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VqVaeConfig(16, [], 2, 3, 4, emaDecay: 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VqVaeConfig(16, [], 2, 3, 4, restartThreshold: float.NaN));
    }

    // ---------------------------------------------------------------- loss convention

    [Fact]
    public void The_reported_loss_is_recon_plus_the_uniform_prior_cost_of_the_codes()
    {
        using var backend = Backends.Create("cpu");
        using var model = VqVaeSetup.Prepare(backend, Small, 5, seed: 3, out var images, out _);
        Assert.Equal(0, model.NoisePerRow);
        Assert.Empty(model.LatentGroups);
        model.Forward(5);
        var totals = VqVaeSetup.Download(backend, model.LossTotals);
        var kl = VqVaeSetup.Download(backend, model.KlPerSample.Slice(0, 5));
        var recon = VqVaeSetup.Download(backend, model.ReconPerSample.Slice(0, 5));
        double perImage = 2 * Math.Log(8);
        Assert.All(kl, v => Assert.Equal(perImage, v, 1e-6));
        Assert.Equal(5 * perImage, totals[1], 1e-5);
        Assert.Equal(recon.Sum(v => (double)v), totals[0], 1e-3);

        using var data = new DeviceDataset(backend, images, 5, Small.Input);
        var eval = Evaluation.Run(model, data, null);
        Assert.Equal(eval.Recon + perImage, eval.Loss, 1e-5);
        var stats = model.Statistics(data);
        Assert.Equal(eval.Recon, stats.Recon, 1e-9);
        Assert.Equal(eval.Loss, stats.UniformBound, 1e-6);
        // The initial prior is uniform: both bounds agree.
        Assert.Equal(stats.UniformBound, stats.PriorBound, 1e-4);
    }

    // ---------------------------------------------------------------- EMA

    [Theory]
    [InlineData("cpu")]
    [InlineData("cuda-interpreted")]
    public void The_ema_update_matches_a_host_computation(string backendName)
    {
        const int batch = 7;
        var config = Small;
        using var backend = Backends.Create(backendName);
        using var model = VqVaeSetup.Prepare(backend, config, batch, seed: 17, out _, out _);
        // Uneven statistics, so the decay and the smoothing matter.
        var rng = new System.Random(5);
        var sizes = Enumerable.Range(0, config.Codes).Select(k => k == 3 ? 0f : (float)(10 * rng.NextDouble())).ToArray();
        var sums = Enumerable.Range(0, config.Codes * config.CodeDim).Select(_ => (float)(4 * rng.NextDouble() - 2)).ToArray();
        backend.Upload<float>(sizes, model.ClusterSize);
        backend.Upload<float>(sums, model.EmbedSum);
        model.Forward(batch);
        int n = batch * config.Positions, d = config.CodeDim, codes = config.Codes;
        var ze = VqVaeSetup.Download(backend, model.EncoderOutput.Slice(0, n * d));
        var assigned = VqVaeSetup.Download(backend, model.Codes.Slice(0, n));
        model.AfterOptimizerStep(batch);
        model.AfterOptimizerStep(batch);   // twice: the usage adds up, the statistics decay twice

        double decay = config.EmaDecay;
        var counts = new double[codes];
        var batchSums = new double[codes * d];
        for (int i = 0; i < n; i++)
        {
            counts[assigned[i]]++;
            for (int j = 0; j < d; j++) batchSums[assigned[i] * d + j] += ze[i * d + j];
        }
        var wantSizes = sizes.Select((s, k) => decay * (decay * s + (1 - decay) * counts[k]) + (1 - decay) * counts[k]).ToArray();
        var wantSums = sums.Select((s, i) => decay * (decay * s + (1 - decay) * batchSums[i]) + (1 - decay) * batchSums[i]).ToArray();
        double total = wantSizes.Sum();
        var wantCodebook = new double[codes * d];
        for (int k = 0; k < codes; k++)
        {
            double smoothed = (wantSizes[k] + VqVaeModel.EmaEpsilon) / (total + codes * (double)VqVaeModel.EmaEpsilon) * total;
            for (int j = 0; j < d; j++) wantCodebook[k * d + j] = wantSums[k * d + j] / smoothed;
        }
        AssertClose("cluster sizes", wantSizes, VqVaeSetup.Download(backend, model.ClusterSize), 1e-6);
        AssertClose("sums", wantSums, VqVaeSetup.Download(backend, model.EmbedSum), 1e-6);
        AssertClose("codebook", wantCodebook, VqVaeSetup.Download(backend, model.Codebook), 1e-5);
        AssertClose("epoch usage", counts.Select(c => 2 * c).ToArray(), VqVaeSetup.Download(backend, model.EpochUsage), 0);
    }

    static void AssertClose(string what, double[] want, float[] got, double relative)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(got[i] - want[i]) <= relative * Math.Abs(want[i]) + 1e-7, $"{what}[{i}]: {got[i]:R} vs {want[i]:R}");
    }

    // ---------------------------------------------------------------- dead-code restarts and the prior

    /// <summary>A model whose codes 5, 6, 7 sit far from every encoder output (so they are never used), after one pass of steps over the data.</summary>
    static VqVaeModel AfterAnEpochWithDeadCodes(IComputeBackend backend, VqVaeConfig config, DeviceDataset train)
    {
        var model = new VqVaeModel(backend, config, 10);
        model.InitializeParameters(4);
        var book = VqVaeSetup.Download(backend, model.Codebook);
        for (int i = 5 * config.CodeDim; i < book.Length; i++) book[i] = 100f + i;
        backend.Upload<float>(book, model.Codebook);
        if (config.Ema) backend.Upload<float>(book, model.EmbedSum);
        for (int first = 0; first < train.Count; first += 10)
        {
            backend.Copy(train.Images.Slice(first * train.Pixels, 10 * train.Pixels), model.Input.Slice(0, 10 * train.Pixels));
            model.Forward(10);
            model.AfterOptimizerStep(10);
        }
        return model;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Dead_codes_restart_at_encoder_outputs_of_a_seeded_batch(bool ema)
    {
        var config = SmallConfig(ema, Small.RestartThreshold);
        using var backend = Backends.Create("cpu");
        var images = SyntheticImages.Prototypes(seed: 8, 40, config.Input, 4, 0.2f);
        using var train = new DeviceDataset(backend, images, 40, config.Input);
        using var model = AfterAnEpochWithDeadCodes(backend, config, train);
        var usage = VqVaeSetup.Download(backend, model.EpochUsage);
        Assert.Equal(40 * config.Positions, usage.Sum());
        double floor = config.RestartThreshold * usage.Sum() / config.Codes;
        var dead = Enumerable.Range(0, config.Codes).Where(k => usage[k] < floor).ToArray();
        Assert.Superset(new HashSet<int> { 5, 6, 7 }, dead.ToHashSet());
        var before = VqVaeSetup.Download(backend, model.Codebook);
        var layout = model.Parameters.Layout;
        backend.Fill(model.Parameters.AdamM, 0.5f);

        model.OnEpochEnd(train, epoch: 3, seed: 7);

        Assert.Equal(dead.Length, model.LastRestarts);
        Assert.Equal(dead.Length, model.TotalRestarts);
        Assert.All(VqVaeSetup.Download(backend, model.EpochUsage), u => Assert.Equal(0f, u));
        var after = VqVaeSetup.Download(backend, model.Codebook);
        var latents = model.EncodeLatents(images, 40);   // every training image's latent vectors (40 * P rows of D)
        int d = config.CodeDim;
        var adamM = VqVaeSetup.Download(backend, model.Parameters.AdamM);
        var chosen = new List<int>();
        for (int k = 0; k < config.Codes; k++)
        {
            var row = after.AsSpan(k * d, d).ToArray();
            var moments = adamM.AsSpan(layout["codebook.weight"].Offset + k * d, d).ToArray();
            if (!dead.Contains(k))
            {
                Assert.Equal(before.AsSpan(k * d, d).ToArray(), row);
                Assert.All(moments, m => Assert.Equal(0.5f, m));
                continue;
            }
            int match = Enumerable.Range(0, 40 * config.Positions).FirstOrDefault(v => Enumerable.Range(0, d).All(j => Math.Abs(latents[v * d + j] - row[j]) <= 1e-5f), -1);
            Assert.True(match >= 0, $"restarted code {k} = [{string.Join(", ", row)}] is no encoder output of the training set");
            chosen.Add(match);
            Assert.All(moments, m => Assert.Equal(0f, m));
            if (ema)
            {
                Assert.Equal(1f, VqVaeSetup.Download(backend, model.ClusterSize)[k]);
                Assert.Equal(row, VqVaeSetup.Download(backend, model.EmbedSum).AsSpan(k * d, d).ToArray());
            }
        }
        Assert.Equal(chosen.Count, chosen.Distinct().Count());

        // The same seed and epoch restart the same way; another epoch differently; a second epoch end adds no restarts
        // (the usage was cleared) and keeps the count.
        using var again = AfterAnEpochWithDeadCodes(backend, config, train);
        again.OnEpochEnd(train, epoch: 3, seed: 7);
        Assert.Equal(after, VqVaeSetup.Download(backend, again.Codebook));
        using var other = AfterAnEpochWithDeadCodes(backend, config, train);
        other.OnEpochEnd(train, epoch: 4, seed: 7);
        Assert.NotEqual(after, VqVaeSetup.Download(backend, other.Codebook));
        model.OnEpochEnd(train, epoch: 4, seed: 7);
        Assert.Equal(0, model.LastRestarts);
        Assert.Equal(dead.Length, model.TotalRestarts);
    }

    [Fact]
    public void A_zero_threshold_restarts_nothing()
    {
        var config = SmallConfig(ema: true, restartThreshold: 0f);
        using var backend = Backends.Create("cpu");
        using var train = new DeviceDataset(backend, SyntheticImages.Prototypes(seed: 8, 40, config.Input, 4, 0.2f), 40, config.Input);
        using var model = AfterAnEpochWithDeadCodes(backend, config, train);
        var before = VqVaeSetup.Download(backend, model.Codebook);
        model.OnEpochEnd(train, 1, 7);
        Assert.Equal(0, model.LastRestarts);
        Assert.Equal(before, VqVaeSetup.Download(backend, model.Codebook));
    }

    [Fact]
    public void The_prior_is_fitted_from_the_training_codes_per_position()
    {
        var config = Small;
        using var backend = Backends.Create("cpu");
        var images = SyntheticImages.Prototypes(seed: 9, 30, config.Input, 3, 0.1f);
        using var train = new DeviceDataset(backend, images, 30, config.Input);
        using var model = new VqVaeModel(backend, config, 8);   // capacity below the image count: several batches
        model.InitializeParameters(2);
        model.FitPrior(train);

        var latents = model.EncodeLatents(images, 30);
        var counts = new long[config.Positions * config.Codes];
        var codebook = VqVaeSetup.Download(backend, model.Codebook);
        int d = config.CodeDim;
        for (int v = 0; v < 30 * config.Positions; v++)
        {
            int best = 0;
            double bestDistance = double.PositiveInfinity;
            for (int k = 0; k < config.Codes; k++)
            {
                double s = 0;
                for (int j = 0; j < d; j++) s += Math.Pow(latents[v * d + j] - codebook[k * d + j], 2);
                if (s < bestDistance) (best, bestDistance) = (k, s);
            }
            counts[(v % config.Positions) * config.Codes + best]++;
        }
        var prior = VqVaeSetup.Download(backend, model.PriorLogProbs);
        for (int i = 0; i < prior.Length; i++)
            Assert.Equal(Math.Log((counts[i] + 1.0) / (30 + config.Codes)), prior[i], 1e-6);

        // Under its own training set, the fitted prior costs less than the uniform one.
        var stats = model.Statistics(train);
        Assert.True(stats.PriorBound < stats.UniformBound, $"{stats.PriorBound} vs {stats.UniformBound}");
        Assert.InRange(stats.Perplexity, 1, stats.CodesUsed);
        var usage = new long[config.Codes];
        for (int i = 0; i < counts.Length; i++) usage[i % config.Codes] += counts[i];
        Assert.Equal(VqCodeStatistics.CodePerplexity(usage), stats.Perplexity, 1e-12);
        Assert.Equal(usage.Count(u => u > 0), stats.CodesUsed);
    }

    [Fact]
    public void Perplexity_and_prior_arithmetic_on_hand_made_counts()
    {
        Assert.Equal(4, VqCodeStatistics.CodePerplexity([3, 3, 3, 3]), 1e-12);
        Assert.Equal(1, VqCodeStatistics.CodePerplexity([0, 6, 0]), 1e-12);
        Assert.Equal(Math.Exp(-(0.25 * Math.Log(0.25) + 0.75 * Math.Log(0.75))), VqCodeStatistics.CodePerplexity([1, 3]), 1e-12);
        Assert.Equal(0, VqCodeStatistics.CodePerplexity([0, 0]));

        // Two images of two positions with codes (0, 1) and (0, 0) among 2 codes, add-one smoothing.
        var counts = new long[4];
        VqCodeStatistics.CountPerPosition([0, 1, 0, 0], 2, 2, counts);
        Assert.Equal(new long[] { 2, 0, 1, 1 }, counts);
        var logProbs = VqCodeStatistics.PriorLogProbs(counts, 2, 2, 2, 1.0);
        Assert.Equal(new[] { (float)Math.Log(0.75), (float)Math.Log(0.25), (float)Math.Log(0.5), (float)Math.Log(0.5) }, logProbs);
        Assert.Throws<ArgumentOutOfRangeException>(() => VqCodeStatistics.CountPerPosition([0, 2], 2, 2, new long[4]));

        var cumulative = VqCodeStatistics.CumulativeProbabilities(logProbs, 2, 2);
        Assert.Equal(0.75, cumulative[0], 1e-7);
        Assert.Equal(1.0, cumulative[1]);
        Assert.Equal(0, VqCodeStatistics.InverseCdf(cumulative.AsSpan(0, 2), 0.74));
        Assert.Equal(1, VqCodeStatistics.InverseCdf(cumulative.AsSpan(0, 2), 0.76));
    }

    [Fact]
    public void Samples_draw_codes_from_the_prior_and_decode_them()
    {
        var config = new VqVaeConfig(16, [12], 2, 3, 4);
        using var backend = Backends.Create("cpu");
        using var model = new VqVaeModel(backend, config, 64);
        model.InitializeParameters(1);
        // Position 0: always code 2. Position 1: codes 0 and 3 with probability 1/2 each.
        float never = -200f, half = (float)Math.Log(0.5);
        backend.Upload<float>([never, never, 0f, never, half, never, never, half], model.PriorLogProbs);

        const int count = 2000;
        var codes = model.SampleCodes(count, seed: 11);
        Assert.All(Enumerable.Range(0, count), i => Assert.Equal(2, codes[2 * i]));
        var second = Enumerable.Range(0, count).Select(i => codes[2 * i + 1]).ToArray();
        Assert.All(second, c => Assert.True(c == 0 || c == 3, $"code {c} has probability 0"));
        double zeros = second.Count(c => c == 0) / (double)count;
        Assert.InRange(zeros, 0.5 - 0.05, 0.5 + 0.05);   // 4.5 standard deviations of a binomial proportion
        Assert.Equal(codes, model.SampleCodes(count, seed: 11));
        Assert.NotEqual(codes, model.SampleCodes(count, seed: 12));

        // Sample decodes exactly those codes (more than the capacity: several batches).
        var pictures = model.Sample(100, seed: 11);
        Assert.Equal(model.DecodeCodes(codes.AsSpan(0, 200), 100), pictures);
        Assert.All(pictures, v => Assert.InRange(v, 0f, 1f));
        Assert.Throws<ArgumentException>(() => model.Sample(2, 1, [0, 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.DecodeCodes([0, 4], 1));
    }

    [Fact]
    public void Reconstruction_and_interpolation_decode_quantized_encoder_outputs()
    {
        using var backend = Backends.Create("cpu");
        using var model = VqVaeSetup.Prepare(backend, Small, 4, seed: 21, out var images, out _);
        var reconstructions = model.Reconstruct(images, 4);
        model.Forward(4);
        model.Decode(4);
        Assert.Equal(VqVaeSetup.Download(backend, model.Prediction.Slice(0, 4 * Small.Input)), reconstructions);
        // The ends of an interpolation are the two reconstructions (up to the float rounding of other batch sizes).
        var path = model.Interpolate(images.AsSpan(0, Small.Input), images.AsSpan(Small.Input, Small.Input), 5);
        Assert.Equal(5 * Small.Input, path.Length);
        for (int i = 0; i < Small.Input; i++)
        {
            Assert.Equal(reconstructions[i], path[i], 1e-6);
            Assert.Equal(reconstructions[Small.Input + i], path[4 * Small.Input + i], 1e-6);
        }
        Assert.Throws<ArgumentException>(() => model.Reconstruct(images.AsSpan(1), 4));
    }

    // ---------------------------------------------------------------- backends

    [Theory]
    [InlineData("cuda-interpreted", false)]
    [InlineData("cuda-interpreted", true)]
    [InlineData("reference", false)]
    public void Another_backend_agrees_with_the_cpu_on_forward_backward_and_the_ema_step(string backendName, bool ema)
    {
        var config = new VqVaeConfig(20, [9], 3, 2, 6, commitment: 0.3f, ema: ema);
        const int batch = 6;
        using var cpu = Backends.Create("cpu");
        using var other = Backends.Create(backendName);
        using var a = VqVaeSetup.Prepare(cpu, config, batch, seed: 33, out _, out _);
        using var b = VqVaeSetup.Prepare(other, config, batch, seed: 33, out _, out _);
        foreach (var m in new[] { a, b })
        {
            m.Forward(batch);
            m.Backward(batch, 1f, 0f);
            m.AfterOptimizerStep(batch);
        }
        var totalsA = VqVaeSetup.Download(cpu, a.LossTotals);
        var totalsB = VqVaeSetup.Download(other, b.LossTotals);
        Assert.Equal(totalsA[0], totalsB[0], 1e-5 * Math.Abs(totalsA[0]));
        Assert.Equal(totalsA[1], totalsB[1]);
        Assert.Equal(VqVaeSetup.Download(cpu, a.QuantizationTotal)[0], VqVaeSetup.Download(other, b.QuantizationTotal)[0], 1e-5);
        Assert.Equal(VqVaeSetup.Download(cpu, a.Codes.Slice(0, batch * 3)), VqVaeSetup.Download(other, b.Codes.Slice(0, batch * 3)));
        var gradA = VqVaeSetup.Download(cpu, a.Parameters.Gradients);
        var gradB = VqVaeSetup.Download(other, b.Parameters.Gradients);
        double largest = gradA.Max(g => Math.Abs(g));
        for (int i = 0; i < gradA.Length; i++)
            Assert.True(Math.Abs(gradA[i] - gradB[i]) <= 1e-4 * largest, $"gradient [{i}]: cpu {gradA[i]} vs {backendName} {gradB[i]}");
        // The state after the step: usage exactly; EMA statistics and codebook within float rounding.
        Assert.Equal(VqVaeSetup.Download(cpu, a.EpochUsage), VqVaeSetup.Download(other, b.EpochUsage));
        var paramsA = VqVaeSetup.Download(cpu, a.Parameters.Parameters);
        var paramsB = VqVaeSetup.Download(other, b.Parameters.Parameters);
        for (int i = 0; i < paramsA.Length; i++)
            Assert.True(Math.Abs(paramsA[i] - paramsB[i]) <= 1e-6 + 1e-5 * Math.Abs(paramsA[i]), $"state [{i}]: cpu {paramsA[i]} vs {backendName} {paramsB[i]}");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Captured_cuda_training_steps_equal_eager_steps_bit_for_bit(bool ema)
    {
        // The whole step (quantization, straight-through backward, Adam, usage counts and the EMA update) is captured as a
        // graph on the interpreted device and replayed; restarts and the prior fit run between epochs on the host.
        var config = new VqVaeConfig(12, [7], 2, 2, 6, ema: ema, restartThreshold: 0.5f);
        var images = SyntheticImages.Prototypes(seed: 5, 23, 12, 3, 0.2f);   // batch 8: two full batches and a partial one
        (float[] Parameters, int Replays, long Restarts) Train(bool graphs)
        {
            var device = new InterpretedCudaDevice();
            using var backend = new Vae.Cuda.CudaBackend(device);
            var options = new TrainingOptions { Epochs = 3, BatchSize = 8, Seed = 9, UseGraphs = graphs };
            using var model = new VqVaeModel(backend, config, 8);
            model.InitializeParameters(options.Seed);
            using var train = new DeviceDataset(backend, images, 23, 12);
            using var trainer = new Trainer(model, train, null, options, new TrainingState());
            Assert.Equal(graphs, trainer.UsesGraphs);
            trainer.Run(null);
            return (VqVaeSetup.Download(backend, model.Parameters.Parameters), device.GraphReplays, model.TotalRestarts);
        }
        var eager = Train(false);
        var replayed = Train(true);
        Assert.Equal(0, eager.Replays);
        Assert.Equal(8, replayed.Replays);   // 9 steps: the first eager, then replays of two graphs (rows 8 and 7)
        Assert.True(eager.Restarts > 0, "the run should restart codes between epochs");
        Assert.Equal(eager.Restarts, replayed.Restarts);
        Tolerance.AssertBitwiseEqual("parameters and state after 3 epochs", replayed.Parameters, eager.Parameters);
    }

    // ---------------------------------------------------------------- checkpoints and resuming

    [Fact]
    public void A_checkpoint_carries_the_ema_statistics_the_restarts_and_the_prior()
    {
        using var backend = Backends.Create("cpu");
        var images = SyntheticImages.Prototypes(seed: 8, 40, Small.Input, 4, 0.2f);
        using var train = new DeviceDataset(backend, images, 40, Small.Input);
        using var model = AfterAnEpochWithDeadCodes(backend, Small, train);
        model.OnEpochEnd(train, 1, 3);
        Assert.True(model.TotalRestarts > 0);
        using var folder = new TempFolder();
        string path = folder.File("vq.safetensors");
        Checkpoint.Save(path, model, null, null);
        var names = Checkpoint.Read(path).File.Tensors.Select(t => t.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "codebook.weight", "codebook.cluster_size", "codebook.embed_sum", "codebook.restarts", "prior.log_probs", "enc.0.weight", "dec.1.bias" }, names);

        var checkpoint = Checkpoint.Read(path);
        Assert.Equal(Small, checkpoint.Config);
        using var loaded = (VqVaeModel)checkpoint.Config.Create(backend, 10);
        checkpoint.LoadInto(loaded, withOptimizerState: false);
        Assert.Equal(VqVaeSetup.Download(backend, model.Parameters.Parameters), VqVaeSetup.Download(backend, loaded.Parameters.Parameters));
        Assert.Equal(model.TotalRestarts, loaded.TotalRestarts);
        Assert.Equal(model.Sample(6, 5), loaded.Sample(6, 5));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Two_epochs_equal_one_epoch_checkpoint_and_one_more(bool ema)
    {
        var config = new VqVaeConfig(36, [20], 3, 2, 12, ema: ema, restartThreshold: 0.3f);
        var trainImages = SyntheticImages.Prototypes(seed: 2, 150, config.Input, 5, 0.2f);
        var testImages = SyntheticImages.Prototypes(seed: 3, 40, config.Input, 5, 0.2f);
        var options = new TrainingOptions { Epochs = 2, BatchSize = 32, Adam = new AdamSettings(3e-3f), Seed = 9 };

        (VqVaeModel Model, DeviceDataset Train, DeviceDataset Test, Trainer Trainer) Setup(IComputeBackend backend, TrainingOptions o, TrainingState state)
        {
            var model = new VqVaeModel(backend, config, o.BatchSize);
            var train = new DeviceDataset(backend, trainImages, 150, config.Input);
            var test = new DeviceDataset(backend, testImages, 40, config.Input);
            return (model, train, test, new Trainer(model, train, test, o, state));
        }

        using var backend = Backends.Create("cpu-3");
        var continuous = Setup(backend, options, new TrainingState());
        continuous.Model.InitializeParameters(options.Seed);
        continuous.Trainer.Run(null);
        Assert.True(continuous.Model.TotalRestarts > 0, "the run should restart codes, so the test covers them");

        using var folder = new TempFolder();
        string path = folder.File("run.safetensors");
        var first = Setup(backend, options with { Epochs = 1 }, new TrainingState());
        first.Model.InitializeParameters(options.Seed);
        first.Trainer.Run(null, _ => Checkpoint.Save(path, first.Model, first.Trainer.Options, first.Trainer.State));

        var checkpoint = Checkpoint.Read(path);
        using var other = Backends.Create("cpu-1");
        var resumed = Setup(other, checkpoint.Options! with { Epochs = 2 }, checkpoint.State);
        checkpoint.LoadInto(resumed.Model, withOptimizerState: true);
        resumed.Trainer.Run(null);

        Assert.Equal(VqVaeSetup.Download(backend, continuous.Model.Parameters.Parameters), VqVaeSetup.Download(other, resumed.Model.Parameters.Parameters));
        Assert.Equal(VqVaeSetup.Download(backend, continuous.Model.Parameters.AdamV), VqVaeSetup.Download(other, resumed.Model.Parameters.AdamV));
        Assert.Equal(continuous.Trainer.State.History[1].TestLoss, resumed.Trainer.State.History[1].TestLoss);
        // Training learned something: the test reconstruction improved over the epochs.
        Assert.True(continuous.Trainer.State.History[1].TestRecon < continuous.Trainer.State.History[0].TestRecon);
        foreach (var run in new[] { continuous, first, resumed })
        {
            run.Trainer.Dispose();
            run.Train.Dispose();
            run.Test.Dispose();
            run.Model.Dispose();
        }
    }
}
