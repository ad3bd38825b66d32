// Exact t-SNE (van der Maaten & Hinton, 2008) of up to a few thousand points to 2-D, for latent maps.
//
// 1. Affinities. For every point i, squared Euclidean distances d_ij to all others (in double). The conditional
//    p_j|i = exp(-beta_i d_ij) / sum_k exp(-beta_i d_ik) gets its precision beta_i by binary search so that the
//    entropy H(P_i) (nats) equals log(Perplexity), within 1e-5, at most 200 steps (doubling/halving beta until the
//    target is bracketed, then bisecting). The joint affinities are P_ij = (p_j|i + p_i|j) / (2n), so sum P = 1.
// 2. Embedding. Y (n x 2) starts as InitialScale * N(0, 1) draws from the Philox stream of Seed. The cost is
//    KL(P || Q) with Q_ij = q_ij / Z, q_ij = 1 / (1 + |y_i - y_j|^2), Z = sum over i != j of q_ij; its gradient is
//    dC/dy_i = 4 sum_j (P_ij - Q_ij) q_ij (y_i - y_j). For the first ExaggerationIterations steps P is multiplied
//    by EarlyExaggeration, which pulls clusters together early. Each step is gradient descent with momentum and
//    per-coordinate gains (Jacobs 1988): a gain grows by 0.2 while the gradient's sign differs from the previous
//    update's (the descent direction is stable) and shrinks by the factor 0.8 when it agrees, never below MinGain;
//    update = momentum * update - LearningRate * gain * gradient; y += update; then Y is re-centred at the origin.
//    Momentum is InitialMomentum before MomentumSwitchIteration, FinalMomentum after.
//
// Cost: O(n^2) time per iteration and 8 n^2 bytes for P (2000 points: 4 million pairs, 32 MB). Rows are processed in
// parallel, but every row's sums run over j in a fixed order with a fixed 4-lane split and the per-row results are
// reduced in row order, so the result does not depend on the number of threads: the same data, options and seed give
// the same embedding bit for bit on a machine (no FMA contraction is written, so also across x64 machines; only
// Math.Exp and Math.Log, used in the calibration and the reported KL, come from the platform's math library).
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Vae.Random;

namespace Vae.Analysis;

/// <summary>The parameters of <see cref="Tsne.Embed"/>; the defaults are the usual ones of the t-SNE literature.</summary>
public sealed record TsneOptions
{
    /// <summary>Effective number of neighbours of each point (5..50 is typical); needs at least 3 * Perplexity + 1 points.</summary>
    public double Perplexity { get; init; } = 30;

    /// <summary>Total gradient steps.</summary>
    public int Iterations { get; init; } = 1000;

    /// <summary>Factor on P during the first <see cref="ExaggerationIterations"/> steps.</summary>
    public double EarlyExaggeration { get; init; } = 12;

    public int ExaggerationIterations { get; init; } = 250;

    /// <summary>Step size; null picks max(n / EarlyExaggeration, 200) (Belkina et al. 2019, as openTSNE does).</summary>
    public double? LearningRate { get; init; }

    public double InitialMomentum { get; init; } = 0.5;

    public double FinalMomentum { get; init; } = 0.8;

    public int MomentumSwitchIteration { get; init; } = 250;

    /// <summary>Lower bound of the per-coordinate gains.</summary>
    public double MinGain { get; init; } = 0.01;

    /// <summary>Standard deviation of the random initial coordinates.</summary>
    public double InitialScale { get; init; } = 1e-4;

    /// <summary>Philox stream of the initial coordinates.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Record KL(P || Q) every this many steps (and after the last); 0 records only the initial and final value.</summary>
    public int KlEvery { get; init; } = 50;

    /// <summary>Worker threads for the O(n^2) loops (the result does not depend on it); null uses every core.</summary>
    public int? Threads { get; init; }
}

/// <summary>The embedding and how the optimisation went.</summary>
/// <param name="Embedding">(n, 2) row-major coordinates, centred at the origin.</param>
/// <param name="KlHistory">(iteration, KL(P || Q) in nats) before that iteration's step: iteration 0 is the initial layout,
/// <c>Iterations</c> the final one. Always measured against the un-exaggerated P.</param>
/// <param name="LearningRate">The step size used (after resolving the automatic choice).</param>
/// <param name="Betas">The calibrated precisions beta_i = 1 / (2 sigma_i^2) of the conditional affinities.</param>
public sealed record TsneResult(float[] Embedding, IReadOnlyList<(int Iteration, double Kl)> KlHistory, double LearningRate, double[] Betas)
{
    public double FinalKl => KlHistory[^1].Kl;
}

public static class Tsne
{
    /// <summary>The most points <see cref="Embed"/> accepts (P alone takes 8 n^2 bytes: 200 MB at this size).</summary>
    public const int MaxPoints = 5000;

    const double EntropyTolerance = 1e-5;
    const int MaxSearchSteps = 200;

    /// <summary>
    /// Embeds <paramref name="rows"/> points of <paramref name="dimensions"/> values (row-major) in 2-D.
    /// <paramref name="progress"/>, when given, is called with (iteration, KL) at every recorded KL value.
    /// </summary>
    public static TsneResult Embed(ReadOnlySpan<float> data, int rows, int dimensions, TsneOptions options, Action<int, double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckOptions(options, rows);
        var p = JointProbabilities(data, rows, dimensions, options.Perplexity, options.Threads, out var betas);
        return Optimize(p, rows, options, betas, progress);
    }

    /// <summary>
    /// The symmetric joint affinities P (rows x rows, row-major, zero diagonal, summing to 1) of step 1 above, and the
    /// calibrated precisions of the conditionals.
    /// </summary>
    public static double[] JointProbabilities(ReadOnlySpan<float> data, int rows, int dimensions, double perplexity, int? threads, out double[] betas)
    {
        var p = ConditionalProbabilities(data, rows, dimensions, perplexity, threads, out betas);
        int n = rows;
        double scale = 1.0 / (2.0 * n);
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
            {
                double s = (p[(long)i * n + j] + p[(long)j * n + i]) * scale;
                p[(long)i * n + j] = s;
                p[(long)j * n + i] = s;
            }
        return p;
    }

    /// <summary>
    /// The conditional affinities p_j|i (row i holds point i's distribution over j, zero at j = i, summing to 1), each
    /// row calibrated to <paramref name="perplexity"/> as described at the top of this file.
    /// </summary>
    public static double[] ConditionalProbabilities(ReadOnlySpan<float> data, int rows, int dimensions, double perplexity, int? threads, out double[] betas)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        CheckPointCount(rows, perplexity);
        if (data.Length != (long)rows * dimensions)
            throw new ArgumentException($"Expected {rows} points of {dimensions} values ({(long)rows * dimensions} floats), got {data.Length}.", nameof(data));
        for (int i = 0; i < data.Length; i++)
            if (!float.IsFinite(data[i]))
                throw new ArgumentException($"Point {i / dimensions}, value {i % dimensions} is {data[i]}; t-SNE needs finite coordinates.", nameof(data));

        int n = rows, d = dimensions;
        var x = new double[data.Length];
        for (int i = 0; i < x.Length; i++) x[i] = data[i];
        var p = new double[(long)n * n];
        var beta = new double[n];
        double target = Math.Log(perplexity);
        ParallelRows(n, threads, i =>
        {
            var row = p.AsSpan((int)((long)i * n), n);
            var xi = x.AsSpan(i * d, d);
            for (int j = 0; j < n; j++)
            {
                if (j == i) { row[j] = 0; continue; }
                var xj = x.AsSpan(j * d, d);
                double sum = 0;
                for (int k = 0; k < d; k++) { double diff = xi[k] - xj[k]; sum += diff * diff; }
                row[j] = sum;
            }
            beta[i] = Calibrate(row, i, target);
        });
        betas = beta;
        return p;
    }

    /// <summary>
    /// Replaces the squared distances in <paramref name="row"/> (entry <paramref name="self"/> ignored) by the
    /// conditional distribution whose entropy is <paramref name="targetEntropy"/>; returns its precision beta.
    /// </summary>
    static double Calibrate(Span<double> row, int self, double targetEntropy)
    {
        int n = row.Length;
        double nearest = double.PositiveInfinity;
        for (int j = 0; j < n; j++) if (j != self && row[j] < nearest) nearest = row[j];
        // Distances relative to the nearest neighbour: the largest weight is exp(0) = 1, so the sum never underflows.
        for (int j = 0; j < n; j++) if (j != self) row[j] -= nearest;

        var distances = row.ToArray();
        double beta = 1, low = double.NegativeInfinity, high = double.PositiveInfinity;
        for (int step = 0; step < MaxSearchSteps; step++)
        {
            double entropy = Entropy(distances, self, beta, row);
            double gap = entropy - targetEntropy;
            if (Math.Abs(gap) < EntropyTolerance) break;
            if (gap > 0)
            {
                low = beta;   // too flat: sharpen
                beta = double.IsPositiveInfinity(high) ? beta * 2 : (beta + high) / 2;
            }
            else
            {
                high = beta;  // too peaked: flatten
                beta = double.IsNegativeInfinity(low) ? beta / 2 : (beta + low) / 2;
            }
        }
        Entropy(distances, self, beta, row);
        return beta;
    }

    /// <summary>Writes the normalised exp(-beta d_j) into <paramref name="probabilities"/> and returns their entropy in nats.</summary>
    static double Entropy(double[] distances, int self, double beta, Span<double> probabilities)
    {
        double sum = 0, weighted = 0;
        for (int j = 0; j < distances.Length; j++)
        {
            if (j == self) { probabilities[j] = 0; continue; }
            double w = Math.Exp(-beta * distances[j]);
            probabilities[j] = w;
            sum += w;
            weighted += distances[j] * w;
        }
        double inverse = 1 / sum;
        for (int j = 0; j < distances.Length; j++) probabilities[j] *= inverse;
        return Math.Log(sum) + beta * weighted * inverse;
    }

    /// <summary>Step 2: gradient descent on KL(P || Q) from the seeded initial layout, given the joint affinities.</summary>
    public static TsneResult Optimize(double[] p, int rows, TsneOptions options, double[]? betas = null, Action<int, double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(options);
        CheckOptions(options, rows);
        int n = rows;
        if (p.LongLength != (long)n * n) throw new ArgumentException($"P must be {n} x {n} ({(long)n * n} values), got {p.LongLength}.", nameof(p));

        double learningRate = options.LearningRate ?? Math.Max(n / options.EarlyExaggeration, 200);
        var y0 = new double[n];
        var y1 = new double[n];
        for (int i = 0; i < n; i++)
        {
            y0[i] = options.InitialScale * PhiloxNormal.Sample(options.Seed, 2 * (ulong)i);
            y1[i] = options.InitialScale * PhiloxNormal.Sample(options.Seed, 2 * (ulong)i + 1);
        }
        Center(y0);
        Center(y1);

        double entropyTerm = 0;   // sum P log P, the constant part of the KL
        foreach (double v in p) if (v > 0) entropyTerm += v * Math.Log(v);

        var history = new List<(int, double)>();
        void Record(int iteration)
        {
            double kl = KlDivergence(p, n, y0, y1, entropyTerm, options.Threads);
            history.Add((iteration, kl));
            progress?.Invoke(iteration, kl);
        }

        var attract0 = new double[n];
        var attract1 = new double[n];
        var repel0 = new double[n];
        var repel1 = new double[n];
        var rowQ = new double[n];
        var update0 = new double[n];
        var update1 = new double[n];
        var gain0 = new double[n];
        var gain1 = new double[n];
        Array.Fill(gain0, 1.0);
        Array.Fill(gain1, 1.0);

        Record(0);
        for (int iteration = 0; iteration < options.Iterations; iteration++)
        {
            if (iteration > 0 && options.KlEvery > 0 && iteration % options.KlEvery == 0) Record(iteration);
            double exaggeration = iteration < options.ExaggerationIterations ? options.EarlyExaggeration : 1;
            double momentum = iteration < options.MomentumSwitchIteration ? options.InitialMomentum : options.FinalMomentum;

            ParallelRows(n, options.Threads, i => GradientTerms(p, n, i, y0, y1, attract0, attract1, repel0, repel1, rowQ));
            double z = 0;
            for (int i = 0; i < n; i++) z += rowQ[i];
            double inverseZ = 1 / z;

            for (int i = 0; i < n; i++)
            {
                double g0 = 4 * (exaggeration * attract0[i] - inverseZ * repel0[i]);
                double g1 = 4 * (exaggeration * attract1[i] - inverseZ * repel1[i]);
                Step(ref y0[i], ref update0[i], ref gain0[i], g0, momentum, learningRate, options.MinGain);
                Step(ref y1[i], ref update1[i], ref gain1[i], g1, momentum, learningRate, options.MinGain);
            }
            Center(y0);
            Center(y1);
        }
        Record(options.Iterations);

        var embedding = new float[2 * n];
        for (int i = 0; i < n; i++)
        {
            embedding[2 * i] = (float)y0[i];
            embedding[2 * i + 1] = (float)y1[i];
        }
        return new TsneResult(embedding, history, learningRate, betas ?? []);
    }

    static void Step(ref double y, ref double update, ref double gain, double gradient, double momentum, double learningRate, double minGain)
    {
        gain = (gradient > 0) != (update > 0) ? gain + 0.2 : gain * 0.8;
        if (gain < minGain) gain = minGain;
        update = momentum * update - learningRate * gain * gradient;
        y += update;
    }

    /// <summary>
    /// For row i: attract = sum_j P_ij q_ij (y_i - y_j), repel = sum_j q_ij^2 (y_i - y_j), rowQ = sum_{j != i} q_ij,
    /// over j in four fixed lanes (j mod 4 within full blocks) and a scalar tail, then lanes summed in a fixed order.
    /// </summary>
    static void GradientTerms(double[] p, int n, int i, double[] y0, double[] y1,
        double[] attract0, double[] attract1, double[] repel0, double[] repel1, double[] rowQ)
    {
        var row = p.AsSpan((int)((long)i * n), n);
        double yi0 = y0[i], yi1 = y1[i];
        var vy0 = Vector256.Create(yi0);
        var vy1 = Vector256.Create(yi1);
        var one = Vector256.Create(1.0);
        Vector256<double> a0 = default, a1 = default, r0 = default, r1 = default, qs = default;
        // Unchecked loads: y0, y1 and row all hold n values and the loop stops 4 short of n.
        ref double ry0 = ref MemoryMarshal.GetArrayDataReference(y0);
        ref double ry1 = ref MemoryMarshal.GetArrayDataReference(y1);
        ref double rp = ref MemoryMarshal.GetReference(row);
        if (y0.Length < n || y1.Length < n) throw new ArgumentException("The coordinate arrays are shorter than the point count.");
        int j = 0;
        for (; j + 4 <= n; j += 4)
        {
            var dx = vy0 - Vector256.LoadUnsafe(ref ry0, (nuint)j);
            var dy = vy1 - Vector256.LoadUnsafe(ref ry1, (nuint)j);
            var q = one / (one + (dx * dx + dy * dy));
            var pq = Vector256.LoadUnsafe(ref rp, (nuint)j) * q;
            a0 += pq * dx;
            a1 += pq * dy;
            var qq = q * q;
            r0 += qq * dx;
            r1 += qq * dy;
            qs += q;
        }
        double ta0 = 0, ta1 = 0, tr0 = 0, tr1 = 0, tq = 0;
        for (; j < n; j++)
        {
            double dx = yi0 - y0[j], dy = yi1 - y1[j];
            double q = 1 / (1 + (dx * dx + dy * dy));
            double pq = row[j] * q;
            ta0 += pq * dx;
            ta1 += pq * dy;
            double qq = q * q;
            tr0 += qq * dx;
            tr1 += qq * dy;
            tq += q;
        }
        attract0[i] = Lanes(a0) + ta0;
        attract1[i] = Lanes(a1) + ta1;
        repel0[i] = Lanes(r0) + tr0;
        repel1[i] = Lanes(r1) + tr1;
        rowQ[i] = Lanes(qs) + tq - 1;   // j = i contributed q_ii = 1 / (1 + 0) = 1 exactly (and nothing to the other sums)
    }

    static double Lanes(Vector256<double> v) => (v.GetElement(0) + v.GetElement(1)) + (v.GetElement(2) + v.GetElement(3));

    /// <summary>KL(P || Q) in nats for the layout (y0, y1); <paramref name="entropyTerm"/> is sum P log P.</summary>
    static double KlDivergence(double[] p, int n, double[] y0, double[] y1, double entropyTerm, int? threads)
    {
        // KL = sum P log P - sum P log q + log Z (sum P = 1), with log q_ij = -log(1 + d_ij^2).
        var cross = new double[n];
        var rowQ = new double[n];
        ParallelRows(n, threads, i =>
        {
            var row = p.AsSpan((int)((long)i * n), n);
            double c = 0, q = 0;
            for (int j = 0; j < n; j++)
            {
                if (j == i) continue;
                double dx = y0[i] - y0[j], dy = y1[i] - y1[j];
                double t = 1 + (dx * dx + dy * dy);
                q += 1 / t;
                if (row[j] > 0) c += row[j] * Math.Log(t);
            }
            cross[i] = c;
            rowQ[i] = q;
        });
        double crossSum = 0, z = 0;
        for (int i = 0; i < n; i++) { crossSum += cross[i]; z += rowQ[i]; }
        return entropyTerm + crossSum + Math.Log(z);
    }

    /// <summary>KL(P || Q) in nats of an (n, 2) row-major <paramref name="embedding"/> for joint affinities <paramref name="p"/>.</summary>
    public static double KlDivergence(double[] p, ReadOnlySpan<double> embedding, int rows)
    {
        var (y0, y1) = SplitEmbedding(p, embedding, rows);
        double entropyTerm = 0;
        foreach (double v in p) if (v > 0) entropyTerm += v * Math.Log(v);
        return KlDivergence(p, rows, y0, y1, entropyTerm, null);
    }

    /// <summary>
    /// The gradient (n, 2) of KL(<paramref name="exaggeration"/> P || Q) with respect to the embedding, as the
    /// optimiser computes it: 4 sum_j (exaggeration P_ij - Q_ij) q_ij (y_i - y_j).
    /// </summary>
    public static double[] KlGradient(double[] p, ReadOnlySpan<double> embedding, int rows, double exaggeration = 1)
    {
        var (y0, y1) = SplitEmbedding(p, embedding, rows);
        var a0 = new double[rows];
        var a1 = new double[rows];
        var r0 = new double[rows];
        var r1 = new double[rows];
        var rowQ = new double[rows];
        for (int i = 0; i < rows; i++) GradientTerms(p, rows, i, y0, y1, a0, a1, r0, r1, rowQ);
        double z = 0;
        for (int i = 0; i < rows; i++) z += rowQ[i];
        var gradient = new double[2 * rows];
        for (int i = 0; i < rows; i++)
        {
            gradient[2 * i] = 4 * (exaggeration * a0[i] - r0[i] / z);
            gradient[2 * i + 1] = 4 * (exaggeration * a1[i] - r1[i] / z);
        }
        return gradient;
    }

    static (double[] Y0, double[] Y1) SplitEmbedding(double[] p, ReadOnlySpan<double> embedding, int rows)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 2);
        if (p.LongLength != (long)rows * rows || embedding.Length != 2 * rows)
            throw new ArgumentException($"Expected a {rows} x {rows} P and {rows} points of 2 coordinates; got {p.LongLength} and {embedding.Length} values.");
        var y0 = new double[rows];
        var y1 = new double[rows];
        for (int i = 0; i < rows; i++) { y0[i] = embedding[2 * i]; y1[i] = embedding[2 * i + 1]; }
        return (y0, y1);
    }

    static void Center(double[] y)
    {
        double sum = 0;
        foreach (double v in y) sum += v;
        double mean = sum / y.Length;
        for (int i = 0; i < y.Length; i++) y[i] -= mean;
    }

    static void ParallelRows(int n, int? threads, Action<int> body)
    {
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = threads ?? Environment.ProcessorCount };
        const int Block = 32;
        Parallel.For(0, (n + Block - 1) / Block, parallel, b =>
        {
            int end = Math.Min(n, (b + 1) * Block);
            for (int i = b * Block; i < end; i++) body(i);
        });
    }

    static void CheckPointCount(int rows, double perplexity)
    {
        if (!(perplexity >= 1) || !double.IsFinite(perplexity))
            throw new ArgumentOutOfRangeException(nameof(perplexity), perplexity, "The perplexity must be a finite number of at least 1 (5 to 50 is typical).");
        if (rows > MaxPoints)
            throw new ArgumentException($"Exact t-SNE takes at most {MaxPoints} points (its affinities need 8 n^2 bytes); got {rows}. Embed a subsample.", nameof(rows));
        int needed = (int)Math.Ceiling(3 * perplexity) + 1;
        if (rows < needed)
            throw new ArgumentException(
                $"t-SNE with perplexity {perplexity} needs at least {needed} points (3 x perplexity + 1); got {rows}. Use more points or a perplexity of at most {Math.Max(1, (rows - 1) / 3)}.",
                nameof(rows));
    }

    static void CheckOptions(TsneOptions o, int rows)
    {
        CheckPointCount(rows, o.Perplexity);
        if (o.Iterations < 1) throw new ArgumentOutOfRangeException(nameof(o), o.Iterations, "t-SNE needs at least 1 iteration.");
        if (!(o.EarlyExaggeration >= 1) || !double.IsFinite(o.EarlyExaggeration)) throw new ArgumentOutOfRangeException(nameof(o), o.EarlyExaggeration, "The early exaggeration must be at least 1.");
        if (o.ExaggerationIterations < 0 || o.MomentumSwitchIteration < 0 || o.KlEvery < 0) throw new ArgumentOutOfRangeException(nameof(o), "Iteration counts must not be negative.");
        if (o.LearningRate is double lr && (!(lr > 0) || !double.IsFinite(lr))) throw new ArgumentOutOfRangeException(nameof(o), lr, "The learning rate must be positive.");
        if (!(o.InitialMomentum >= 0 && o.InitialMomentum < 1) || !(o.FinalMomentum >= 0 && o.FinalMomentum < 1)) throw new ArgumentOutOfRangeException(nameof(o), "Momentum must be in [0, 1).");
        if (!(o.MinGain > 0) || !double.IsFinite(o.MinGain)) throw new ArgumentOutOfRangeException(nameof(o), o.MinGain, "The minimum gain must be positive.");
        if (!(o.InitialScale > 0) || !double.IsFinite(o.InitialScale)) throw new ArgumentOutOfRangeException(nameof(o), o.InitialScale, "The initial scale must be positive.");
        if (o.Threads is int t && t < 1) throw new ArgumentOutOfRangeException(nameof(o), t, "Threads must be at least 1.");
    }
}
