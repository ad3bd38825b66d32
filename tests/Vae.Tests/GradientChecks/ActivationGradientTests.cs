// Finite-difference checks of ActivationBackward for all five activations in ReferenceMath. Inputs are sampled with
// |x| in [0.05, 4] so no step crosses the kink of Relu / LeakyRelu at 0.
// Tolerance: |fd - analytic| <= 1e-6 + 1e-5 |analytic| (FiniteDifference).
using Vae.Cpu;
using Xunit;
using static Vae.Tests.GradientChecks.FiniteDifference;

namespace Vae.Tests.GradientChecks;

public class ActivationGradientTests
{
    [Theory]
    [InlineData(Activation.Relu)]
    [InlineData(Activation.LeakyRelu)]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Sigmoid)]
    [InlineData(Activation.Softplus)]
    public void ActivationBackward_matches_finite_differences(Activation f)
    {
        ForAllMatrices(s =>
        {
            var random = new System.Random(s.Seed);
            double slope = random.Next(2) == 0 ? 0.01 : 0.2;
            var x = AwayFromZero(random, s.Length, 0.05, 4);
            var w = Weights(random, s.Length);

            double[] Forward()
            {
                var y = new double[x.Length];
                ReferenceMath.ActivationForward(f, x, y, slope);
                return y;
            }

            var y = Forward();
            var dx = new double[x.Length];
            ReferenceMath.ActivationBackward(f, x, y, w, dx, slope);
            AssertGradient($"{f} {s} slope {slope}", x, dx, w, Forward);

            // In place: dx may be dy.
            var inPlace = (double[])w.Clone();
            ReferenceMath.ActivationBackward(f, x, y, inPlace, inPlace, slope);
            Assert.Equal(dx, inPlace);
        });
    }
}
