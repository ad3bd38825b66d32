// The importance-sampled (IWAE) estimate of -log p(x): on tiny models it equals the same estimate computed straight
// from the formulas in double precision with the same noise (Bernoulli and Gaussian likelihoods), converges to the
// exact -log p(x) integrated numerically over a 2-D latent space, never exceeds the negative ELBO of its own samples,
// falls with K, is the one-sample ELBO in expectation at K = 1, does not depend on batching or chunking, repeats
// bit for bit for a seed, runs on the CUDA backend's kernels (PTX interpreter), and rejects bad arguments.
using Vae.Diagnostics;
using Vae.Models;
using Vae.Tests.Support;
using static Vae.Tests.Support.ImportanceSamplingChecks;
using Vae.Training;
using Xunit;
using Xunit.Abstractions;

namespace Vae.Tests.Training;

public sealed class ImportanceSamplingTests(ITestOutputHelper output)
{
    /// <summary>
    /// A model with seeded parameters, decoder weights times <paramref name="decoderGain"/> (so p(x | z) varies
    /// strongly with z) and the encoder's mu and log-variance biases shifted (so q is narrower than the prior and off
    /// centre: a proposal that differs visibly from the posterior).
    /// </summary>
    static VaeModel Model(IComputeBackend backend, VaeConfig config, int capacity, ulong seed, float decoderGain = 2f, float muBias = 0.4f, float logVarBias = -1.2f)
    {
        var model = new VaeModel(backend, config, capacity);
        model.InitializeParameters(seed);
        var p = new float[model.Parameters.Layout.TotalLength];
        backend.Download<float>(model.Parameters.Parameters, p);
        foreach (var t in model.NamedTensors)
        {
            var values = p.AsSpan(t.Offset, t.Length);
            if (t.Name.StartsWith("dec.", StringComparison.Ordinal) || t.Name == "out.weight")
                foreach (ref float v in values) v *= decoderGain;
            else if (t.Name == "mu.bias")
                for (int i = 0; i < values.Length; i++) values[i] += i % 2 == 0 ? muBias : -muBias;
            else if (t.Name == "logvar.bias")
                foreach (ref float v in values) v += logVarBias;
        }
        backend.Upload<float>(p, model.Parameters.Parameters);
        return model;
    }

    [Theory]
    [InlineData(ReconstructionLoss.Bce)]
    [InlineData(ReconstructionLoss.Mse)]
    public void Estimate_equals_the_double_precision_formula_for_the_same_noise(ReconstructionLoss recon)
    {
        var config = new VaeConfig(12, [7, 5], 3, recon);
        const int images = 5, samples = 7;
        using var backend = Backends.Create("cpu");
        // Capacity 4 with 3 images per batch: chunks of 4 samples cross image and batch boundaries.
        using var model = Model(backend, config, capacity: 4, seed: 11);
        var x = SyntheticImages.Uniform(seed: 2, images, config.Input);
        var (result, perImage) = Estimate(model, x, samples, seed: 99, imagesPerBatch: 3);

        var reference = new DoubleVae(config, model.NamedTensors, Parameters(model));
        EqualsTheFormula(output, result, perImage, samples, config.Latent, seed: 99,
            (i, eps) => reference.LogWeight(x.AsSpan(i * config.Input, config.Input), [.. eps.Select(v => (double)v)]), recon);
    }

    [Fact]
    public void Estimate_converges_to_the_exact_likelihood_integrated_over_a_2d_latent_space()
    {
        // Two latent dimensions: -log p(x) = -log of the integral of p(x | z) N(z; 0, I), summed on a grid of step 0.02
        // over [-7, 7]^2. The proposal is made a little wider than the prior (log-variance biased up by 0.5), so the
        // weights have a modest variance and 65536 samples land within a few thousandths of a nat of the exact value.
        var config = new VaeConfig(10, [6], 2);
        const int images = 4;
        using var backend = Backends.Create("cpu");
        using var model = Model(backend, config, capacity: 512, seed: 5, decoderGain: 1f, muBias: 0.3f, logVarBias: 0.5f);
        var x = SyntheticImages.Uniform(seed: 8, images, config.Input);
        var reference = new DoubleVae(config, model.NamedTensors, Parameters(model));
        const double h = 0.02, edge = 7;
        int steps = (int)Math.Round(2 * edge / h) + 1;
        var exact = new double[images];
        var terms = new double[steps * steps];
        for (int i = 0; i < images; i++)
        {
            var image = x.AsSpan(i * config.Input, config.Input);
            for (int a = 0; a < steps; a++)
                for (int b = 0; b < steps; b++)
                {
                    double[] z = [-edge + a * h, -edge + b * h];
                    terms[a * steps + b] = reference.LogLikelihood(image, z) - (Math.Log(2 * Math.PI) + 0.5 * (z[0] * z[0] + z[1] * z[1]));
                }
            exact[i] = -(LogSumExp(terms) + 2 * Math.Log(h));
        }
        output.WriteLine($"exact -log p(x): {string.Join(", ", exact.Select(v => v.ToString("F4")))}");

        // K = 1 is far off (the ELBO gap), a large K lands on the exact value image by image.
        var (single, _) = Estimate(model, x, 1);
        var (many, perImage) = Estimate(model, x, 1 << 16);
        output.WriteLine($"K = 1: nll {single.Nll:F4}; K = 65536: nll {many.Nll:F4} (-elbo {many.NegativeElbo:F4}), exact {exact.Average():F4}; per image {string.Join(", ", perImage.Select(v => v.ToString("F4")))}");
        Assert.True(single.Nll - exact.Average() > 0.3, $"the test needs a visible ELBO gap to mean anything: K = 1 gives {single.Nll}, exact {exact.Average()}");
        for (int i = 0; i < images; i++)
            Assert.True(Math.Abs(perImage[i] - exact[i]) <= 0.02, $"image {i}: K = 65536 gives {perImage[i]}, the exact -log p(x) is {exact[i]}");
    }

    [Fact]
    public void Estimate_never_exceeds_the_negative_elbo_of_its_own_samples_and_falls_with_k()
    {
        var config = new VaeConfig(16, [8], 3);
        const int images = 40;
        using var backend = Backends.Create("cpu");
        using var model = Model(backend, config, capacity: 64, seed: 3);
        var x = SyntheticImages.Uniform(seed: 4, images, config.Input);
        NeverExceedsTheNegativeElboAndFallsWithK(output, model, x);
    }

    [Fact]
    public void One_sample_is_the_elbo_loss_in_expectation()
    {
        // With the evaluation's noise stream and K = 1, sample s of image i uses Evaluation's noise for image i, so
        // the reconstruction terms are identical and the difference per image is the one-sample KL estimate
        // log q - log p minus the analytic KL: zero in expectation over the noise.
        var config = new VaeConfig(16, [8], 4);
        const int images = 600;
        using var backend = Backends.Create("cpu");
        using var model = Model(backend, config, capacity: 128, seed: 6);
        var x = SyntheticImages.Uniform(seed: 7, images, config.Input);
        var (iwae, elbo, standardError) = OneSampleIsTheElboInExpectation(output, model, x);
        Assert.True(Math.Abs(iwae.Nll - elbo.Loss) <= 4 * standardError + 1e-9, $"{iwae.Nll} vs {elbo.Loss}");
    }

    [Fact]
    public void Batching_and_chunking_do_not_change_the_result_and_a_seed_repeats_exactly()
    {
        var config = new VaeConfig(20, [9, 6], 3);
        const int images = 13, samples = 11;
        using var backend = Backends.Create("cpu");
        using var model = Model(backend, config, capacity: 32, seed: 9);
        var x = SyntheticImages.Uniform(seed: 10, images, config.Input);
        BatchingAndChunkingDoNotChangeTheResult(model, x, samples, [(1, 1), (1, 32), (5, 7), (13, 32), (32, 11), (4, 30)]);
    }

    [Fact]
    public void Interpreted_cuda_backend_gives_the_cpu_backend_estimate()
    {
        var config = new VaeConfig(6, [4], 2);
        const int images = 3, samples = 5;
        var x = SyntheticImages.Uniform(seed: 13, images, config.Input);
        InterpretedCudaGivesTheCpuEstimate(backend => Model(backend, config, capacity: 4, seed: 14), x, samples);
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        var config = new VaeConfig(8, [4], 2);
        using var backend = Backends.Create("cpu");
        using var model = Model(backend, config, capacity: 4, seed: 1);
        using var weights = new VaeImportanceWeights(model);
        using var data = new DeviceDataset(backend, SyntheticImages.Uniform(1, 3, 8), 3, 8);
        using var wrongSize = new DeviceDataset(backend, SyntheticImages.Uniform(1, 3, 9), 3, 9);
        Assert.Contains(">= 1", Assert.Throws<ArgumentOutOfRangeException>(() => ImportanceSampling.Run(weights, data, 0)).Message, StringComparison.Ordinal);
        Assert.Contains("9 pixels", Assert.Throws<ArgumentException>(() => ImportanceSampling.Run(weights, wrongSize, 4)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => ImportanceSampling.Run(weights, data, 4, samplesPerChunk: 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImportanceSampling.Run(weights, data, 4, imagesPerBatch: 5));
        Assert.Throws<ArgumentException>(() => ImportanceSampling.Run(weights, data, 4, perImage: new double[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VaeImportanceWeights(model, maxSamples: 5));
        using var fresh = new VaeImportanceWeights(model);
        using var indices = backend.Allocate(4 * sizeof(int));
        using var noise = backend.Allocate(8 * sizeof(float));
        Assert.Throws<InvalidOperationException>(() => fresh.LogWeights(indices.AsSpan<int>(), noise.AsSpan<float>(), 4, new double[4]));
    }

    /// <summary>The VAE's importance weight in double precision, straight from the formulas: the network by
    /// DoubleVaeLoss (plain loops), the densities written here.</summary>
    sealed class DoubleVae(VaeConfig config, IReadOnlyList<NamedTensor> tensors, float[] parameters)
    {
        readonly DoubleVaeLoss network = new(config, tensors, parameters);

        public (double[] Mu, double[] LogVar) Encode(ReadOnlySpan<float> x) => network.Encode(x.ToArray(), 1);

        /// <summary>log p(x | z): Bernoulli from the logits, or the Gaussian of variance 1/2 around sigmoid(logits).</summary>
        public double LogLikelihood(ReadOnlySpan<float> x, double[] z)
        {
            var logits = network.DecodeLogits(z, 1);
            double sum = 0;
            for (int i = 0; i < logits.Length; i++)
            {
                double a = logits[i], t = x[i];
                if (config.Reconstruction == ReconstructionLoss.Bce)
                    sum += t * a - Math.Log(1 + Math.Exp(a));   // log sigmoid(a)^t (1 - sigmoid(a))^(1 - t)
                else
                {
                    double mean = 1 / (1 + Math.Exp(-a)), variance = 0.5;
                    sum += -0.5 * Math.Log(2 * Math.PI * variance) - (t - mean) * (t - mean) / (2 * variance);
                }
            }
            return sum;
        }

        /// <summary>log p(x | z) + log N(z; 0, I) - log N(z; mu, sigma^2) at z = mu + sigma * eps.</summary>
        public double LogWeight(ReadOnlySpan<float> x, double[] eps)
        {
            var (mu, logVar) = Encode(x);
            var z = new double[mu.Length];
            double logPrior = 0, logPosterior = 0;
            for (int j = 0; j < z.Length; j++)
            {
                double sigma = Math.Exp(0.5 * logVar[j]);
                z[j] = mu[j] + sigma * eps[j];
                logPrior += -0.5 * (Math.Log(2 * Math.PI) + z[j] * z[j]);
                logPosterior += -0.5 * Math.Log(2 * Math.PI) - Math.Log(sigma) - (z[j] - mu[j]) * (z[j] - mu[j]) / (2 * sigma * sigma);
            }
            return LogLikelihood(x, z) + logPrior - logPosterior;
        }
    }
}
