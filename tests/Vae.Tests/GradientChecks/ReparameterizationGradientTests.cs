// Finite-difference checks of ReparameterizeBackward in ReferenceMath: inside the log-variance clamp the gradient
// flows to mu and logVar; outside it z does not depend on logVar, and the analytic gradient must be exactly 0.
// Tolerance: |fd - analytic| <= 1e-6 + 1e-5 |analytic| (FiniteDifference).
using Vae.Cpu;
using Xunit;
using static Vae.Tests.GradientChecks.FiniteDifference;

namespace Vae.Tests.GradientChecks;

public class ReparameterizationGradientTests
{
    const double MinLogVar = -4, MaxLogVar = 4;

    [Fact]
    public void ReparameterizeBackward_matches_finite_differences_inside_and_outside_the_clamp()
    {
        ForAllMatrices(s =>
        {
            // Each logVar is either well inside [-4, 4] (|lv| < 3.5) or well outside (4.5 <= |lv| < 8), so no step crosses a bound.
            var random = new System.Random(s.Seed);
            var mu = Uniform(random, s.Length, -2, 2);
            var eps = Uniform(random, s.Length, -2, 2);
            var logVar = new double[s.Length];
            var outside = new bool[s.Length];
            for (int i = 0; i < logVar.Length; i++)
            {
                outside[i] = random.Next(3) == 0;
                double magnitude = outside[i] ? 4.5 + 3.5 * random.NextDouble() : 3.5 * random.NextDouble();
                logVar[i] = random.Next(2) == 0 ? magnitude : -magnitude;
            }
            var w = Weights(random, s.Length);

            double[] Forward()
            {
                var z = new double[mu.Length];
                ReferenceMath.ReparameterizeForward(mu, logVar, eps, z, MinLogVar, MaxLogVar);
                return z;
            }

            var dMu = new double[s.Length];
            var dLogVar = new double[s.Length];
            ReferenceMath.ReparameterizeBackward(logVar, eps, w, dMu, dLogVar, MinLogVar, MaxLogVar);
            AssertGradient($"Reparameterize {s} dMu", mu, dMu, w, Forward);
            AssertGradient($"Reparameterize {s} dLogVar", logVar, dLogVar, w, Forward);
            for (int i = 0; i < logVar.Length; i++)
                if (outside[i]) Assert.Equal(0.0, dLogVar[i]);
        });
    }

    [Fact]
    public void ReparameterizeBackward_logVar_gradient_is_zero_outside_the_clamp()
    {
        double[] logVar = [-30.5, -4.0001, 4.0001, 25];
        double[] eps = [1, -1, 0.5, 2];
        double[] dz = [1, 2, 3, 4];
        var dMu = new double[4];
        var dLogVar = new double[4];
        ReferenceMath.ReparameterizeBackward(logVar, eps, dz, dMu, dLogVar, MinLogVar, MaxLogVar);
        Assert.Equal(dz, dMu);
        Assert.Equal(new double[4], dLogVar);

        // On the bounds themselves the value is inside: the gradient flows.
        double[] atBounds = [MinLogVar, MaxLogVar];
        var dLogVarAtBounds = new double[2];
        ReferenceMath.ReparameterizeBackward(atBounds, [1, 1], [1, 1], new double[2], dLogVarAtBounds, MinLogVar, MaxLogVar);
        Assert.Equal(0.5 * Math.Exp(0.5 * MinLogVar), dLogVarAtBounds[0], 15);
        Assert.Equal(0.5 * Math.Exp(0.5 * MaxLogVar), dLogVarAtBounds[1], 12);
    }
}
