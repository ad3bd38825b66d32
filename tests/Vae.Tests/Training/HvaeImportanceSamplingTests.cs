// The importance-sampled (IWAE) estimate of -log p(x) for the hierarchical VAE (HvaeImportanceWeights): on tiny
// models it equals the same estimate computed from the formulas in double precision with the same noise (Support/
// DoubleHvae; Bernoulli and Gaussian likelihoods), converges to the exact -log p(x) integrated numerically over a
// one-dimensional z1 and z2, never exceeds the negative ELBO of its own samples and falls with K, is the one-sample
// ELBO in expectation at K = 1, does not depend on batching or chunking, runs on the CUDA backend's kernels (PTX
// interpreter), and rejects bad arguments.
using Vae.Models;
using Vae.Tests.Models;
using Vae.Tests.Support;
using static Vae.Tests.Support.ImportanceSamplingChecks;
using Vae.Training;
using Xunit;
using Xunit.Abstractions;

namespace Vae.Tests.Training;

public sealed class HvaeImportanceSamplingTests(ITestOutputHelper output)
{
    /// <summary>A seeded model whose inference log-variance biases are shifted by <paramref name="logVarBias"/> (a proposal visibly unlike the posterior, or a wider one).</summary>
    static HvaeModel Model(IComputeBackend backend, HvaeConfig config, int capacity, int seed, float logVarBias = -0.8f, float spread = 0.3f)
    {
        var model = HvaeModelTests.Prepare(backend, config, 1, capacity, seed, spread, out _, out _, out _, out var p);
        foreach (var t in model.NamedTensors)
            if (t.Name is "logvar1.bias" or "logvar2.bias")
                foreach (ref float v in p.AsSpan(t.Offset, t.Length)) v += logVarBias;
        backend.Upload<float>(p, model.Parameters.Parameters);
        return model;
    }

    [Theory]
    [InlineData(ReconstructionLoss.Bce)]
    [InlineData(ReconstructionLoss.Mse)]
    public void Estimate_equals_the_double_precision_formula_for_the_same_noise(ReconstructionLoss recon)
    {
        var config = new HvaeConfig(12, [7, 5], 3, [4], 2, recon);
        const int images = 5, samples = 7;
        using var backend = Backends.Create("cpu");
        // Capacity 4 with 3 images per batch: chunks of 4 samples cross image and batch boundaries.
        using var model = Model(backend, config, capacity: 4, seed: 11);
        var x = SyntheticImages.Uniform(seed: 2, images, config.Input);
        var (result, perImage) = Estimate(model, x, samples, seed: 99, imagesPerBatch: 3);

        var reference = new DoubleHvae(config, model.NamedTensors, Parameters(model));
        EqualsTheFormula(output, result, perImage, samples, config.Latent1 + config.Latent2, seed: 99,
            (i, eps) => reference.LogWeight(x.AsSpan(i * config.Input, config.Input), eps.AsSpan(0, config.Latent1), eps.AsSpan(config.Latent1)), recon);
    }

    [Fact]
    public void Estimate_converges_to_the_exact_likelihood_integrated_over_one_dimensional_z1_and_z2()
    {
        // z1 and z2 of one dimension each: p(x) = integral of p(x | z1) N(z1; muP(z2), exp(lvP(z2))) N(z2; 0, 1), summed
        // on a grid of step 0.02 over [-7, 7]^2 (the decoder and the prior net evaluated once per grid line). The
        // proposal is made wider (log-variance biases up by 0.5), so 65536 samples land within a few hundredths of a nat.
        var config = new HvaeConfig(10, [6], 1, [4], 1);
        const int images = 4;
        using var backend = Backends.Create("cpu");
        using var model = Model(backend, config, capacity: 512, seed: 5, logVarBias: 0.5f, spread: 0.6f);
        var x = SyntheticImages.Uniform(seed: 8, images, config.Input);
        var reference = new DoubleHvae(config, model.NamedTensors, Parameters(model));
        const double h = 0.02, edge = 7;
        int steps = (int)Math.Round(2 * edge / h) + 1;
        var grid = Enumerable.Range(0, steps).Select(a => -edge + a * h).ToArray();
        var logits = reference.DecodeLogits(grid, steps);          // (steps, D): p(x | z1) per grid point of z1
        var (priorMu, priorLogVar) = reference.Prior(grid, steps); // p(z1 | z2) per grid point of z2
        var exact = new double[images];
        var terms = new double[steps * steps];
        for (int i = 0; i < images; i++)
        {
            var image = x.AsSpan(i * config.Input, config.Input);
            var logLikelihood = new double[steps];
            for (int a = 0; a < steps; a++)
                for (int p = 0; p < config.Input; p++)
                {
                    double l = logits[a * config.Input + p];
                    logLikelihood[a] += image[p] * l - Math.Log(1 + Math.Exp(l));
                }
            for (int a = 0; a < steps; a++)
                for (int b = 0; b < steps; b++)
                {
                    double z1 = grid[a], z2 = grid[b], d = z1 - priorMu[b];
                    terms[a * steps + b] = logLikelihood[a] - 0.5 * (Math.Log(2 * Math.PI) + priorLogVar[b] + d * d * Math.Exp(-priorLogVar[b]))
                        - 0.5 * (Math.Log(2 * Math.PI) + z2 * z2);
                }
            exact[i] = -(LogSumExp(terms) + 2 * Math.Log(h));
        }
        var (many, perImage) = Estimate(model, x, 1 << 16);
        output.WriteLine($"K = 65536: nll {many.Nll:F4} (-elbo {many.NegativeElbo:F4}), exact {exact.Average():F4}; per image {string.Join(", ", perImage.Select(v => v.ToString("F4")))} vs {string.Join(", ", exact.Select(v => v.ToString("F4")))}");
        Assert.True(many.NegativeElbo - exact.Average() > 0.1, $"the test needs a visible ELBO gap to mean anything: -ELBO {many.NegativeElbo}, exact {exact.Average()}");
        for (int i = 0; i < images; i++)
            Assert.True(Math.Abs(perImage[i] - exact[i]) <= 0.02, $"image {i}: K = 65536 gives {perImage[i]}, the exact -log p(x) is {exact[i]}");
    }

    [Fact]
    public void Estimate_never_exceeds_the_negative_elbo_of_its_own_samples_and_falls_with_k()
    {
        var config = new HvaeConfig(16, [8], 3, [5], 2);
        const int images = 40;
        using var backend = Backends.Create("cpu");
        using var model = Model(backend, config, capacity: 64, seed: 3);
        var x = SyntheticImages.Uniform(seed: 4, images, config.Input);
        NeverExceedsTheNegativeElboAndFallsWithK(output, model, x);
    }

    [Fact]
    public void One_sample_is_the_elbo_loss_in_expectation()
    {
        // With the evaluation's noise stream and K = 1, sample 0 of image i takes Evaluation's noise row [eps1 | eps2]
        // of image i, so z1, z2 and the reconstruction are identical; the difference per image is the one-sample
        // estimate log q(z1|x) q(z2|z1) - log p(z1|z2) p(z2) minus the two analytic KLs: zero in expectation.
        var config = new HvaeConfig(16, [8], 4, [5], 2);
        const int images = 600;
        using var backend = Backends.Create("cpu");
        using var model = Model(backend, config, capacity: 128, seed: 6);
        var x = SyntheticImages.Uniform(seed: 7, images, config.Input);
        OneSampleIsTheElboInExpectation(output, model, x);
    }

    [Fact]
    public void Batching_and_chunking_do_not_change_the_result_and_a_seed_repeats_exactly()
    {
        var config = new HvaeConfig(20, [9, 6], 3, [4], 2);
        const int images = 13, samples = 11;
        using var backend = Backends.Create("cpu");
        using var model = Model(backend, config, capacity: 32, seed: 9);
        var x = SyntheticImages.Uniform(seed: 10, images, config.Input);
        BatchingAndChunkingDoNotChangeTheResult(model, x, samples, [(1, 1), (5, 7), (13, 32), (4, 30)]);
    }

    [Fact]
    public void Interpreted_cuda_backend_gives_the_cpu_backend_estimate()
    {
        var config = new HvaeConfig(6, [4], 2, [3], 2);
        const int images = 3, samples = 5;
        var x = SyntheticImages.Uniform(seed: 13, images, config.Input);
        InterpretedCudaGivesTheCpuEstimate(backend => Model(backend, config, capacity: 4, seed: 14), x, samples);
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        var config = new HvaeConfig(8, [4], 2, [3], 2);
        using var backend = Backends.Create("cpu");
        using var model = Model(backend, config, capacity: 4, seed: 1);
        using var weights = new HvaeImportanceWeights(model);
        Assert.Equal(4, weights.NoisePerSample);
        using var wrongSize = new DeviceDataset(backend, SyntheticImages.Uniform(1, 3, 9), 3, 9);
        Assert.Contains("9 pixels", Assert.Throws<ArgumentException>(() => ImportanceSampling.Run(weights, wrongSize, 4)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new HvaeImportanceWeights(model, maxSamples: 5));
        using var indices = backend.Allocate(4 * sizeof(int));
        using var noise = backend.Allocate(16 * sizeof(float));
        Assert.Throws<InvalidOperationException>(() => weights.LogWeights(indices.AsSpan<int>(), noise.AsSpan<float>(), 4, new double[4]));
        using var data = new DeviceDataset(backend, SyntheticImages.Uniform(1, 3, 8), 3, 8);
        weights.EncodeImages(data, 0, 3);
        Assert.Throws<ArgumentException>(() => weights.LogWeights(indices.AsSpan<int>(), noise.AsSpan<float>().Slice(0, 15), 4, new double[4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => weights.LogWeights(indices.AsSpan<int>(), noise.AsSpan<float>(), 5, new double[5]));
    }
}
