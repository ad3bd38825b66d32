// Finite-difference checks of free bits (Kingma et al. 2016). The primitive, in ReferenceMath: with perDimension from
// KlPerDimension, KlFreeBitsBackward adds the gradient of F = scale * rows * sum over columns c of max(lambda, KL_c),
// KL_c the batch-mean KL of column c; the floor lambda is kept away from every KL_c (a kink of max), and is drawn so
// that some columns are above it and some below, or all above, or none (|fd - analytic| <= 1e-6 + 1e-5 |analytic|,
// FiniteDifference). The whole model on each backend: VaeModel.Backward(rows, beta, lambda) against central
// differences of recon / rows + beta * sum over latents j of max(lambda, KL_j), computed in double (the recon part by
// DoubleVaeLoss, the KL per latent from its encoder), with GradientCheck's tolerance.
using Vae.Cpu;
using Vae.Diagnostics;
using Vae.Models;
using Vae.Tests.Support;
using Xunit;
using static Vae.Tests.GradientChecks.FiniteDifference;

namespace Vae.Tests.GradientChecks;

public class FreeBitsGradientTests
{
    /// <summary>Columns' batch-mean KL; the floor is at least this far from each of them.</summary>
    const double Margin = 1e-3;

    static double[] PerDimension(double[] mu, double[] logVar, int rows, int cols)
    {
        var perDimension = new double[cols];
        ReferenceMath.KlPerDimension(mu, logVar, perDimension, rows, cols);
        return perDimension;
    }

    /// <summary>Below every KL_c, above every one, or in the middle of a gap between two of them wider than 2 margins.</summary>
    static double ChooseFloor(double[] kl, System.Random random)
    {
        if (kl.Length == 0) return 0.5;
        var sorted = kl.Order().ToArray();
        var candidates = new List<double> { sorted[0] - 0.5, sorted[^1] + 0.5 };
        for (int k = 0; k + 1 < sorted.Length; k++)
            if (sorted[k + 1] - sorted[k] > 2 * Margin) candidates.Add(0.5 * (sorted[k] + sorted[k + 1]));
        return candidates[random.Next(candidates.Count)];
    }

    [Fact]
    public void KlFreeBits_backward_is_the_gradient_of_the_floored_kl()
    {
        int partlyActive = 0;
        ForAllMatrices(s =>
        {
            var random = new System.Random(s.Seed);
            var mu = Uniform(random, s.Length, -2, 2);
            var logVar = Uniform(random, s.Length, -3, 2);
            double scale = 0.25 + random.NextDouble();
            var kl = PerDimension(mu, logVar, s.Rows, s.Cols);
            double freeBits = ChooseFloor(kl, random);
            int active = kl.Count(k => k > freeBits);
            if (active > 0 && active < s.Cols) partlyActive++;

            double[] Floored()
            {
                var now = PerDimension(mu, logVar, s.Rows, s.Cols);
                for (int c = 0; c < now.Length; c++) now[c] = Math.Max(freeBits, now[c]);
                return now;
            }

            var dMuBefore = Uniform(random, s.Length, -1, 1);
            var dLogVarBefore = Uniform(random, s.Length, -1, 1);
            var dMu = (double[])dMuBefore.Clone();
            var dLogVar = (double[])dLogVarBefore.Clone();
            ReferenceMath.KlFreeBitsBackward(mu, logVar, dMu, dLogVar, kl, s.Rows, s.Cols, scale, freeBits);
            var weights = Enumerable.Repeat(scale * s.Rows, s.Cols).ToArray();
            AssertGradient($"KlFreeBits {s} floor {freeBits} dMu", mu, Added(dMu, dMuBefore), weights, Floored);
            AssertGradient($"KlFreeBits {s} floor {freeBits} dLogVar", logVar, Added(dLogVar, dLogVarBefore), weights, Floored);
        });
        Assert.True(partlyActive >= 5, $"only {partlyActive} cases had columns both above and below the floor");
    }

    [Fact]
    public void With_scale_one_over_rows_it_is_the_batch_mean_objective_sum_of_max()
    {
        // rows = 4, cols = 2: column 0 far above a floor of 0.5 nats, column 1 at the prior (KL 0, below the floor).
        double[] mu = [1.5, 0, -1, 0, 2, 0, 0.5, 0];
        double[] logVar = [-1, 0, 0.5, 0, -0.5, 0, 0.2, 0];
        var kl = PerDimension(mu, logVar, 4, 2);
        Assert.Equal(0, kl[1]);
        Assert.True(kl[0] > 0.5);
        var dMu = new double[8];
        var dLogVar = new double[8];
        ReferenceMath.KlFreeBitsBackward(mu, logVar, dMu, dLogVar, kl, 4, 2, 0.25, 0.5);
        for (int r = 0; r < 4; r++)
        {
            Assert.Equal(0.25 * mu[2 * r], dMu[2 * r], 15);
            Assert.Equal(0.125 * (Math.Exp(logVar[2 * r]) - 1), dLogVar[2 * r], 15);
            Assert.Equal(0, dMu[2 * r + 1]);
            Assert.Equal(0, dLogVar[2 * r + 1]);
        }
    }

    [Theory]
    [InlineData("cpu", 1.5f)]
    [InlineData("cpu-1", 0.5f)]
    [InlineData("reference", 1.5f)]
    [InlineData("cuda-interpreted", 1.5f)]
    public void Model_gradient_with_free_bits_matches_finite_differences(string backendName, float beta)
    {
        const int batch = 5, seed = 77;
        var config = new VaeConfig(9, [7], 4, ReconstructionLoss.Bce, beta);
        using var backend = Backends.Create(backendName);
        using var model = new VaeModel(backend, config, batch + 1);
        model.InitializeParameters(seed);
        var rng = new System.Random(seed);
        var p = new float[model.Parameters.Layout.TotalLength];
        backend.Download<float>(model.Parameters.Parameters, p);
        for (int i = 0; i < p.Length; i++) p[i] += 0.6f * (rng.NextSingle() - 0.5f);   // spread the latents' KLs apart
        backend.Upload<float>(p, model.Parameters.Parameters);
        float[] x = SyntheticImages.Uniform(seed, batch, config.Input);
        backend.Upload<float>(x, model.Input.Slice(0, x.Length));
        backend.RandomNormal(model.Eps.Slice(0, batch * config.Latent), seed, 0);
        var eps = new float[batch * config.Latent];
        backend.Download(model.Eps.Slice(0, eps.Length), eps);

        // Recon by DoubleVaeLoss (beta 0), KL per latent from its encoder; both read the same double parameters.
        var recon = new DoubleVaeLoss(new VaeConfig(config.Input, config.Hidden, config.Latent, config.Reconstruction, 0f), model.NamedTensors, p);
        double[] theta = recon.Parameters;
        double[] KlPerLatent()
        {
            var (mu, logVar) = recon.Encode(x, batch);   // reads theta: recon.Parameters
            return PerDimension(mu, logVar, batch, config.Latent);
        }
        var kl = KlPerLatent();
        var sorted = kl.Order().ToArray();
        int gap = 0;
        for (int k = 1; k + 1 < sorted.Length; k++)
            if (sorted[k + 1] - sorted[k] > sorted[gap + 1] - sorted[gap]) gap = k;
        float freeBits = (float)(0.5 * (sorted[gap] + sorted[gap + 1]));
        Assert.True(sorted[gap + 1] - sorted[gap] > 2 * Margin, $"the latents' KLs {string.Join(", ", kl)} leave no room for a floor between them");
        double Objective()
        {
            double floored = 0;
            foreach (double k in KlPerLatent()) floored += Math.Max(freeBits, k);
            return recon.Loss(x, eps, batch) + beta * floored;
        }

        model.Forward(batch);
        model.Backward(batch, beta, freeBits);
        var grads = new float[p.Length];
        backend.Download<float>(model.Parameters.Gradients, grads);
        var perDimension = new float[config.Latent];
        backend.Download(model.KlPerDimension, perDimension);
        for (int j = 0; j < config.Latent; j++)
            Assert.True(Math.Abs(perDimension[j] - kl[j]) <= 1e-5 * (1 + kl[j]), $"KlPerDimension[{j}] = {perDimension[j]}, want {kl[j]}");

        var fd = new double[p.Length];
        double maxAbs = 0;
        foreach (var t in model.NamedTensors)
            for (int i = t.Offset; i < t.Offset + t.Length; i++)
            {
                double saved = theta[i], h = 1e-6 * Math.Max(1, Math.Abs(saved));
                theta[i] = saved + h;
                double up = Objective();
                theta[i] = saved - h;
                double down = Objective();
                theta[i] = saved;
                fd[i] = (up - down) / (2 * h);
                maxAbs = Math.Max(maxAbs, Math.Abs(fd[i]));
            }
        Assert.True(maxAbs > 0);
        foreach (var t in model.NamedTensors)
            for (int i = t.Offset; i < t.Offset + t.Length; i++)
            {
                double allowed = GradientCheck.FiniteDifferenceRelative * Math.Abs(fd[i]) + GradientCheck.FiniteDifferenceAbsolute * maxAbs;
                Assert.True(Math.Abs(grads[i] - fd[i]) <= allowed,
                    $"{t.Name}[{i - t.Offset}]: gradient {grads[i]:G6}, finite difference {fd[i]:G6} (floor {freeBits}, KLs {string.Join(", ", kl)})");
            }

        // The floor matters: the plain KL gradient differs in the encoder's heads of the latents below it.
        model.Backward(batch, beta, 0f);
        var plain = new float[p.Length];
        backend.Download<float>(model.Parameters.Gradients, plain);
        Assert.NotEqual(plain, grads);
    }
}
