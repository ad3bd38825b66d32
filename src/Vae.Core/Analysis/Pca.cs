// Principal component analysis of a small (n, d) matrix of floats, such as a VAE's latent means: the sample
// covariance (divided by n - 1) accumulated in double after subtracting the column means, all its eigenpairs by the
// cyclic Jacobi method, and the projection onto the top components. Deterministic: the eigenvectors are sorted by
// eigenvalue (largest first, ties by index) and each is signed so that its largest-magnitude entry (the first such
// entry on ties) is positive, so the same data always gives the same axes and the same picture.
namespace Vae.Analysis;

/// <summary>The fitted principal axes of a data set; <see cref="Project"/> maps rows onto them.</summary>
public sealed class PcaResult
{
    internal PcaResult(int dimensions, double[] mean, double[] axes, double[] variances, double totalVariance)
    {
        Dimensions = dimensions;
        Mean = mean;
        Axes = axes;
        Variances = variances;
        TotalVariance = totalVariance;
    }

    /// <summary>d, the number of columns of the data.</summary>
    public int Dimensions { get; }

    /// <summary>The number of components kept.</summary>
    public int Components => Variances.Length;

    /// <summary>The column means (d).</summary>
    public double[] Mean { get; }

    /// <summary>(Components, d) row-major: unit-length principal axes, largest variance first, sign fixed as documented above.</summary>
    public double[] Axes { get; }

    /// <summary>The sample variance of the data along each axis (the covariance eigenvalues, descending).</summary>
    public double[] Variances { get; }

    /// <summary>The trace of the covariance: the total sample variance over all d columns.</summary>
    public double TotalVariance { get; }

    /// <summary>Fraction of the total variance along axis <paramref name="component"/> (0 when the data has none).</summary>
    public double ExplainedRatio(int component) => TotalVariance > 0 ? Variances[component] / TotalVariance : 0;

    /// <summary>(rows, Components) coordinates of <paramref name="data"/> (rows, d): (x - mean) · axis for each axis.</summary>
    public float[] Project(ReadOnlySpan<float> data, int rows)
    {
        int d = Dimensions, k = Components;
        if (rows < 0 || data.Length != (long)rows * d)
            throw new ArgumentException($"Expected {rows} rows of {d} values ({(long)rows * d} floats), got {data.Length}.", nameof(data));
        var result = new float[rows * k];
        for (int i = 0; i < rows; i++)
        {
            var row = data.Slice(i * d, d);
            for (int c = 0; c < k; c++)
            {
                double sum = 0;
                for (int j = 0; j < d; j++) sum += (row[j] - Mean[j]) * Axes[c * d + j];
                result[i * k + c] = (float)sum;
            }
        }
        return result;
    }
}

public static class Pca
{
    /// <summary>
    /// Fits <paramref name="components"/> principal axes to <paramref name="rows"/> rows of <paramref name="dimensions"/>
    /// values (row-major). Needs at least two rows, finite values and components in [1, dimensions].
    /// </summary>
    public static PcaResult Fit(ReadOnlySpan<float> data, int rows, int dimensions, int components = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        if (rows < 2) throw new ArgumentException($"PCA needs at least 2 rows of data (got {rows}).", nameof(rows));
        if (data.Length != (long)rows * dimensions)
            throw new ArgumentException($"Expected {rows} rows of {dimensions} values ({(long)rows * dimensions} floats), got {data.Length}.", nameof(data));
        if (components < 1 || components > dimensions)
            throw new ArgumentOutOfRangeException(nameof(components), components, $"PCA of {dimensions}-dimensional data keeps 1 to {dimensions} components.");
        int d = dimensions;

        var mean = new double[d];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < d; j++)
            {
                float v = data[i * d + j];
                if (!float.IsFinite(v)) throw new ArgumentException($"Row {i}, column {j} is {v}; PCA needs finite values.", nameof(data));
                mean[j] += v;
            }
        for (int j = 0; j < d; j++) mean[j] /= rows;

        // Upper triangle of the centred cross-products, then mirrored.
        var covariance = new double[d * d];
        var centred = new double[d];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < d; j++) centred[j] = data[i * d + j] - mean[j];
            for (int a = 0; a < d; a++)
            {
                double ca = centred[a];
                for (int b = a; b < d; b++) covariance[a * d + b] += ca * centred[b];
            }
        }
        for (int a = 0; a < d; a++)
            for (int b = a; b < d; b++)
            {
                double c = covariance[a * d + b] / (rows - 1);
                covariance[a * d + b] = c;
                covariance[b * d + a] = c;
            }
        double trace = 0;
        for (int a = 0; a < d; a++) trace += covariance[a * d + a];

        var (values, vectors) = SymmetricEigen(covariance, d);
        var axes = new double[components * d];
        var variances = new double[components];
        for (int c = 0; c < components; c++)
        {
            variances[c] = Math.Max(values[c], 0);   // rounding can leave a zero eigenvalue slightly negative
            for (int j = 0; j < d; j++) axes[c * d + j] = vectors[j * d + c];
        }
        return new PcaResult(d, mean, axes, variances, trace);
    }

    /// <summary>
    /// All eigenpairs of the symmetric n x n <paramref name="matrix"/> (row-major; only read) by cyclic Jacobi rotations.
    /// Returns the eigenvalues in descending order (ties keep index order) and the eigenvectors as the columns of an
    /// n x n row-major matrix, column c belonging to value c, each of unit length with its largest-magnitude entry positive.
    /// </summary>
    public static (double[] Values, double[] Vectors) SymmetricEigen(ReadOnlySpan<double> matrix, int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        if (matrix.Length != (long)n * n) throw new ArgumentException($"Expected an {n} x {n} matrix ({n * n} values), got {matrix.Length}.", nameof(matrix));
        var a = matrix.ToArray();
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                if (!double.IsFinite(a[i * n + j])) throw new ArgumentException($"Entry ({i}, {j}) is {a[i * n + j]}; the matrix must be finite.", nameof(matrix));
                if (a[i * n + j] != a[j * n + i]) throw new ArgumentException($"The matrix is not symmetric: ({i}, {j}) = {a[i * n + j]} but ({j}, {i}) = {a[j * n + i]}.", nameof(matrix));
            }
        var v = new double[n * n];
        for (int i = 0; i < n; i++) v[i * n + i] = 1;

        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0, diagonal = 0;
            for (int i = 0; i < n; i++)
            {
                diagonal += a[i * n + i] * a[i * n + i];
                for (int j = i + 1; j < n; j++) off += a[i * n + j] * a[i * n + j];
            }
            if (off <= 1e-30 * diagonal || off == 0) break;

            for (int p = 0; p < n - 1; p++)
                for (int q = p + 1; q < n; q++)
                {
                    double apq = a[p * n + q];
                    if (apq == 0) continue;
                    // The rotation by angle phi with tan(phi) = t zeroes (p, q): t is the smaller root of t^2 + 2 theta t - 1 = 0.
                    double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
                    double t = (theta >= 0 ? 1 : -1) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        if (k == p || k == q) continue;
                        double akp = a[k * n + p], akq = a[k * n + q];
                        double newKp = c * akp - s * akq, newKq = s * akp + c * akq;
                        a[k * n + p] = a[p * n + k] = newKp;
                        a[k * n + q] = a[q * n + k] = newKq;
                    }
                    a[p * n + p] -= t * apq;
                    a[q * n + q] += t * apq;
                    a[p * n + q] = a[q * n + p] = 0;
                    for (int k = 0; k < n; k++)
                    {
                        double vkp = v[k * n + p], vkq = v[k * n + q];
                        v[k * n + p] = c * vkp - s * vkq;
                        v[k * n + q] = s * vkp + c * vkq;
                    }
                }
        }

        var order = Enumerable.Range(0, n).OrderByDescending(i => a[i * n + i]).ThenBy(i => i).ToArray();
        var values = new double[n];
        var vectors = new double[n * n];
        for (int c = 0; c < n; c++)
        {
            int src = order[c];
            values[c] = a[src * n + src];
            int largest = 0;
            for (int k = 1; k < n; k++)
                if (Math.Abs(v[k * n + src]) > Math.Abs(v[largest * n + src])) largest = k;
            double sign = v[largest * n + src] < 0 ? -1 : 1;
            for (int k = 0; k < n; k++) vectors[k * n + c] = sign * v[k * n + src];
        }
        return (values, vectors);
    }
}
