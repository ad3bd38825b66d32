// PCA: the Jacobi eigensolver against closed forms (2 x 2) and the eigen-equation on random symmetric matrices;
// principal axes of synthetic Gaussian data against the analytic covariance they were drawn from and against the
// exact sample covariance; the sign convention, the projection's statistics, determinism and bad input.
using Vae.Analysis;
using Xunit;

namespace Vae.Tests.Analysis;

public sealed class PcaTests
{
    [Theory]
    [InlineData(2.0, 1.0, 3.0)]
    [InlineData(5.0, 0.0, 1.0)]
    [InlineData(1.0, -2.0, 1.0)]
    [InlineData(4.0, 0.5, 4.0)]
    public void Jacobi_matches_the_closed_form_of_a_2x2_matrix(double a, double b, double c)
    {
        var (values, vectors) = Pca.SymmetricEigen([a, b, b, c], 2);
        double half = (a + c) / 2, radius = Math.Sqrt((a - c) * (a - c) / 4 + b * b);
        Assert.Equal(half + radius, values[0], 12);
        Assert.Equal(half - radius, values[1], 12);
        for (int k = 0; k < 2; k++)
        {
            double v0 = vectors[0 * 2 + k], v1 = vectors[1 * 2 + k];
            Assert.Equal(values[k] * v0, a * v0 + b * v1, 12);
            Assert.Equal(values[k] * v1, b * v0 + c * v1, 12);
            Assert.Equal(1.0, v0 * v0 + v1 * v1, 12);
            Assert.True(Math.Abs(v0) >= Math.Abs(v1) ? v0 > 0 : v1 > 0, "the largest entry of each eigenvector is positive");
        }
    }

    [Theory]
    [InlineData(1, 3)]
    [InlineData(2, 7)]
    [InlineData(3, 20)]
    [InlineData(4, 40)]
    public void Jacobi_solves_random_symmetric_matrices(int seed, int n)
    {
        var rng = new System.Random(seed);
        var m = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = i; j < n; j++)
                m[i * n + j] = m[j * n + i] = rng.NextDouble() * 2 - 1;
        var (values, vectors) = Pca.SymmetricEigen(m, n);

        double trace = 0, sum = 0;
        for (int i = 0; i < n; i++) { trace += m[i * n + i]; sum += values[i]; }
        Assert.Equal(trace, sum, 10);
        for (int k = 0; k + 1 < n; k++) Assert.True(values[k] >= values[k + 1], "eigenvalues descend");
        for (int k = 0; k < n; k++)
        {
            for (int i = 0; i < n; i++)
            {
                double mv = 0;
                for (int j = 0; j < n; j++) mv += m[i * n + j] * vectors[j * n + k];
                Assert.True(Math.Abs(mv - values[k] * vectors[i * n + k]) < 1e-10, $"M v = lambda v fails for eigenpair {k}, row {i}");
            }
            for (int l = 0; l < n; l++)
            {
                double dot = 0;
                for (int i = 0; i < n; i++) dot += vectors[i * n + k] * vectors[i * n + l];
                Assert.True(Math.Abs(dot - (k == l ? 1 : 0)) < 1e-12, $"eigenvectors {k} and {l} are not orthonormal: {dot}");
            }
        }
    }

    /// <summary>x = mean + R diag(sqrt(variances)) z with z ~ N(0, I) and R a product of plane rotations: the covariance is R diag(variances) R^T.</summary>
    static (float[] Data, double[] Axes, double[] Variances, double[] Mean) Gaussian(int seed, int rows, double[] variances)
    {
        int d = variances.Length;
        var rng = new System.Random(seed);
        var rotation = new double[d * d];
        for (int i = 0; i < d; i++) rotation[i * d + i] = 1;
        for (int p = 0; p < d; p++)
            for (int q = p + 1; q < d; q++)
            {
                double angle = rng.NextDouble() * 2 * Math.PI, c = Math.Cos(angle), s = Math.Sin(angle);
                for (int k = 0; k < d; k++)
                {
                    double rp = rotation[k * d + p], rq = rotation[k * d + q];
                    rotation[k * d + p] = c * rp - s * rq;
                    rotation[k * d + q] = s * rp + c * rq;
                }
            }
        var mean = Enumerable.Range(0, d).Select(_ => rng.NextDouble() * 10 - 5).ToArray();
        var data = new float[rows * d];
        var z = new double[d];
        for (int n = 0; n < rows; n++)
        {
            for (int k = 0; k < d; k++)
            {
                double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
                z[k] = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2) * Math.Sqrt(variances[k]);
            }
            for (int i = 0; i < d; i++)
            {
                double x = mean[i];
                for (int k = 0; k < d; k++) x += rotation[i * d + k] * z[k];
                data[n * d + i] = (float)x;
            }
        }
        // Column k of the rotation is the axis of variance k.
        var axes = new double[d * d];
        for (int k = 0; k < d; k++)
            for (int i = 0; i < d; i++) axes[k * d + i] = rotation[i * d + k];
        return (data, axes, variances, mean);
    }

    [Fact]
    public void Recovers_the_principal_axes_of_the_analytic_covariance()
    {
        double[] variances = [9, 4, 1, 0.25, 0.04];
        int d = variances.Length, rows = 40_000;
        var (data, axes, _, mean) = Gaussian(7, rows, variances);
        var pca = Pca.Fit(data, rows, d, components: 3);

        Assert.Equal(3, pca.Components);
        for (int i = 0; i < d; i++) Assert.True(Math.Abs(pca.Mean[i] - mean[i]) < 0.05, $"mean {i}: {pca.Mean[i]} vs {mean[i]}");
        for (int k = 0; k < 3; k++)
        {
            double dot = 0;
            for (int i = 0; i < d; i++) dot += pca.Axes[k * d + i] * axes[k * d + i];
            Assert.True(Math.Abs(dot) > 0.999, $"axis {k}: |cos| with the true axis is {Math.Abs(dot)}");
            // Sampling error of a variance estimate from 40000 draws is about sqrt(2 / n) = 0.7 %.
            Assert.True(Math.Abs(pca.Variances[k] / variances[k] - 1) < 0.03, $"variance {k}: {pca.Variances[k]} vs {variances[k]}");
        }
        Assert.True(Math.Abs(pca.TotalVariance / variances.Sum() - 1) < 0.02, $"total variance {pca.TotalVariance} vs {variances.Sum()}");
        Assert.Equal(pca.Variances[0] / pca.TotalVariance, pca.ExplainedRatio(0), 12);
    }

    [Fact]
    public void Axes_are_exact_eigenvectors_of_the_sample_covariance()
    {
        double[] variances = [3, 2, 0.5, 0.1];
        int d = variances.Length, rows = 500;
        var (data, _, _, _) = Gaussian(3, rows, variances);
        var pca = Pca.Fit(data, rows, d, components: d);

        // The sample covariance, recomputed independently here (two passes, divided by n - 1).
        var mean = new double[d];
        for (int n = 0; n < rows; n++) for (int i = 0; i < d; i++) mean[i] += data[n * d + i];
        for (int i = 0; i < d; i++) mean[i] /= rows;
        var cov = new double[d * d];
        for (int n = 0; n < rows; n++)
            for (int i = 0; i < d; i++)
                for (int j = 0; j < d; j++) cov[i * d + j] += (data[n * d + i] - mean[i]) * (data[n * d + j] - mean[j]) / (rows - 1);

        for (int k = 0; k < d; k++)
            for (int i = 0; i < d; i++)
            {
                double cv = 0;
                for (int j = 0; j < d; j++) cv += cov[i * d + j] * pca.Axes[k * d + j];
                Assert.True(Math.Abs(cv - pca.Variances[k] * pca.Axes[k * d + i]) < 1e-9, $"C v = lambda v fails for axis {k}, row {i}");
            }
    }

    [Fact]
    public void Projections_are_centred_uncorrelated_and_have_the_axis_variances()
    {
        double[] variances = [5, 1, 0.2];
        int d = variances.Length, rows = 2000;
        var (data, _, _, _) = Gaussian(11, rows, variances);
        var pca = Pca.Fit(data, rows, d);
        var y = pca.Project(data, rows);
        Assert.Equal(2 * rows, y.Length);
        double m0 = 0, m1 = 0;
        for (int n = 0; n < rows; n++) { m0 += y[2 * n]; m1 += y[2 * n + 1]; }
        m0 /= rows; m1 /= rows;
        double v0 = 0, v1 = 0, c01 = 0;
        for (int n = 0; n < rows; n++)
        {
            v0 += (y[2 * n] - m0) * (y[2 * n] - m0);
            v1 += (y[2 * n + 1] - m1) * (y[2 * n + 1] - m1);
            c01 += (y[2 * n] - m0) * (y[2 * n + 1] - m1);
        }
        v0 /= rows - 1; v1 /= rows - 1; c01 /= rows - 1;
        Assert.True(Math.Abs(m0) < 1e-4 && Math.Abs(m1) < 1e-4, $"projection means {m0}, {m1}");
        Assert.True(Math.Abs(v0 / pca.Variances[0] - 1) < 1e-4, $"{v0} vs {pca.Variances[0]}");
        Assert.True(Math.Abs(v1 / pca.Variances[1] - 1) < 1e-4, $"{v1} vs {pca.Variances[1]}");
        Assert.True(Math.Abs(c01) < 1e-4 * Math.Sqrt(v0 * v1), $"covariance of the two projections {c01}");
    }

    [Fact]
    public void The_sign_convention_makes_the_axes_independent_of_a_reflection_of_the_data()
    {
        double[] variances = [4, 1, 0.3];
        int d = variances.Length, rows = 1000;
        var (data, _, _, _) = Gaussian(5, rows, variances);
        var a = Pca.Fit(data, rows, d);
        var b = Pca.Fit(data, rows, d);
        Assert.Equal(a.Axes, b.Axes);                                     // deterministic
        Assert.Equal(a.Project(data, rows), b.Project(data, rows));

        var negated = data.Select(v => -v).ToArray();                    // same covariance, mirrored data
        var c = Pca.Fit(negated, rows, d);
        for (int i = 0; i < a.Axes.Length; i++) Assert.Equal(a.Axes[i], c.Axes[i], 9);
        for (int k = 0; k < 2; k++)
        {
            int largest = 0;
            for (int i = 1; i < d; i++) if (Math.Abs(a.Axes[k * d + i]) > Math.Abs(a.Axes[k * d + largest])) largest = i;
            Assert.True(a.Axes[k * d + largest] > 0);
        }
        var pa = a.Project(data, rows);
        var pc = c.Project(negated, rows);
        for (int i = 0; i < pa.Length; i++) Assert.Equal(-pa[i], pc[i], 3);
    }

    [Fact]
    public void Bad_input_is_refused_with_a_reason()
    {
        Assert.Contains("at least 2 rows", Assert.Throws<ArgumentException>(() => Pca.Fit(new float[3], 1, 3)).Message, StringComparison.Ordinal);
        Assert.Contains("finite", Assert.Throws<ArgumentException>(() => Pca.Fit([1, 2, float.NaN, 4], 2, 2)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Pca.Fit(new float[6], 3, 2, components: 3));
        Assert.Contains("Expected 3 rows", Assert.Throws<ArgumentException>(() => Pca.Fit(new float[5], 3, 2)).Message, StringComparison.Ordinal);
        Assert.Contains("not symmetric", Assert.Throws<ArgumentException>(() => Pca.SymmetricEigen([1, 2, 3, 4], 2)).Message, StringComparison.Ordinal);
        var pca = Pca.Fit([0, 0, 1, 1, 2, 0], 3, 2);
        Assert.Throws<ArgumentException>(() => pca.Project(new float[5], 3));
    }
}
