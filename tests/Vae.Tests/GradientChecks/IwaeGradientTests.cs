// Finite-difference checks of the importance-weighted objective (Burda et al. 2016) on tiny models, every backend: the
// gradient VaeModel.Backward(rows, klWeight, 0) computes in float against central differences of
//   L = -(1 / rows) sum over images of log (1/K) sum_k exp(log w_k),
//   log w_k = log p(x|z_k) + klWeight (log N(z_k; 0, I) - log N(z_k; mu, sigma^2)),   z_k = mu + sigma eps_k,
// written here from the formulas in double (the networks from DoubleVaeLoss), with the noise the model used, and
// GradientCheck's tolerance (|g - fd| <= 2e-3 |fd| + 2e-5 max|fd|). K = 1 is the ELBO path, whose KL is analytic:
// there the double objective is recon + klWeight KL(q || N(0, I)), the expectation of the sampled KL of K = 1.
// The forward's reported numbers are checked against the same double formulas: the bound (klWeight 1) per batch, the
// mean over samples of the reconstruction and of the sampled KL.
using Vae.Diagnostics;
using Vae.Models;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.GradientChecks;

/// <summary>The K-sample objective of a VAE in double precision, from the formulas, on a copy of the flat parameters.</summary>
public sealed class DoubleIwaeObjective(VaeConfig config, DoubleVaeLoss network)
{
    const double Log2Pi = 1.8378770664093453;

    public DoubleVaeLoss Network => network;

    /// <summary>
    /// Per image i of <paramref name="rows"/>: log w of each of its K samples (eps rows i K .. i K + K - 1), its mean
    /// reconstruction and mean sampled KL (log q - log p) over the samples.
    /// </summary>
    public (double[][] LogWeights, double[] Recon, double[] Kl) Terms(float[] x, float[] eps, int rows, int k, double klWeight)
    {
        int d = config.Input, l = config.Latent;
        var (mu, logVar) = network.Encode(x, rows);
        var z = new double[rows * k * l];
        for (int s = 0; s < rows * k; s++)
            for (int j = 0; j < l; j++)
            {
                int i = s / k;
                z[s * l + j] = mu[i * l + j] + Math.Exp(0.5 * logVar[i * l + j]) * eps[s * l + j];
            }
        var logits = network.DecodeLogits(z, rows * k);
        var logWeights = new double[rows][];
        var recon = new double[rows];
        var kl = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            logWeights[i] = new double[k];
            for (int c = 0; c < k; c++)
            {
                int s = i * k + c;
                double r = 0;
                for (int p = 0; p < d; p++)
                {
                    double a = logits[s * d + p], t = x[i * d + p];
                    if (config.Reconstruction == ReconstructionLoss.Bce) r += Math.Max(a, 0) - a * t + Math.Log(1 + Math.Exp(-Math.Abs(a)));
                    else
                    {
                        double pr = 1 / (1 + Math.Exp(-a));
                        r += (pr - t) * (pr - t);
                    }
                }
                double logPrior = 0, logPosterior = 0;
                for (int j = 0; j < l; j++)
                {
                    double zj = z[s * l + j], e = eps[s * l + j];
                    logPrior += -0.5 * (Log2Pi + zj * zj);
                    logPosterior += -0.5 * (Log2Pi + logVar[i * l + j] + e * e);
                }
                logWeights[i][c] = -r + klWeight * (logPrior - logPosterior);
                recon[i] += r / k;
                kl[i] += (logPosterior - logPrior) / k;
            }
        }
        return (logWeights, recon, kl);
    }

    public static double LogMeanExp(double[] values)
    {
        double max = values.Max();
        return max + Math.Log(values.Sum(v => Math.Exp(v - max)) / values.Length);
    }

    /// <summary>The training objective per image, averaged over the rows: -mean log (1/K) sum_k w_k (K = 1: recon + klWeight analytic KL).</summary>
    public double Objective(float[] x, float[] eps, int rows, int k, double klWeight)
    {
        if (k == 1)
        {
            // The ELBO path: the reconstruction of the one sample plus the analytic KL to N(0, I).
            var (mu, logVar) = network.Encode(x, rows);
            var (_, recon, _) = Terms(x, eps, rows, 1, 0);
            double kl = 0;
            for (int i = 0; i < mu.Length; i++) kl += -0.5 * (1 + logVar[i] - mu[i] * mu[i] - Math.Exp(logVar[i]));
            return (recon.Sum() + klWeight * kl) / rows;
        }
        var (logWeights, _, _) = Terms(x, eps, rows, k, klWeight);
        return -logWeights.Sum(LogMeanExp) / rows;
    }
}

public sealed class IwaeGradientTests
{
    public static TheoryData<string, int, int[], int, int, string, int, float> Configurations => new()
    {
        { "cpu", 10, new[] { 7 }, 3, 4, "bce", 1, 1f },
        { "cpu", 10, new[] { 7 }, 3, 4, "bce", 2, 1f },
        { "cpu", 10, new[] { 7 }, 3, 4, "bce", 5, 1f },
        { "cpu", 12, Array.Empty<int>(), 2, 3, "mse", 5, 1f },
        { "cpu", 9, new[] { 7, 5 }, 3, 3, "bce", 5, 0.5f },
        { "cpu", 9, new[] { 6 }, 2, 2, "bce", 2, 0f },
        { "cpu", 8, new[] { 6 }, 3, 5, "mse", 2, 2.5f },
        { "reference", 10, new[] { 7 }, 3, 4, "bce", 5, 1f },
        { "reference", 9, new[] { 6 }, 2, 3, "mse", 2, 0.5f },
        { "cuda-interpreted", 10, new[] { 7 }, 3, 3, "bce", 5, 1f },
        { "cuda-interpreted", 9, new[] { 6 }, 2, 2, "mse", 2, 1f },
        { "cuda-interpreted", 9, new[] { 6 }, 2, 2, "bce", 1, 1f },
    };

    /// <summary>A model with seeded parameters (shifted a little, so biases are not 0), images and K samples of noise per image.</summary>
    internal static VaeModel Prepare(IComputeBackend backend, VaeConfig config, int rows, int seed, out float[] x, out float[] eps, out float[] p)
    {
        var model = new VaeModel(backend, config, rows + 1);   // capacity above the batch: the rows < capacity path
        model.InitializeParameters((ulong)seed);
        var rng = new System.Random(seed);
        p = new float[model.Parameters.Layout.TotalLength];
        backend.Download<float>(model.Parameters.Parameters, p);
        for (int i = 0; i < p.Length; i++) p[i] += 0.05f * (rng.NextSingle() - 0.5f);
        backend.Upload<float>(p, model.Parameters.Parameters);
        x = SyntheticImages.Uniform(seed, rows, config.Input);
        backend.Upload<float>(x, model.Input.Slice(0, x.Length));
        eps = new float[rows * model.NoisePerRow];
        backend.RandomNormal(model.Noise.Slice(0, eps.Length), (ulong)seed, 0);
        backend.Download(model.Noise.Slice(0, eps.Length), eps);
        return model;
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Gradient_matches_finite_differences_of_the_double_precision_objective(string backendName, int input, int[] hidden, int latent, int rows,
        string recon, int k, float klWeight)
    {
        var config = new VaeConfig(input, hidden, latent, VaeConfig.ParseReconstruction(recon), importanceSamples: k);
        using var backend = Backends.Create(backendName);
        int seed = input * 31 + rows * 7 + k;
        using var model = Prepare(backend, config, rows, seed, out var x, out var eps, out var p);
        model.Forward(rows);
        model.Backward(rows, klWeight, 0f);
        var grads = new float[p.Length];
        backend.Download<float>(model.Parameters.Gradients, grads);

        var objective = new DoubleIwaeObjective(config, new DoubleVaeLoss(config, model.NamedTensors, p));
        var theta = objective.Network.Parameters;
        var fd = new double[p.Length];
        double maxAbs = 0;
        foreach (var t in model.NamedTensors)
            for (int i = t.Offset; i < t.Offset + t.Length; i++)
            {
                double saved = theta[i], h = 1e-6 * Math.Max(1, Math.Abs(saved));
                theta[i] = saved + h;
                double up = objective.Objective(x, eps, rows, k, klWeight);
                theta[i] = saved - h;
                double down = objective.Objective(x, eps, rows, k, klWeight);
                theta[i] = saved;
                fd[i] = (up - down) / (2 * h);
                maxAbs = Math.Max(maxAbs, Math.Abs(fd[i]));
            }
        Assert.True(maxAbs > 0, "the finite-difference gradient is identically zero");
        foreach (var t in model.NamedTensors)
            for (int i = t.Offset; i < t.Offset + t.Length; i++)
            {
                double allowed = GradientCheck.FiniteDifferenceRelative * Math.Abs(fd[i]) + GradientCheck.FiniteDifferenceAbsolute * maxAbs;
                Assert.True(Math.Abs(grads[i] - fd[i]) <= allowed,
                    $"{config}, K = {k}, klWeight {klWeight} on {backendName}: {t.Name}[{i - t.Offset}] gradient {grads[i]:G6}, finite difference {fd[i]:G6} (allowed {allowed:G3})");
            }
    }

    [Theory]
    [InlineData("cpu", "bce")]
    [InlineData("cpu", "mse")]
    [InlineData("cuda-interpreted", "bce")]
    public void Forward_reports_the_bound_and_the_sample_means_of_recon_and_kl(string backendName, string recon)
    {
        const int rows = 3, k = 4;
        var config = new VaeConfig(11, [6], 3, VaeConfig.ParseReconstruction(recon), importanceSamples: k);
        using var backend = Backends.Create(backendName);
        using var model = Prepare(backend, config, rows, seed: 17, out var x, out var eps, out var p);
        model.Forward(rows);
        var objective = new DoubleIwaeObjective(config, new DoubleVaeLoss(config, model.NamedTensors, p));
        var (logWeights, wantRecon, wantKl) = objective.Terms(x, eps, rows, k, 1);

        var bound = new float[rows];
        var total = new float[1];
        var perRecon = new float[rows];
        var perKl = new float[rows];
        var totals = new float[2];
        backend.Download(model.IwaeBoundPerSample.Slice(0, rows), bound);
        backend.Download(model.IwaeBoundTotal, total);
        backend.Download(model.ReconPerSample.Slice(0, rows), perRecon);
        backend.Download(model.KlPerSample.Slice(0, rows), perKl);
        backend.Download(model.LossTotals, totals);
        for (int i = 0; i < rows; i++)
        {
            double want = -DoubleIwaeObjective.LogMeanExp(logWeights[i]);
            Assert.True(Math.Abs(bound[i] - want) <= 1e-5 * Math.Abs(want) + 1e-5, $"image {i}: bound {bound[i]} vs {want}");
            Assert.True(Math.Abs(perRecon[i] - wantRecon[i]) <= 1e-5 * Math.Abs(wantRecon[i]) + 1e-5, $"image {i}: recon {perRecon[i]} vs {wantRecon[i]}");
            Assert.True(Math.Abs(perKl[i] - wantKl[i]) <= 1e-5 * (Math.Abs(wantKl[i]) + 10), $"image {i}: kl {perKl[i]} vs {wantKl[i]}");
            // Jensen: the bound is never above the K-sample negative ELBO of the same samples.
            Assert.True(bound[i] <= perRecon[i] + perKl[i] + 1e-4, $"image {i}: bound {bound[i]} above the -ELBO {perRecon[i] + perKl[i]}");
        }
        Assert.Equal(bound.Sum(v => (double)v), total[0], 3);
        Assert.Equal(perRecon.Sum(v => (double)v), totals[0], 3);
        Assert.Equal(perKl.Sum(v => (double)v), totals[1], 3);
    }
}
