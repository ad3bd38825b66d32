// Shared machinery of the gradient checks: central finite differences in double precision, the tolerance they are
// held to, random test data from fixed seeds, and the FsCheck runner (fixed replay seed, so failures reproduce).
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace Vae.Tests.GradientChecks;

/// <summary>One random test case: a (rows, cols) shape and the seed of its values.</summary>
public readonly record struct MatrixCase(int Rows, int Cols, int Seed)
{
    public int Length => Rows * Cols;
}

public static class FiniteDifference
{
    /// <summary>Relative step: h = RelativeStep * max(1, |x|).</summary>
    public const double RelativeStep = 1e-6;

    /// <summary>The check passes when |fd - analytic| &lt;= AbsoluteTolerance + RelativeTolerance * |analytic|.</summary>
    public const double AbsoluteTolerance = 1e-6, RelativeTolerance = 1e-5;

    /// <summary>Random test cases per property, after the fixed edge shapes.</summary>
    public const int RandomCases = 40;

    /// <summary>Shapes every matrix property runs on first: empty, single row/column, small.</summary>
    static readonly (int Rows, int Cols)[] EdgeShapes = [(0, 0), (0, 3), (3, 0), (1, 1), (1, 4), (4, 1), (2, 3)];

    static readonly Config Replayable = Config.QuickThrowOnFailure
        .WithMaxTest(RandomCases)
        .WithReplay(20240517UL, 0x9E3779B97F4A7C15UL)
        .WithQuietOnSuccess(true);

    /// <summary>Runs the property on the edge shapes, then on random shapes up to (maxRows, maxCols) via FsCheck.</summary>
    public static void ForAllMatrices(Action<MatrixCase> property, int maxRows = 6, int maxCols = 6)
    {
        for (int i = 0; i < EdgeShapes.Length; i++) property(new MatrixCase(EdgeShapes[i].Rows, EdgeShapes[i].Cols, 1000 + i));
        var cases =
            from rows in Gen.Choose(0, maxRows)
            from cols in Gen.Choose(0, maxCols)
            from seed in Gen.Choose(0, int.MaxValue)
            select new MatrixCase(rows, cols, seed);
        ForAll(cases, property);
    }

    /// <summary>Runs the property on RandomCases values of the generator with the fixed replay seed.</summary>
    public static void ForAll<T>(Gen<T> generator, Action<T> property) =>
        Prop.ForAll(generator.ToArbitrary(), property).Check(Replayable);

    /// <summary>
    /// Checks the gradient of L(x) = sum_j weights[j] * output()[j] with respect to every element of x against
    /// <paramref name="analytic"/>, by central differences: output() must recompute the forward from the current x.
    /// x is restored afterwards.
    /// </summary>
    public static void AssertGradient(string what, double[] x, double[] analytic, double[] weights, Func<double[]> output)
    {
        Assert.Equal(x.Length, analytic.Length);
        for (int i = 0; i < x.Length; i++)
        {
            double saved = x[i];
            double h = RelativeStep * Math.Max(1, Math.Abs(saved));
            double up = saved + h, down = saved - h;
            x[i] = up;
            double[] plus = output();
            x[i] = down;
            double[] minus = output();
            x[i] = saved;
            Assert.Equal(weights.Length, plus.Length);
            double difference = 0;
            for (int j = 0; j < weights.Length; j++) difference += weights[j] * (plus[j] - minus[j]);
            double fd = difference / (up - down);
            double allowed = AbsoluteTolerance + RelativeTolerance * Math.Abs(analytic[i]);
            if (!(Math.Abs(fd - analytic[i]) <= allowed))
                Assert.Fail($"{what}: d/dx[{i}] (x = {saved:R}) finite difference {fd:R} vs analytic {analytic[i]:R}, |diff| {Math.Abs(fd - analytic[i]):G3} > {allowed:G3}.");
        }
    }

    /// <summary>Length values uniform in [low, high).</summary>
    public static double[] Uniform(System.Random random, int length, double low, double high)
    {
        var values = new double[length];
        for (int i = 0; i < length; i++) values[i] = low + (high - low) * random.NextDouble();
        return values;
    }

    /// <summary>Length values with |x| uniform in [low, high) and a random sign (away from 0 and kinks).</summary>
    public static double[] AwayFromZero(System.Random random, int length, double low, double high)
    {
        var values = Uniform(random, length, low, high);
        for (int i = 0; i < length; i++)
            if (random.Next(2) == 0) values[i] = -values[i];
        return values;
    }

    /// <summary>Random objective weights in [-1, 1), so every output element matters.</summary>
    public static double[] Weights(System.Random random, int length) => Uniform(random, length, -1, 1);

    /// <summary>gradient (rows, cols) row r *= rowWeights[r]: the gradient of sum_r w_r perSample_r from a per-element one.</summary>
    public static double[] ScaleRows(double[] gradient, double[] rowWeights, int rows, int cols)
    {
        var scaled = new double[gradient.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                scaled[r * cols + c] = gradient[r * cols + c] * rowWeights[r];
        return scaled;
    }

    /// <summary>after - before, elementwise: what an accumulating backward added.</summary>
    public static double[] Added(double[] after, double[] before)
    {
        var added = new double[after.Length];
        for (int i = 0; i < after.Length; i++) added[i] = after[i] - before[i];
        return added;
    }

    /// <summary>a followed by b: several outputs seen as one vector.</summary>
    public static double[] Join(double[] a, double[] b)
    {
        var joined = new double[a.Length + b.Length];
        a.CopyTo(joined, 0);
        b.CopyTo(joined, a.Length);
        return joined;
    }
}
