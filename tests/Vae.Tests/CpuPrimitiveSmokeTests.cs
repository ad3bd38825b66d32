// Focused checks of CpuBackend's non-GEMM primitives against plain scalar formulas computed in double here, over the
// lengths that exercise every vector-width and remainder path (0, 1, 15, 16, 17, 63, 64, 65, 1000) and sizes that run
// on several threads; bitwise agreement of 1, 2 and 3 threads; RandomNormal against PhiloxNormal.Sample bit for bit;
// validation before writing; and no managed allocation per call after warm-up.
using Vae.Cpu;
using Vae.Random;
using Xunit;

namespace Vae.Tests;

[Collection(nameof(AllocationCollection))]   // runs alone: its allocation checks must not see other tests' garbage collections
public sealed class CpuPrimitiveSmokeTests : IDisposable
{
    static readonly int[] Lengths = [0, 1, 15, 16, 17, 63, 64, 65, 1000, 40_000, 100_003, 300_007];

    /// <summary>(rows, cols) for row-wise primitives; the last two run on several threads.</summary>
    static readonly (int Rows, int Cols)[] Shapes =
        [(0, 5), (3, 0), (1, 1), (3, 15), (2, 16), (4, 17), (2, 63), (3, 64), (2, 65), (5, 1000), (128, 784), (40, 1001)];

    readonly CpuBackend cpu = new(threads: 2);
    readonly List<CpuBackend> extraBackends = [];
    readonly List<DeviceBuffer> buffers = [];

    public void Dispose()
    {
        foreach (var buffer in buffers) buffer.Dispose();
        foreach (var backend in extraBackends) backend.Dispose();
        cpu.Dispose();
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /// <summary>A view holding data, starting one float into its buffer so that vector loads are unaligned.</summary>
    DeviceSpan<T> Upload<T>(CpuBackend backend, T[] data) where T : unmanaged
    {
        var buffer = backend.Allocate((data.Length + 1L) * System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        buffers.Add(buffer);
        var view = buffer.AsSpan<T>().Slice(1, data.Length);
        backend.Upload<T>(data, view);
        return view;
    }

    DeviceSpan<float> Upload(float[] data) => Upload(cpu, data);

    static T[] Download<T>(CpuBackend backend, DeviceSpan<T> view) where T : unmanaged
    {
        var result = new T[view.Length];
        backend.Download(view, result);
        return result;
    }

    float[] Download(DeviceSpan<float> view) => Download(cpu, view);

    static float[] RandomFloats(int length, int seed, float low = -1f, float high = 1f)
    {
        var random = new System.Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = low + (high - low) * (float)random.NextDouble();
        return values;
    }

    static void AssertClose(double want, float got, double absoluteTolerance, string what)
    {
        double error = Math.Abs(got - want);
        if (!(error <= absoluteTolerance + 1e-5 * Math.Abs(want)) && !(double.IsNaN(want) && float.IsNaN(got)) && !(double.IsInfinity(want) && want == got))
            Assert.Fail($"{what}: got {got:R}, want {want:R} (error {error:G3})");
    }

    static void AssertAllClose(double[] want, float[] got, string what, double absoluteTolerance = 1e-5)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++) AssertClose(want[i], got[i], absoluteTolerance, $"{what}[{i}]");
    }

    static void AssertBitwiseEqual(float[] want, float[] got, string what)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(want[i]) != BitConverter.SingleToInt32Bits(got[i]))
                Assert.Fail($"{what}[{i}]: {got[i]:R} differs from {want[i]:R}");
        }
    }

    static double[] Map(float[] x, Func<double, double> f) => Array.ConvertAll(x, v => f(v));

    static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    static double Log1P(double y) => y < 1e-4 ? y * (1 - y * (0.5 - y / 3)) : Math.Log(1 + y);

    static double Softplus(double x) => Math.Max(x, 0) + Log1P(Math.Exp(-Math.Abs(x)));

    // ------------------------------------------------------------------------------------------------ elementwise

    [Fact]
    public void CpuPrimitiveSmoke_copy_fill_scale_axpy_match_scalar_loops()
    {
        foreach (int n in Lengths)
        {
            float[] x = RandomFloats(n, 1), y = RandomFloats(n, 2);
            var xv = Upload(x);
            var yv = Upload(y);

            var copy = Upload(new float[n]);
            cpu.Copy(xv, copy);
            AssertBitwiseEqual(x, Download(copy), $"Copy n={n}");

            cpu.Fill(copy, 2.5f);
            Assert.All(Download(copy), v => Assert.Equal(2.5f, v));

            cpu.Scale(xv, -0.75f);
            AssertAllClose(Map(x, v => -0.75 * v), Download(xv), $"Scale n={n}");

            cpu.Axpy(0.3f, yv, xv);   // xv now holds -0.75 x
            AssertAllClose(Array.ConvertAll(Enumerable.Range(0, n).ToArray(), i => -0.75 * x[i] + 0.3 * y[i]), Download(xv), $"Axpy n={n}");

            cpu.Axpy(2f, yv, yv);   // x and y identical: y = 3 y
            AssertAllClose(Map(y, v => 3 * v), Download(yv), $"Axpy in place n={n}");
        }
    }

    [Fact]
    public void CpuPrimitiveSmoke_concat_and_split_move_rows()
    {
        foreach (var (rows, colsA, colsB) in new[] { (0, 3, 4), (1, 1, 1), (3, 15, 17), (5, 16, 0), (70, 300, 200) })
        {
            float[] a = RandomFloats(rows * colsA, 3), b = RandomFloats(rows * colsB, 4);
            var output = Upload(new float[rows * (colsA + colsB)]);
            cpu.Concat(Upload(a), Upload(b), output, rows, colsA, colsB);
            float[] wide = Download(output);
            var want = new float[wide.Length];
            for (int r = 0; r < rows; r++)
            {
                Array.Copy(a, r * colsA, want, r * (colsA + colsB), colsA);
                Array.Copy(b, r * colsB, want, r * (colsA + colsB) + colsA, colsB);
            }
            AssertBitwiseEqual(want, wide, $"Concat ({rows}, {colsA}, {colsB})");

            var aBack = Upload(new float[a.Length]);
            var bBack = Upload(new float[b.Length]);
            cpu.Split(output, aBack, bBack, rows, colsA, colsB);
            AssertBitwiseEqual(a, Download(aBack), "Split a");
            AssertBitwiseEqual(b, Download(bBack), "Split b");
        }
    }

    [Fact]
    public void CpuPrimitiveSmoke_sum_and_global_norm_accumulate_in_double()
    {
        foreach (int n in Lengths.Append(5_000_000))
        {
            float[] x = RandomFloats(n, 5, -2f, 3f);
            var result = Upload(new float[1]);
            cpu.Sum(Upload(x), result);
            double sum = 0, squares = 0, magnitude = 0;
            foreach (float v in x) { sum += v; squares += (double)v * v; magnitude += Math.Abs(v); }
            AssertClose(sum, Download(result)[0], 1e-5 + 1e-9 * magnitude, $"Sum n={n}");
            cpu.GlobalNorm(Upload(x), result);
            AssertClose(Math.Sqrt(squares), Download(result)[0], 1e-5, $"GlobalNorm n={n}");
        }
        // Squares are taken in double: no overflow for floats whose square exceeds float.MaxValue.
        var big = Upload(new float[] { 3e20f, 4e20f });
        var norm = Upload(new float[1]);
        cpu.GlobalNorm(big, norm);
        AssertClose(5e20, Download(norm)[0], 0, "GlobalNorm of large values");
    }

    // ------------------------------------------------------------------------------------------------ activations

    static double Forward(Activation f, double x, double slope) => f switch
    {
        Activation.Relu => Math.Max(x, 0),
        Activation.LeakyRelu => x > 0 ? x : slope * x,
        Activation.Tanh => Math.Tanh(x),
        Activation.Sigmoid => Sigmoid(x),
        _ => Softplus(x),
    };

    static double Derivative(Activation f, double x, double slope) => f switch
    {
        Activation.Relu => x > 0 ? 1 : 0,
        Activation.LeakyRelu => x > 0 ? 1 : slope,
        Activation.Tanh => 1 - Math.Tanh(x) * Math.Tanh(x),
        Activation.Sigmoid => Sigmoid(x) * (1 - Sigmoid(x)),
        _ => Sigmoid(x),
    };

    [Fact]
    public void CpuPrimitiveSmoke_activations_forward_and_backward_match_formulas()
    {
        const float slope = 0.05f;
        foreach (Activation f in Enum.GetValues<Activation>())
        {
            foreach (int n in Lengths)
            {
                float[] x = RandomFloats(n, 6, -12f, 12f);
                if (n > 2) { x[0] = 95f; x[1] = -95f; x[2] = 0f; }
                float[] dy = RandomFloats(n, 7);
                var xv = Upload(x);
                var yv = Upload(new float[n]);
                cpu.ActivationForward(f, xv, yv, slope);
                float[] y = Download(yv);
                AssertAllClose(Map(x, v => Forward(f, v, slope)), y, $"{f} forward n={n}");

                var dyv = Upload(dy);
                var dxv = Upload(new float[n]);
                cpu.ActivationBackward(f, xv, yv, dyv, dxv, slope);
                var want = new double[n];
                for (int i = 0; i < n; i++)
                {
                    // Tanh and Sigmoid backward read y; use the float y the forward produced, as the backend does.
                    double d = f switch
                    {
                        Activation.Tanh => 1 - (double)y[i] * y[i],
                        Activation.Sigmoid => (double)y[i] * (1 - (double)y[i]),
                        _ => Derivative(f, x[i], slope),
                    };
                    want[i] = dy[i] * d;
                }
                AssertAllClose(want, Download(dxv), $"{f} backward n={n}");

                // In place: y = f(x) into x, dx into dy.
                cpu.ActivationForward(f, xv, xv, slope);
                AssertBitwiseEqual(y, Download(xv), $"{f} in-place forward n={n}");
                cpu.ActivationBackward(f, Upload(x), yv, dyv, dyv, slope);
                AssertAllClose(want, Download(dyv), $"{f} in-place backward n={n}");
            }
        }
    }

    static double UlpDistance(float got, double want)
    {
        float rounded = (float)want;
        float ulp = MathF.BitIncrement(MathF.Abs(rounded)) - MathF.Abs(rounded);
        return Math.Abs(got - want) / ulp;
    }

    [Fact]
    public void CpuPrimitiveSmoke_vectorized_exp_is_within_two_ulps()
    {
        // ReparameterizeForward with mu = 0, eps = 1 and logVar = 2 x computes exactly exp(x) (the clamp is far away).
        const int count = 400_000;
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = -110f + 205f * i / count;
        float[] special = [0f, -0f, 1e-30f, -1e-30f, 88.72283f, 88.72284f, 89f, -87.33654f, -87.5f, -103.2789f, -103.9721f, -105f,
            float.PositiveInfinity, float.NegativeInfinity, float.NaN];
        special.CopyTo(x, 0);
        var z = Upload(new float[count]);
        cpu.ReparameterizeForward(Upload(new float[count]), Upload(Array.ConvertAll(x, v => 2 * v)), Upload(Enumerable.Repeat(1f, count).ToArray()), z, -1000f, 1000f);
        float[] got = Download(z);
        for (int i = 0; i < count; i++)
        {
            double want = Math.Exp(x[i]);
            if (float.IsNaN(x[i])) Assert.True(float.IsNaN(got[i]), "exp(NaN)");
            else if (want > float.MaxValue) Assert.Equal(float.PositiveInfinity, got[i]);
            else if (want < 1.1754944e-38) Assert.True(Math.Abs(got[i] - want) <= 1.4e-45, $"exp({x[i]:R}) = {got[i]:R}, want {want:R} (subnormal)");
            else Assert.True(UlpDistance(got[i], want) <= 2, $"exp({x[i]:R}) = {got[i]:R}, want {want:R}: {UlpDistance(got[i], want):F2} ulps");
        }
    }

    [Fact]
    public void CpuPrimitiveSmoke_softplus_keeps_relative_accuracy_in_the_tails()
    {
        // softplus(x) = log1p(exp(x)) for x <= 0 is tiny and must keep its relative accuracy (no cancellation).
        const int count = 100_000;
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = -85f + 115f * i / count;
        var y = Upload(new float[count]);
        cpu.ActivationForward(Activation.Softplus, Upload(x), y);
        float[] got = Download(y);
        for (int i = 0; i < count; i++)
        {
            double want = Softplus(x[i]);
            double ulps = UlpDistance(got[i], want);
            Assert.True(ulps <= 4, $"softplus({x[i]:R}) = {got[i]:R}, want {want:R}: {ulps:F2} ulps");
        }
    }

    // ------------------------------------------------------------------------------------------------ losses

    delegate double ElementLoss(int i);

    void AssertRowLoss(DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols, ElementLoss term, double factor, string what)
    {
        float[] got = Download(perSample);
        double totalWant = 0;
        for (int r = 0; r < rows; r++)
        {
            double sum = 0;
            for (int c = 0; c < cols; c++) sum += term(r * cols + c);
            sum *= factor;
            totalWant += sum;
            AssertClose(sum, got[r], 1e-5 * Math.Max(cols, 1), $"{what} perSample[{r}]");
        }
        AssertClose(totalWant, Download(total)[0], 1e-5 * Math.Max(rows * cols, 1), $"{what} total");
    }

    [Fact]
    public void CpuPrimitiveSmoke_bce_and_mse_match_formulas()
    {
        foreach (var (rows, cols) in Shapes)
        {
            int n = rows * cols;
            float[] logits = RandomFloats(n, 8, -20f, 20f), targets = RandomFloats(n, 9, 0f, 1f);
            var lv = Upload(logits);
            var tv = Upload(targets);
            var perSample = Upload(new float[rows]);
            var total = Upload(new float[1]);
            string shape = $"({rows}, {cols})";

            cpu.BceWithLogitsForward(lv, tv, perSample, total, rows, cols);
            AssertRowLoss(perSample, total, rows, cols, i => Math.Max(logits[i], 0) - (double)logits[i] * targets[i] + Log1P(Math.Exp(-Math.Abs(logits[i]))), 1, "BCE " + shape);
            var grad = Upload(new float[n]);
            cpu.BceWithLogitsBackward(lv, tv, grad, rows, cols, 0.25f);
            float[] bceGrad = Download(grad);
            AssertAllClose(Array.ConvertAll(Enumerable.Range(0, n).ToArray(), i => 0.25 * (Sigmoid(logits[i]) - targets[i])), bceGrad, "BCE backward " + shape);
            var inPlace = Upload(logits);
            cpu.BceWithLogitsBackward(inPlace, tv, inPlace, rows, cols, 0.25f);
            AssertBitwiseEqual(bceGrad, Download(inPlace), "BCE backward in place " + shape);

            cpu.MseForward(lv, tv, perSample, total, rows, cols);
            AssertRowLoss(perSample, total, rows, cols, i => ((double)logits[i] - targets[i]) * ((double)logits[i] - targets[i]), 1, "MSE " + shape);
            cpu.MseBackward(lv, tv, grad, rows, cols, 0.5f);
            AssertAllClose(Array.ConvertAll(Enumerable.Range(0, n).ToArray(), i => 0.5 * 2 * ((double)logits[i] - targets[i])), Download(grad), "MSE backward " + shape, 1e-4);
        }
    }

    [Fact]
    public void CpuPrimitiveSmoke_gaussian_nll_matches_formula()
    {
        foreach (var (rows, cols) in Shapes)
        {
            int n = rows * cols;
            float[] mean = RandomFloats(n, 10), logVar = RandomFloats(n, 11, -3f, 3f), targets = RandomFloats(n, 12);
            var mv = Upload(mean);
            var lv = Upload(logVar);
            var tv = Upload(targets);
            var perSample = Upload(new float[rows]);
            var total = Upload(new float[1]);
            cpu.GaussianNllForward(mv, lv, tv, perSample, total, rows, cols);
            AssertRowLoss(perSample, total, rows, cols, i =>
            {
                double d = (double)targets[i] - mean[i];
                return 0.5 * (Math.Log(2 * Math.PI) + logVar[i] + d * d * Math.Exp(-logVar[i]));
            }, 1, $"GaussianNll ({rows}, {cols})");

            var dMean = Upload(new float[n]);
            var dLogVar = Upload(new float[n]);
            cpu.GaussianNllBackward(mv, lv, tv, dMean, dLogVar, rows, cols, 0.5f);
            var wantMean = new double[n];
            var wantLogVar = new double[n];
            for (int i = 0; i < n; i++)
            {
                double d = (double)mean[i] - targets[i], precision = Math.Exp(-logVar[i]);
                wantMean[i] = 0.5 * d * precision;
                wantLogVar[i] = 0.5 * 0.5 * (1 - d * d * precision);
            }
            AssertAllClose(wantMean, Download(dMean), "GaussianNll dMean");
            AssertAllClose(wantLogVar, Download(dLogVar), "GaussianNll dLogVar");
        }
    }

    [Fact]
    public void CpuPrimitiveSmoke_kl_divergences_match_formulas_and_accumulate()
    {
        foreach (var (rows, cols) in Shapes)
        {
            int n = rows * cols;
            float[] muQ = RandomFloats(n, 13), lvQ = RandomFloats(n, 14, -2f, 2f), muP = RandomFloats(n, 15), lvP = RandomFloats(n, 16, -2f, 2f);
            float[] old0 = RandomFloats(n, 17), old1 = RandomFloats(n, 18), old2 = RandomFloats(n, 19), old3 = RandomFloats(n, 20);
            var perSample = Upload(new float[rows]);
            var total = Upload(new float[1]);
            string shape = $"({rows}, {cols})";

            cpu.KlStandardNormalForward(Upload(muQ), Upload(lvQ), perSample, total, rows, cols);
            AssertRowLoss(perSample, total, rows, cols, i => -0.5 * (1 + lvQ[i] - (double)muQ[i] * muQ[i] - Math.Exp(lvQ[i])), 1, "KL standard normal " + shape);
            var dMu = Upload(old0);
            var dLv = Upload(old1);
            cpu.KlStandardNormalBackward(Upload(muQ), Upload(lvQ), dMu, dLv, rows, cols, 0.5f);
            AssertAllClose(Array.ConvertAll(Enumerable.Range(0, n).ToArray(), i => old0[i] + 0.5 * muQ[i]), Download(dMu), "KL standard normal dMu " + shape);
            AssertAllClose(Array.ConvertAll(Enumerable.Range(0, n).ToArray(), i => old1[i] + 0.25 * (Math.Exp(lvQ[i]) - 1)), Download(dLv), "KL standard normal dLogVar " + shape);

            cpu.KlGaussianForward(Upload(muQ), Upload(lvQ), Upload(muP), Upload(lvP), perSample, total, rows, cols);
            AssertRowLoss(perSample, total, rows, cols, i =>
            {
                double d = (double)muQ[i] - muP[i];
                return 0.5 * (lvP[i] - lvQ[i] + (Math.Exp(lvQ[i]) + d * d) * Math.Exp(-lvP[i]) - 1);
            }, 1, "KL Gaussian " + shape);
            DeviceSpan<float> g0 = Upload(old0), g1 = Upload(old1), g2 = Upload(old2), g3 = Upload(old3);
            cpu.KlGaussianBackward(Upload(muQ), Upload(lvQ), Upload(muP), Upload(lvP), g0, g1, g2, g3, rows, cols, 0.5f);
            var want = new double[4][];
            for (int k = 0; k < 4; k++) want[k] = new double[n];
            for (int i = 0; i < n; i++)
            {
                double d = (double)muQ[i] - muP[i], precisionP = Math.Exp(-lvP[i]);
                want[0][i] = old0[i] + 0.5 * d * precisionP;
                want[1][i] = old1[i] + 0.5 * 0.5 * (Math.Exp((double)lvQ[i] - lvP[i]) - 1);
                want[2][i] = old2[i] - 0.5 * d * precisionP;
                want[3][i] = old3[i] + 0.5 * 0.5 * (1 - (Math.Exp(lvQ[i]) + d * d) * precisionP);
            }
            AssertAllClose(want[0], Download(g0), "KL Gaussian dMuQ " + shape);
            AssertAllClose(want[1], Download(g1), "KL Gaussian dLogVarQ " + shape);
            AssertAllClose(want[2], Download(g2), "KL Gaussian dMuP " + shape);
            AssertAllClose(want[3], Download(g3), "KL Gaussian dLogVarP " + shape);
        }
    }

    [Fact]
    public void CpuPrimitiveSmoke_cross_entropy_matches_formula_and_ignores_rows()
    {
        const int ignore = -100;
        foreach (var (rows, classes) in Shapes)
        {
            if (classes == 0) continue;
            int n = rows * classes;
            float[] logits = RandomFloats(n, 21, -5f, 5f);
            var random = new System.Random(22);
            int[] targets = Enumerable.Range(0, rows).Select(r => r % 3 == 1 ? ignore : random.Next(classes)).ToArray();
            var lv = Upload(logits);
            var tv = Upload(cpu, targets);
            var perSample = Upload(new float[rows]);
            var total = Upload(new float[1]);
            cpu.CrossEntropyForward(lv, tv, perSample, total, rows, classes, ignore);
            var grad = Upload(RandomFloats(n, 23));
            cpu.CrossEntropyBackward(lv, tv, grad, rows, classes, ignore, 0.5f);
            float[] got = Download(perSample), gotGrad = Download(grad);
            double totalWant = 0;
            for (int r = 0; r < rows; r++)
            {
                double max = double.NegativeInfinity, sum = 0;
                for (int c = 0; c < classes; c++) max = Math.Max(max, logits[r * classes + c]);
                for (int c = 0; c < classes; c++) sum += Math.Exp(logits[r * classes + c] - max);
                double want = targets[r] == ignore ? 0 : max + Math.Log(sum) - logits[r * classes + targets[r]];
                totalWant += want;
                AssertClose(want, got[r], 1e-5, $"CE ({rows}, {classes}) perSample[{r}]");
                for (int c = 0; c < classes; c++)
                {
                    double p = Math.Exp(logits[r * classes + c] - max) / sum;
                    double wantGrad = targets[r] == ignore ? 0 : 0.5 * (p - (c == targets[r] ? 1 : 0));
                    AssertClose(wantGrad, gotGrad[r * classes + c], 1e-5, $"CE backward ({rows}, {classes}) [{r}, {c}]");
                }
            }
            AssertClose(totalWant, Download(total)[0], 1e-5 * Math.Max(rows, 1), $"CE ({rows}, {classes}) total");

            // In place: dLogits is logits.
            cpu.CrossEntropyBackward(lv, tv, lv, rows, classes, ignore, 0.5f);
            AssertBitwiseEqual(gotGrad, Download(lv), $"CE backward in place ({rows}, {classes})");
        }
    }

    [Fact]
    public void CpuPrimitiveSmoke_cross_entropy_rejects_a_bad_target_before_writing()
    {
        var logits = Upload(RandomFloats(12, 24));
        var targets = Upload(cpu, new[] { 0, 3, 5 });   // 5 is outside [0, 4)
        var perSample = Upload(new float[] { 7f, 7f, 7f });
        var grad = Upload(new float[12]);
        Assert.Throws<ArgumentOutOfRangeException>(() => cpu.CrossEntropyForward(logits, targets, perSample, default, 3, 4, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => cpu.CrossEntropyBackward(logits, targets, grad, 3, 4, -1, 1f));
        Assert.All(Download(perSample), v => Assert.Equal(7f, v));
        Assert.All(Download(grad), v => Assert.Equal(0f, v));
    }

    // ------------------------------------------------------------------------------------------------ reparameterization

    [Fact]
    public void CpuPrimitiveSmoke_reparameterize_clamps_log_variance()
    {
        const float min = -4f, max = 3f;
        foreach (int n in Lengths)
        {
            float[] mu = RandomFloats(n, 25), logVar = RandomFloats(n, 26, -6f, 5f), eps = RandomFloats(n, 27, -3f, 3f), dz = RandomFloats(n, 28);
            var z = Upload(new float[n]);
            cpu.ReparameterizeForward(Upload(mu), Upload(logVar), Upload(eps), z, min, max);
            AssertAllClose(Array.ConvertAll(Enumerable.Range(0, n).ToArray(), i => mu[i] + Math.Exp(0.5 * Math.Clamp(logVar[i], min, max)) * eps[i]), Download(z), $"Reparameterize n={n}");

            var dMu = Upload(new float[n]);
            var dLogVar = Upload(new float[n]);
            cpu.ReparameterizeBackward(Upload(logVar), Upload(eps), Upload(dz), dMu, dLogVar, min, max);
            AssertBitwiseEqual(dz, Download(dMu), "Reparameterize dMu");
            AssertAllClose(Array.ConvertAll(Enumerable.Range(0, n).ToArray(), i =>
                logVar[i] >= min && logVar[i] <= max ? dz[i] * eps[i] * 0.5 * Math.Exp(0.5 * logVar[i]) : 0), Download(dLogVar), $"Reparameterize dLogVar n={n}");
        }
    }

    // ------------------------------------------------------------------------------------------------ random

    [Fact]
    public void CpuPrimitiveSmoke_random_normal_is_philox_normal_bit_for_bit()
    {
        const ulong seed = 0x1234_5678_9ABC_DEF0;
        foreach (ulong offset in new ulong[] { 0, 1, 2, 3, 5, 1_234_567, (1UL << 32) * 4 - 6, ulong.MaxValue - 70 })
        {
            foreach (int n in new[] { 0, 1, 3, 4, 5, 63, 64, 65, 67, 1000, 70_001 })
            {
                var output = Upload(new float[n]);
                cpu.RandomNormal(output, seed, offset);
                float[] got = Download(output);
                var want = new float[n];
                for (int i = 0; i < n; i++) want[i] = PhiloxNormal.Sample(seed, offset + (ulong)i);
                AssertBitwiseEqual(want, got, $"RandomNormal offset={offset} n={n}");
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ indexing

    [Fact]
    public void CpuPrimitiveSmoke_gather_and_scatter_add_rows()
    {
        foreach (var (tableRows, count, cols) in new[] { (1, 0, 3), (4, 6, 1), (5, 9, 17), (10, 30, 65), (50, 400, 300) })
        {
            float[] table = RandomFloats(tableRows * cols, 29);
            var random = new System.Random(30);
            int[] indices = Enumerable.Range(0, count).Select(_ => random.Next(tableRows)).ToArray();
            var output = Upload(new float[count * cols]);
            var iv = Upload(cpu, indices);
            cpu.GatherRows(Upload(table), iv, output, tableRows, count, cols);
            float[] gathered = Download(output);
            for (int i = 0; i < count; i++)
                for (int c = 0; c < cols; c++) Assert.Equal(table[indices[i] * cols + c], gathered[i * cols + c]);

            float[] dOutput = RandomFloats(count * cols, 31);
            var dTable = Upload(table);
            cpu.ScatterAddRows(Upload(dOutput), iv, dTable, tableRows, count, cols);
            double[] want = Array.ConvertAll(table, v => (double)v);
            for (int i = 0; i < count; i++)
                for (int c = 0; c < cols; c++) want[indices[i] * cols + c] += dOutput[i * cols + c];
            AssertAllClose(want, Download(dTable), $"ScatterAddRows ({tableRows}, {count}, {cols})", 1e-4);
        }
    }

    [Fact]
    public void CpuPrimitiveSmoke_bad_index_throws_and_writes_nothing()
    {
        var table = Upload(RandomFloats(12, 32));
        var indices = Upload(cpu, new[] { 1, 0, 3 });   // 3 is outside [0, 3)
        var rows = Upload(new float[] { 9f, 9f, 9f, 9f, 9f, 9f, 9f, 9f, 9f, 9f, 9f, 9f });
        Assert.Throws<ArgumentOutOfRangeException>(() => cpu.GatherRows(table, indices, rows, 3, 3, 4));
        Assert.All(Download(rows), v => Assert.Equal(9f, v));
        float[] before = Download(table);
        Assert.Throws<ArgumentOutOfRangeException>(() => cpu.ScatterAddRows(rows, indices, table, 3, 3, 4));
        AssertBitwiseEqual(before, Download(table), "ScatterAddRows after a bad index");
    }

    [Fact]
    public void CpuPrimitiveSmoke_nearest_code_takes_lowest_index_on_ties()
    {
        foreach (var (rows, codes, cols) in new[] { (1, 1, 1), (7, 5, 3), (9, 12, 17), (33, 64, 16), (200, 40, 20) })
        {
            float[] x = RandomFloats(rows * cols, 33);
            float[] codebook = RandomFloats(codes * cols, 34);
            if (codes > 2) Array.Copy(codebook, 0, codebook, 2 * cols, cols);   // code 2 duplicates code 0
            if (rows > 1) Array.Copy(codebook, 0, x, cols, cols);                // row 1 sits on codes 0 and 2
            var indices = Upload(cpu, new int[rows]);
            var distances = Upload(new float[rows]);
            cpu.NearestCode(Upload(x), Upload(codebook), indices, distances, rows, codes, cols);
            int[] gotIndices = Download(cpu, indices);
            float[] gotDistances = Download(distances);
            for (int r = 0; r < rows; r++)
            {
                int best = -1;
                double bestDistance = double.PositiveInfinity;
                for (int k = 0; k < codes; k++)
                {
                    double d = 0;
                    for (int c = 0; c < cols; c++) d += ((double)x[r * cols + c] - codebook[k * cols + c]) * ((double)x[r * cols + c] - codebook[k * cols + c]);
                    if (d < bestDistance) { best = k; bestDistance = d; }
                }
                Assert.Equal(best, gotIndices[r]);
                AssertClose(bestDistance, gotDistances[r], 1e-5, $"NearestCode distance[{r}]");
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ bias

    [Fact]
    public void CpuPrimitiveSmoke_bias_add_and_gradient()
    {
        foreach (var (rows, cols) in Shapes.Append((3, 200)).Append((1000, 70)))
        {
            float[] x = RandomFloats(rows * cols, 35), bias = RandomFloats(cols, 36);
            var xv = Upload(x);
            cpu.BiasAdd(xv, Upload(bias), rows, cols);
            AssertAllClose(Array.ConvertAll(Enumerable.Range(0, rows * cols).ToArray(), i => (double)x[i] + bias[i % cols]), Download(xv), $"BiasAdd ({rows}, {cols})");

            var dBias = Upload(bias);
            cpu.BiasGradient(Upload(x), dBias, rows, cols);
            var want = Array.ConvertAll(bias, v => (double)v);
            for (int i = 0; i < rows * cols; i++) want[i % cols] += x[i];
            AssertAllClose(want, Download(dBias), $"BiasGradient ({rows}, {cols})");
        }
    }

    // ------------------------------------------------------------------------------------------------ optimizer

    [Fact]
    public void CpuPrimitiveSmoke_adam_matches_pytorch_formula()
    {
        foreach (bool decoupled in new[] { false, true })
        {
            var settings = new AdamSettings(LearningRate: 1e-2f, WeightDecay: 0.1f, Decoupled: decoupled);
            foreach (int n in Lengths)
            {
                float[] p = RandomFloats(n, 37), g = RandomFloats(n, 38);
                var pv = Upload(p);
                var gv = Upload(g);
                var mv = Upload(new float[n]);
                var vv = Upload(new float[n]);
                double[] wp = Array.ConvertAll(p, v => (double)v), wm = new double[n], wv = new double[n];
                for (int step = 1; step <= 3; step++)
                {
                    cpu.AdamStep(pv, gv, mv, vv, settings, step);
                    double b1 = settings.Beta1, b2 = settings.Beta2, lr = settings.LearningRate, wd = settings.WeightDecay;
                    double bc1 = 1 - Math.Pow(b1, step), bc2 = 1 - Math.Pow(b2, step);
                    for (int i = 0; i < n; i++)
                    {
                        double grad = g[i] + (decoupled ? 0 : wd * wp[i]);
                        wm[i] = b1 * wm[i] + (1 - b1) * grad;
                        wv[i] = b2 * wv[i] + (1 - b2) * grad * grad;
                        if (decoupled) wp[i] -= lr * wd * wp[i];
                        wp[i] -= lr / bc1 * wm[i] / (Math.Sqrt(wv[i]) / Math.Sqrt(bc2) + settings.Epsilon);
                    }
                }
                AssertAllClose(wp, Download(pv), $"Adam decoupled={decoupled} n={n} parameters");
                AssertAllClose(wm, Download(mv), $"Adam decoupled={decoupled} n={n} m");
                AssertAllClose(wv, Download(vv), $"Adam decoupled={decoupled} n={n} v");
            }
        }
    }

    [Fact]
    public void CpuPrimitiveSmoke_clip_by_norm_and_all_finite()
    {
        foreach (int n in Lengths)
        {
            float[] x = RandomFloats(n, 39);
            var xv = Upload(x);
            var norm = Upload(new float[1]);
            cpu.GlobalNorm(xv, norm);
            float normValue = Download(norm)[0];
            cpu.ClipByNorm(xv, norm, 0.5f);
            double factor = Math.Min(1, 0.5 / (normValue + 1e-6));
            AssertAllClose(Map(x, v => v * factor), Download(xv), $"ClipByNorm n={n}");

            var flag = Upload(cpu, new[] { 7 });
            cpu.AllFinite(xv, flag);
            Assert.Equal(1, Download(cpu, flag)[0]);
            foreach (int position in new[] { 0, n / 2, n - 1 })
            {
                if (n == 0) break;
                foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
                {
                    float[] y = (float[])x.Clone();
                    y[position] = bad;
                    cpu.AllFinite(Upload(y), flag);
                    Assert.Equal(0, Download(cpu, flag)[0]);
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ threads and allocation

    [Fact]
    public void CpuPrimitiveSmoke_results_are_bitwise_identical_for_1_2_and_3_threads()
    {
        float[][] runs = new float[3][];
        for (int t = 0; t < 3; t++)
        {
            var backend = new CpuBackend(threads: t + 1);
            extraBackends.Add(backend);
            runs[t] = RunEverything(backend);
        }
        AssertBitwiseEqual(runs[0], runs[1], "1 vs 2 threads");
        AssertBitwiseEqual(runs[0], runs[2], "1 vs 3 threads");
    }

    /// <summary>Runs most primitives at multi-threaded sizes and concatenates every output.</summary>
    float[] RunEverything(CpuBackend b)
    {
        const int rows = 128, cols = 784, n = rows * cols;
        var outputs = new List<float>();
        void Keep(DeviceSpan<float> view) => outputs.AddRange(Download(b, view));

        float[] x = RandomFloats(n, 40, -6f, 6f), t = RandomFloats(n, 41, 0f, 1f), w = RandomFloats(n, 42, -2f, 2f);
        var xv = Upload(b, x);
        var tv = Upload(b, t);
        var wv = Upload(b, w);
        var perSample = Upload(b, new float[rows]);
        var total = Upload(b, new float[1]);
        var scalar = Upload(b, new float[1]);
        var out1 = Upload(b, new float[n]);
        var out2 = Upload(b, new float[n]);

        b.Sum(xv, scalar); Keep(scalar);
        b.GlobalNorm(xv, scalar); Keep(scalar);
        foreach (Activation f in Enum.GetValues<Activation>())
        {
            b.ActivationForward(f, xv, out1); Keep(out1);
            b.ActivationBackward(f, xv, out1, tv, out2); Keep(out2);
        }
        b.BceWithLogitsForward(xv, tv, perSample, total, rows, cols); Keep(perSample); Keep(total);
        b.BceWithLogitsBackward(xv, tv, out1, rows, cols, 1f / rows); Keep(out1);
        b.MseForward(xv, tv, perSample, total, rows, cols); Keep(perSample); Keep(total);
        b.GaussianNllForward(xv, wv, tv, perSample, total, rows, cols); Keep(perSample); Keep(total);
        b.KlStandardNormalForward(xv, wv, perSample, total, rows, cols); Keep(perSample); Keep(total);
        b.KlGaussianForward(xv, wv, tv, wv, perSample, total, rows, cols); Keep(perSample); Keep(total);
        b.KlGaussianBackward(xv, wv, tv, tv, out1, out2, Upload(b, new float[n]), Upload(b, new float[n]), rows, cols, 0.5f); Keep(out1); Keep(out2);
        var targets = Upload(b, Enumerable.Range(0, rows).Select(r => r * 7 % cols).ToArray());
        b.CrossEntropyForward(xv, targets, perSample, total, rows, cols, -1); Keep(perSample); Keep(total);
        b.CrossEntropyBackward(xv, targets, out1, rows, cols, -1, 0.5f); Keep(out1);
        b.ReparameterizeForward(xv, wv, tv, out1, -3f, 3f); Keep(out1);
        b.ReparameterizeBackward(wv, tv, xv, out1, out2, -3f, 3f); Keep(out1); Keep(out2);
        var bias = Upload(b, new float[cols]);
        b.BiasGradient(xv, bias, rows, cols); Keep(bias);
        b.RandomNormal(out1, 99, 3); Keep(out1);
        var dTable = Upload(b, new float[10 * cols]);
        b.ScatterAddRows(xv, Upload(b, Enumerable.Range(0, rows).Select(r => r % 10).ToArray()), dTable, 10, rows, cols); Keep(dTable);
        var m = Upload(b, new float[n]);
        var v = Upload(b, new float[n]);
        b.AdamStep(out2, xv, m, v, new AdamSettings(WeightDecay: 0.01f), 1); Keep(out2); Keep(m); Keep(v);

        // Sizes where even the cheapest primitives go parallel.
        const int large = 1_000_003, wideRows = 1000, wideCols = 333;
        float[] y = RandomFloats(large, 47, -3f, 3f);
        var yv = Upload(b, y);
        var big = Upload(b, new float[large]);
        b.Sum(yv, scalar); Keep(scalar);
        b.GlobalNorm(yv, scalar); Keep(scalar);
        b.ActivationForward(Activation.Relu, yv, big); Keep(big);
        b.Axpy(0.25f, yv, big); Keep(big);
        b.ClipByNorm(big, scalar, 0.5f); Keep(big);
        var wideBias = Upload(b, new float[wideCols]);
        b.BiasGradient(yv, wideBias, wideRows, wideCols); Keep(wideBias);
        var wideTable = Upload(b, new float[7 * wideCols]);
        b.ScatterAddRows(yv.Slice(0, wideRows * wideCols), Upload(b, Enumerable.Range(0, wideRows).Select(r => r * 3 % 7).ToArray()), wideTable, 7, wideRows, wideCols);
        Keep(wideTable);
        return outputs.ToArray();
    }

    /// <summary>
    /// Calls step 50 times to warm up (JIT tiers, pool threads), then asserts that 10 more calls allocate nothing on the
    /// calling thread, in at least one of three measurements: a garbage collection started by another thread during a
    /// measurement can shift this thread's counter by a few hundred bytes without any allocation (seen here), while an
    /// allocation in the primitives shows in every measurement.
    /// </summary>
    static void AssertNoAllocationAfterWarmUp(Action step)
    {
        for (int i = 0; i < 50; i++) step();
        long fewest = long.MaxValue;
        for (int attempt = 0; attempt < 3 && fewest != 0; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++) step();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(0, fewest);
    }

    [Fact]
    public void CpuPrimitiveSmoke_calls_allocate_nothing_after_warm_up()
    {
        const int rows = 128, cols = 784, n = rows * cols;
        var xv = Upload(RandomFloats(n, 43, -5f, 5f));
        var tv = Upload(RandomFloats(n, 44, 0f, 1f));
        var out1 = Upload(new float[n]);
        var out2 = Upload(new float[n]);
        var m = Upload(new float[n]);
        var v = Upload(new float[n]);
        var scalar = Upload(new float[1]);
        var flag = Upload(cpu, new int[1]);
        AssertNoAllocationAfterWarmUp(() =>
        {
            cpu.ActivationForward(Activation.Relu, xv, out1);
            cpu.ActivationForward(Activation.Softplus, xv, out1);
            cpu.ActivationBackward(Activation.Softplus, xv, out1, tv, out2);
            cpu.ReparameterizeForward(xv, tv, out2, out1, -30f, 20f);
            cpu.ReparameterizeBackward(xv, tv, out2, out1, m, -30f, 20f);
            cpu.RandomNormal(out2, 5, 1);
            cpu.Sum(xv, scalar);
            cpu.GlobalNorm(out1, scalar);
            cpu.ClipByNorm(out1, scalar, 1f);
            cpu.AllFinite(out1, flag);
            cpu.AdamStep(out1, out2, m, v, new AdamSettings(), 1);
            cpu.Copy(out1, out2);
            cpu.Scale(out2, 0.5f);
            cpu.Axpy(0.5f, out1, out2);
            cpu.Fill(out2, 0f);
        });
    }

    /// <summary>
    /// The primitives with (rows, cols) shapes: their BackendChecks build error strings only when they throw.
    /// </summary>
    [Fact]
    public void CpuPrimitiveSmoke_matrix_validated_calls_allocate_nothing_after_warm_up()
    {
        const int rows = 128, cols = 784, n = rows * cols;
        var xv = Upload(RandomFloats(n, 45, -5f, 5f));
        var tv = Upload(RandomFloats(n, 46, 0f, 1f));
        var out1 = Upload(new float[n]);
        var out2 = Upload(new float[n]);
        var perSample = Upload(new float[rows]);
        var total = Upload(new float[1]);
        var targets = Upload(cpu, Enumerable.Range(0, rows).Select(r => r % cols).ToArray());
        var bias = Upload(new float[cols]);
        var wide = Upload(new float[2 * n]);
        var codes = Upload(cpu, new int[rows]);
        AssertNoAllocationAfterWarmUp(() =>
        {
            cpu.BceWithLogitsForward(xv, tv, perSample, total, rows, cols);
            cpu.BceWithLogitsBackward(xv, tv, out1, rows, cols, 0.5f);
            cpu.MseForward(xv, tv, perSample, total, rows, cols);
            cpu.GaussianNllBackward(xv, tv, out2, out1, wide.Slice(0, n), rows, cols, 0.5f);
            cpu.CrossEntropyForward(xv, targets, perSample, total, rows, cols, -1);
            cpu.CrossEntropyBackward(xv, targets, out1, rows, cols, -1, 0.5f);
            cpu.KlStandardNormalForward(xv, tv, perSample, total, rows, cols);
            cpu.KlStandardNormalBackward(xv, tv, out1, out2, rows, cols, 0.5f);
            cpu.BiasAdd(out1, bias, rows, cols);
            cpu.BiasGradient(out1, bias, rows, cols);
            cpu.Concat(xv, tv, wide, rows, cols, cols);
            cpu.Split(wide, out1, out2, rows, cols, cols);
            cpu.GatherRows(xv, targets, out1.Slice(0, rows * cols), rows, rows, cols);
            cpu.ScatterAddRows(out1, targets, out2, rows, rows, cols);
            cpu.NearestCode(xv.Slice(0, 16 * cols), tv.Slice(0, 8 * cols), codes, perSample.Slice(0, 16), 16, 8, cols);
        });
    }

    // ------------------------------------------------------------------------------------------------ validation

    [Fact]
    public void CpuPrimitiveSmoke_shape_errors_throw_before_writing()
    {
        var x = Upload(new float[] { 1f, 2f, 3f });
        var y = Upload(new float[] { 5f, 5f });
        Assert.Throws<ArgumentException>(() => cpu.Copy(x, y));
        Assert.Throws<ArgumentException>(() => cpu.ActivationForward(Activation.Tanh, x, y));
        Assert.Throws<ArgumentException>(() => cpu.BceWithLogitsBackward(x, x, y, 1, 3, 1f));
        Assert.Throws<ArgumentException>(() => cpu.ReparameterizeForward(x, x, x, y, -1f, 1f));
        Assert.Throws<ArgumentException>(() => cpu.ReparameterizeForward(x, x, x, x, 1f, -1f));
        Assert.All(Download(y), v => Assert.Equal(5f, v));
        // Partial overlap of an output with an input is rejected; identical views are allowed.
        var wide = Upload(new float[8]);
        Assert.Throws<ArgumentException>(() => cpu.ActivationForward(Activation.Relu, wide.Slice(0, 4), wide.Slice(2, 4)));
        cpu.ActivationForward(Activation.Relu, wide.Slice(0, 4), wide.Slice(0, 4));
    }
}
