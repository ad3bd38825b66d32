// Finite-difference check of the LSTM cell's backward in ReferenceMath: with the forward's outputs h, c and y weighted by
// dhNext, dcNext and dy (L = sum dhNext h + dcNext c + dy y), LstmCellBackward must give dL/dgates (dGates), dL/dcPrev
// (dcPrev) and dL/dhPrev (dhPrev: zero for a row that took the step, whose hPrev reaches the gates only through the
// caller's GEMM; dhNext for a padding row, whose h is hPrev), for random shapes, masks and steps.
// Tolerance: |fd - analytic| <= 1e-6 + 1e-5 |analytic| (FiniteDifference).
using Vae.Cpu;
using static Vae.Tests.GradientChecks.FiniteDifference;

namespace Vae.Tests.GradientChecks;

public class RecurrentGradientTests
{
    [Xunit.Fact]
    public void LstmCellBackward_matches_finite_differences() => ForAllMatrices(s =>
    {
        // Rows are the batch, columns the hidden units.
        var random = new System.Random(s.Seed);
        int rows = s.Rows, hidden = s.Cols, n = rows * hidden;
        var gates = Uniform(random, 4 * n, -3, 3);
        var cPrev = Uniform(random, n, -2, 2);
        var hPrev = Uniform(random, n, -1, 1);
        var takesStep = new bool[rows];
        for (int r = 0; r < rows; r++) takesStep[r] = random.Next(3) != 0;
        var dhNext = Weights(random, n);
        var dcNext = Weights(random, n);
        var dy = Weights(random, n);

        var activated = new double[4 * n];
        var c = new double[n];
        var h = new double[n];
        var y = new double[n];
        double[] Outputs()
        {
            ReferenceMath.LstmCellForward(gates, cPrev, hPrev, takesStep, activated, c, h, y, rows, hidden);
            return Join(Join(h, c), y);
        }
        var weights = Join(Join(dhNext, dcNext), dy);
        Outputs();
        var dGates = new double[4 * n];
        var dhPrev = new double[n];
        var dcPrev = new double[n];
        ReferenceMath.LstmCellBackward(activated, cPrev, c, takesStep, dy, dhNext, dcNext, dGates, dhPrev, dcPrev, rows, hidden);

        string what = $"LSTM cell {s}, rows taking the step: {string.Join("", takesStep.Select(t => t ? '1' : '0'))}";
        AssertGradient(what + ", gates", gates, dGates, weights, Outputs);
        AssertGradient(what + ", cPrev", cPrev, dcPrev, weights, Outputs);
        AssertGradient(what + ", hPrev", hPrev, dhPrev, weights, Outputs);
    });
}
