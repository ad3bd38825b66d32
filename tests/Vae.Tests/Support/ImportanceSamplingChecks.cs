// The properties every model's importance-sampled estimate of -log p(x) must have, checked the same way for each
// model (Training/ImportanceSamplingTests for the VAE, HvaeImportanceSamplingTests for the hierarchical VAE,
// Models/CvaeModelTests for the conditional one): it equals the formula evaluated in double precision with the same
// noise, never exceeds the negative ELBO of its own samples and falls with K, is the one-sample ELBO in expectation at
// K = 1, does not depend on batching or chunking and repeats for a seed, and gives the CPU backend's numbers on the
// CUDA backend's kernels (PTX interpreter). Plus the small tools those tests share.
using Vae.Models;
using Vae.Random;
using Vae.Training;
using Xunit;
using Xunit.Abstractions;

namespace Vae.Tests.Support;

public static class ImportanceSamplingChecks
{
    /// <summary>The estimate over <paramref name="images"/> (rows of the model's Input), and each image's value.</summary>
    public static (ImportanceSamplingResult Result, double[] PerImage) Estimate<TModel>(TModel model, float[] images, int samples,
        ulong seed = ImportanceSampling.NoiseSeed, int imagesPerBatch = 0, int samplesPerChunk = 0)
        where TModel : ITrainableModel, IImportanceSampled
    {
        int count = images.Length / model.Config.Input;
        using var data = new DeviceDataset(model.Backend, images, count, model.Config.Input);
        using var weights = model.CreateImportanceWeights();
        var perImage = new double[count];
        var result = ImportanceSampling.Run(weights, data, samples, seed, imagesPerBatch, samplesPerChunk, perImage);
        return (result, perImage);
    }

    /// <summary>The model's parameter buffer on the host.</summary>
    public static float[] Parameters(ITrainableModel model)
    {
        var p = new float[model.Parameters.Layout.TotalLength];
        model.Backend.Download<float>(model.Parameters.Parameters, p);
        return p;
    }

    public static double LogSumExp(IReadOnlyList<double> values)
    {
        double max = values.Max();
        return max + Math.Log(values.Sum(v => Math.Exp(v - max)));
    }

    /// <summary>
    /// The estimate (<paramref name="result"/>, <paramref name="perImage"/>) with <paramref name="samples"/> samples per
    /// image from noise stream <paramref name="seed"/> equals, image by image and on average, the one computed from
    /// <paramref name="logWeight"/>(image, the sample's noise row of <paramref name="noisePerSample"/> numbers) in double.
    /// </summary>
    public static void EqualsTheFormula(ITestOutputHelper output, ImportanceSamplingResult result, double[] perImage, int samples, int noisePerSample, ulong seed,
        Func<int, float[], double> logWeight, ReconstructionLoss recon)
    {
        int images = perImage.Length;
        double nllSum = 0, elboSum = 0;
        for (int i = 0; i < images; i++)
        {
            var logW = new double[samples];
            for (int k = 0; k < samples; k++)
            {
                var eps = new float[noisePerSample];
                for (int j = 0; j < noisePerSample; j++) eps[j] = PhiloxNormal.Sample(seed, (ulong)((i * samples + k) * noisePerSample + j));
                logW[k] = logWeight(i, eps);
            }
            double expected = -(LogSumExp(logW) - Math.Log(samples));
            output.WriteLine($"image {i}: estimate {perImage[i]:R}, double precision {expected:R}, difference {perImage[i] - expected:E2}");
            Assert.True(Math.Abs(perImage[i] - expected) <= 2e-5 * Math.Max(1, Math.Abs(expected)), $"image {i}: {perImage[i]} vs {expected}");
            nllSum += expected;
            elboSum -= logW.Average();
        }
        Assert.Equal(images, result.Images);
        Assert.Equal(samples, result.SamplesPerImage);
        Assert.Equal(perImage.Average(), result.Nll, 12);
        Assert.True(Math.Abs(result.Nll - nllSum / images) <= 2e-5 * Math.Abs(nllSum / images), $"{result.Nll} vs {nllSum / images}");
        Assert.True(Math.Abs(result.NegativeElbo - elboSum / images) <= 2e-5 * Math.Abs(elboSum / images), $"{result.NegativeElbo} vs {elboSum / images}");
        Assert.Equal(recon == ReconstructionLoss.Bce ? "bernoulli" : "gaussian(variance 0.5)", result.Likelihood);
    }

    /// <summary>For K = 1, 3, 10, 30, 100: the estimate is below the negative ELBO of its samples (equal at K = 1) and below the previous K's.</summary>
    public static void NeverExceedsTheNegativeElboAndFallsWithK<TModel>(ITestOutputHelper output, TModel model, float[] x)
        where TModel : ITrainableModel, IImportanceSampled
    {
        double previous = double.PositiveInfinity;
        foreach (int k in new[] { 1, 3, 10, 30, 100 })
        {
            var (result, perImage) = Estimate(model, x, k);
            output.WriteLine($"K = {k,3}: nll {result.Nll:F4}, -elbo {result.NegativeElbo:F4}");
            if (k == 1) Assert.Equal(result.NegativeElbo, result.Nll, 9);   // log-mean-exp of one value is the value
            else Assert.True(result.Nll < result.NegativeElbo, $"K = {k}: Jensen: nll {result.Nll} < -elbo {result.NegativeElbo}");
            Assert.True(result.Nll < previous, $"K = {k}: nll {result.Nll} should be below the previous K's {previous}");
            Assert.All(perImage, v => Assert.True(double.IsFinite(v)));
            previous = result.Nll;
        }
    }

    /// <summary>
    /// With the evaluation's noise stream, K = 1 decodes the same samples as Evaluation: per image, the estimate minus
    /// Evaluation's recon + KL is the one-sample KL estimate minus the analytic KL, zero in expectation (within 4
    /// standard errors). Returns the estimate, the evaluation and the standard error.
    /// </summary>
    public static (ImportanceSamplingResult Iwae, EvaluationResult Elbo, double StandardError) OneSampleIsTheElboInExpectation<TModel>(
        ITestOutputHelper output, TModel model, float[] x) where TModel : ITrainableModel, IImportanceSampled
    {
        int images = x.Length / model.Config.Input;
        var (iwae, perImage) = Estimate(model, x, 1, seed: Evaluation.NoiseSeed);
        using var data = new DeviceDataset(model.Backend, x, images, model.Config.Input);
        var terms = new float[2 * images];
        var elbo = Evaluation.Run(model, data, terms);
        var difference = Enumerable.Range(0, images).Select(i => perImage[i] - (terms[2 * i] + (double)terms[2 * i + 1])).ToArray();
        double mean = difference.Average();
        double sd = Math.Sqrt(difference.Sum(v => (v - mean) * (v - mean)) / (images - 1));
        double standardError = sd / Math.Sqrt(images);
        output.WriteLine($"K = 1: nll {iwae.Nll:F4}, test loss {elbo.Loss:F4}, mean difference {mean:F4} +- {standardError:F4} (sd {sd:F3})");
        Assert.True(sd > 0.05, "the single-sample KL estimate should vary (else the test proves nothing)");
        Assert.True(Math.Abs(mean) <= 4 * standardError, $"K = 1 should equal the negative ELBO in expectation: mean difference {mean} with standard error {standardError}");
        return (iwae, elbo, standardError);
    }

    /// <summary>Every (images per batch, samples per chunk) of <paramref name="splits"/> gives the default split's estimate; the same seed repeats it exactly, another seed does not.</summary>
    public static void BatchingAndChunkingDoNotChangeTheResult<TModel>(TModel model, float[] x, int samples, (int Batch, int Chunk)[] splits)
        where TModel : ITrainableModel, IImportanceSampled
    {
        int images = x.Length / model.Config.Input;
        var (baseline, baselinePerImage) = Estimate(model, x, samples);
        foreach (var (batch, chunk) in splits)
        {
            var (result, perImage) = Estimate(model, x, samples, imagesPerBatch: batch, samplesPerChunk: chunk);
            for (int i = 0; i < images; i++)
                Assert.True(Math.Abs(perImage[i] - baselinePerImage[i]) <= 1e-5, $"batch {batch}, chunk {chunk}, image {i}: {perImage[i]} vs {baselinePerImage[i]}");
            Assert.True(Math.Abs(result.NegativeElbo - baseline.NegativeElbo) <= 1e-5, $"batch {batch}, chunk {chunk}");
        }
        var (again, againPerImage) = Estimate(model, x, samples);
        Assert.Equal(baselinePerImage, againPerImage);
        Assert.Equal(baseline.Nll, again.Nll);
        Assert.NotEqual(baseline.Nll, Estimate(model, x, samples, seed: 12345).Result.Nll);
    }

    /// <summary>The model <paramref name="create"/> makes on "cuda-interpreted" gives the estimate of the one it makes on "cpu" (2 images per batch).</summary>
    public static void InterpretedCudaGivesTheCpuEstimate<TModel>(Func<IComputeBackend, TModel> create, float[] x, int samples)
        where TModel : ITrainableModel, IImportanceSampled
    {
        double[] Run(string name)
        {
            using var backend = Backends.Create(name);
            using var model = create(backend);
            return Estimate(model, x, samples, imagesPerBatch: 2).PerImage;
        }
        var cpu = Run("cpu");
        var cuda = Run("cuda-interpreted");
        for (int i = 0; i < cpu.Length; i++)
            Assert.True(Math.Abs(cuda[i] - cpu[i]) <= 1e-5 * Math.Max(1, Math.Abs(cpu[i])), $"image {i}: cuda-interpreted {cuda[i]} vs cpu {cpu[i]}");
    }
}
