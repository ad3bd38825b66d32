// Finite-difference checks of the loss backwards in ReferenceMath against their forwards: BCE with logits, MSE,
// Gaussian NLL (mean and log-variance), softmax cross-entropy with ignored rows, KL to N(0, I) and KL between diagonal
// Gaussians (all four inputs). The objective is L = scale * sum_r w_r perSample_r, so the analytic gradient is row r of
// the backward (called with scale) times w_r; for the accumulating KL backwards it is what the call added.
// Tolerance: |fd - analytic| <= 1e-6 + 1e-5 |analytic| (FiniteDifference).
using Vae.Cpu;
using Xunit;
using static Vae.Tests.GradientChecks.FiniteDifference;

namespace Vae.Tests.GradientChecks;

public class LossGradientTests
{
    /// <summary>Per-sample weights times scale: the objective's weights on the perSample output.</summary>
    static double[] ObjectiveWeights(double[] rowWeights, double scale)
    {
        var weights = new double[rowWeights.Length];
        for (int r = 0; r < weights.Length; r++) weights[r] = scale * rowWeights[r];
        return weights;
    }

    static double RandomScale(System.Random random) => 0.25 + random.NextDouble();

    [Fact]
    public void BceWithLogits_backward_matches_finite_differences()
    {
        ForAllMatrices(s =>
        {
            var random = new System.Random(s.Seed);
            var logits = Uniform(random, s.Length, -6, 6);
            var targets = Uniform(random, s.Length, 0, 1);
            var rowWeights = Weights(random, s.Rows);
            double scale = RandomScale(random);

            double[] Forward()
            {
                var perSample = new double[s.Rows];
                ReferenceMath.BceWithLogitsForward(logits, targets, perSample, s.Rows, s.Cols);
                return perSample;
            }

            var dLogits = new double[s.Length];
            ReferenceMath.BceWithLogitsBackward(logits, targets, dLogits, s.Rows, s.Cols, scale);
            AssertGradient($"BCE {s}", logits, ScaleRows(dLogits, rowWeights, s.Rows, s.Cols), ObjectiveWeights(rowWeights, scale), Forward);
        });
    }

    [Fact]
    public void Mse_backward_matches_finite_differences()
    {
        ForAllMatrices(s =>
        {
            var random = new System.Random(s.Seed);
            var prediction = Uniform(random, s.Length, -3, 3);
            var targets = Uniform(random, s.Length, -3, 3);
            var rowWeights = Weights(random, s.Rows);
            double scale = RandomScale(random);

            double[] Forward()
            {
                var perSample = new double[s.Rows];
                ReferenceMath.MseForward(prediction, targets, perSample, s.Rows, s.Cols);
                return perSample;
            }

            var dPrediction = new double[s.Length];
            ReferenceMath.MseBackward(prediction, targets, dPrediction, s.Rows, s.Cols, scale);
            AssertGradient($"MSE {s}", prediction, ScaleRows(dPrediction, rowWeights, s.Rows, s.Cols), ObjectiveWeights(rowWeights, scale), Forward);
        });
    }

    [Fact]
    public void GaussianNll_backward_matches_finite_differences_for_mean_and_logVar()
    {
        ForAllMatrices(s =>
        {
            var random = new System.Random(s.Seed);
            var mean = Uniform(random, s.Length, -2, 2);
            var logVar = Uniform(random, s.Length, -2, 2);
            var targets = Uniform(random, s.Length, -2, 2);
            var rowWeights = Weights(random, s.Rows);
            double scale = RandomScale(random);

            double[] Forward()
            {
                var perSample = new double[s.Rows];
                ReferenceMath.GaussianNllForward(mean, logVar, targets, perSample, s.Rows, s.Cols);
                return perSample;
            }

            var dMean = new double[s.Length];
            var dLogVar = new double[s.Length];
            ReferenceMath.GaussianNllBackward(mean, logVar, targets, dMean, dLogVar, s.Rows, s.Cols, scale);
            var weights = ObjectiveWeights(rowWeights, scale);
            AssertGradient($"GaussianNll {s} dMean", mean, ScaleRows(dMean, rowWeights, s.Rows, s.Cols), weights, Forward);
            AssertGradient($"GaussianNll {s} dLogVar", logVar, ScaleRows(dLogVar, rowWeights, s.Rows, s.Cols), weights, Forward);
        });
    }

    [Fact]
    public void CrossEntropy_backward_matches_finite_differences_with_ignored_rows()
    {
        const int IgnoreIndex = -100;
        ForAllMatrices(s =>
        {
            // rows = s.Rows, classes = s.Cols; about a quarter of the rows are ignored (all of them when classes = 0).
            var random = new System.Random(s.Seed);
            int rows = s.Rows, classes = s.Cols;
            var logits = Uniform(random, rows * classes, -4, 4);
            var targets = new int[rows];
            for (int r = 0; r < rows; r++)
                targets[r] = classes == 0 || random.Next(4) == 0 ? IgnoreIndex : random.Next(classes);
            var rowWeights = Weights(random, rows);
            double scale = RandomScale(random);

            double[] Forward()
            {
                var perSample = new double[rows];
                ReferenceMath.CrossEntropyForward(logits, targets, perSample, rows, classes, IgnoreIndex);
                return perSample;
            }

            var dLogits = new double[rows * classes];
            dLogits.AsSpan().Fill(double.NaN);   // assigned: ignored rows must be written as 0 too
            ReferenceMath.CrossEntropyBackward(logits, targets, dLogits, rows, classes, IgnoreIndex, scale);
            AssertGradient($"CrossEntropy {s}", logits, ScaleRows(dLogits, rowWeights, rows, classes), ObjectiveWeights(rowWeights, scale), Forward);

            var perSample = Forward();
            for (int r = 0; r < rows; r++)
            {
                if (targets[r] != IgnoreIndex) continue;
                Assert.Equal(0.0, perSample[r]);
                for (int c = 0; c < classes; c++) Assert.Equal(0.0, dLogits[r * classes + c]);
            }
        }, maxRows: 8);
    }

    [Fact]
    public void KlStandardNormal_backward_accumulates_the_finite_difference_gradient()
    {
        ForAllMatrices(s =>
        {
            var random = new System.Random(s.Seed);
            var mu = Uniform(random, s.Length, -2, 2);
            var logVar = Uniform(random, s.Length, -3, 2);
            var rowWeights = Weights(random, s.Rows);
            double scale = RandomScale(random);

            double[] Forward()
            {
                var perSample = new double[s.Rows];
                ReferenceMath.KlStandardNormalForward(mu, logVar, perSample, s.Rows, s.Cols);
                return perSample;
            }

            var dMuBefore = Uniform(random, s.Length, -1, 1);
            var dLogVarBefore = Uniform(random, s.Length, -1, 1);
            var dMu = (double[])dMuBefore.Clone();
            var dLogVar = (double[])dLogVarBefore.Clone();
            ReferenceMath.KlStandardNormalBackward(mu, logVar, dMu, dLogVar, s.Rows, s.Cols, scale);
            var weights = ObjectiveWeights(rowWeights, scale);
            AssertGradient($"KlStandardNormal {s} dMu", mu, ScaleRows(Added(dMu, dMuBefore), rowWeights, s.Rows, s.Cols), weights, Forward);
            AssertGradient($"KlStandardNormal {s} dLogVar", logVar, ScaleRows(Added(dLogVar, dLogVarBefore), rowWeights, s.Rows, s.Cols), weights, Forward);
        });
    }

    [Fact]
    public void KlGaussian_backward_accumulates_the_finite_difference_gradient_of_all_four_inputs()
    {
        ForAllMatrices(s =>
        {
            var random = new System.Random(s.Seed);
            var muQ = Uniform(random, s.Length, -2, 2);
            var logVarQ = Uniform(random, s.Length, -2, 2);
            var muP = Uniform(random, s.Length, -2, 2);
            var logVarP = Uniform(random, s.Length, -2, 2);
            var rowWeights = Weights(random, s.Rows);
            double scale = RandomScale(random);

            double[] Forward()
            {
                var perSample = new double[s.Rows];
                ReferenceMath.KlGaussianForward(muQ, logVarQ, muP, logVarP, perSample, s.Rows, s.Cols);
                return perSample;
            }

            var before = new double[4][];
            var after = new double[4][];
            for (int i = 0; i < 4; i++)
            {
                before[i] = Uniform(random, s.Length, -1, 1);
                after[i] = (double[])before[i].Clone();
            }
            ReferenceMath.KlGaussianBackward(muQ, logVarQ, muP, logVarP, after[0], after[1], after[2], after[3], s.Rows, s.Cols, scale);
            var weights = ObjectiveWeights(rowWeights, scale);
            double[] Gradient(int i) => ScaleRows(Added(after[i], before[i]), rowWeights, s.Rows, s.Cols);
            AssertGradient($"KlGaussian {s} dMuQ", muQ, Gradient(0), weights, Forward);
            AssertGradient($"KlGaussian {s} dLogVarQ", logVarQ, Gradient(1), weights, Forward);
            AssertGradient($"KlGaussian {s} dMuP", muP, Gradient(2), weights, Forward);
            AssertGradient($"KlGaussian {s} dLogVarP", logVarP, Gradient(3), weights, Forward);
        });
    }
}
