// Tests of the CPU backend's packed GEMM against a naive triple loop computed in double: all four transpose
// combinations, alpha/beta in {0, 1, 0.5, -1.25}, sizes covering 0, 1, every remainder of the tile (MR, NR) and of the
// k block (KC), macro-block boundaries and the VAE's layer shapes; beta = 0 with NaN in C; bit-identical results for
// 1 and 2 threads; and no managed allocation per call.
//
// Tolerance, per element: |got - want| <= 1e-5 + 1e-5 * (|alpha| * sum_p |op(A)[i, p] * op(B)[p, j]| + |beta * C0[i, j]|),
// i.e. 1e-5 + 1e-5 * sum_k |a_ik b_kj| scaled by alpha, plus the same relative slack on the beta * C term.
using Vae.Cpu;
using Vae.Cpu.Gemm;
using Xunit;

namespace Vae.Tests;

[Collection(nameof(AllocationCollection))]   // runs alone: its allocation check counts every thread
public sealed class GemmKernelTests
{
    static readonly float[] Scalars = [0f, 1f, 0.5f, -1.25f];

    // The VAE's linear layers with batch 128 (forward m, k, n); the backward forms are derived in VaeShapes().
    static readonly (int M, int K, int N)[] VaeForward = [(128, 784, 400), (128, 400, 400), (128, 400, 20), (128, 20, 400), (128, 400, 784)];

    // tile and k block of the kernel in use: 8 x 48 with AVX-512, 6 x 16 otherwise; KC = 256
    static readonly int MR = PackedGemm.MR, NR = PackedGemm.NR;
    const int KC = PackedGemm.KC;

    [Fact]
    public void Matches_reference_for_all_transposes_and_scalars_on_small_and_edge_sizes()
    {
        using var backend = new CpuBackend(1);
        int[] ms = [0, 1, 2, 5, 7, 8, MR, MR + 1, 2 * MR - 1, 2 * MR + 3];
        int[] ns = [0, 1, 3, 15, 16, 17, 20, 31, 33, 48, NR - 1, NR, NR + 1, NR + 16, 2 * NR + 20];
        int[] ks = [0, 1, 2, 7, 8, 9, 20];
        var rng = new System.Random(1);
        foreach (int m in ms)
            foreach (int n in ns)
                foreach (int k in ks)
                    foreach (bool transA in new[] { false, true })
                        foreach (bool transB in new[] { false, true })
                        {
                            float alpha = Scalars[rng.Next(Scalars.Length)], beta = Scalars[rng.Next(Scalars.Length)];
                            Check(backend, transA, transB, m, n, k, alpha, beta, seed: rng.Next());
                        }
    }

    [Fact]
    public void Matches_reference_for_every_alpha_beta_pair()
    {
        using var backend = new CpuBackend(2);
        (int M, int N, int K)[] sizes = [(1, 1, 1), (9, 50, 13), (17, 20, 300), (24, 97, 64)];
        int seed = 0;
        foreach (var (m, n, k) in sizes)
            foreach (bool transA in new[] { false, true })
                foreach (bool transB in new[] { false, true })
                    foreach (float alpha in Scalars)
                        foreach (float beta in Scalars)
                            Check(backend, transA, transB, m, n, k, alpha, beta, seed: ++seed);
    }

    [Fact]
    public void Matches_reference_for_every_remainder_of_the_tile()
    {
        using var backend = new CpuBackend(2);
        int seed = 100;
        for (int m = 1; m <= 2 * MR + 1; m++)
            foreach (bool transA in new[] { false, true })
                Check(backend, transA, !transA, m, 2 * NR + 5, 33, 1f, 0.5f, seed: ++seed);
        for (int n = 1; n <= 2 * NR + 1; n++)
            foreach (bool transB in new[] { false, true })
                Check(backend, !transB, transB, MR + 3, n, 37, -1.25f, 1f, seed: ++seed);
    }

    [Fact]
    public void Matches_reference_for_every_remainder_of_the_k_block()
    {
        using var backend = new CpuBackend(2);
        int seed = 1000;
        for (int k = 1; k <= 2 * KC + 2; k++)
        {
            bool transA = (k & 1) != 0, transB = (k & 2) != 0;
            Check(backend, transA, transB, MR + 1, 19, k, 0.5f, k % 3 == 0 ? 0f : -1.25f, seed: ++seed);
        }
    }

    [Fact]
    public void Matches_reference_in_the_transposed_orientation()
    {
        // Thin n against a long m runs as C^T = op(B)^T op(A)^T with transposed write-back; cover every row remainder
        // of C^T's tiles (n mod MR of the kernel in use) and several column remainders (m), for all transposes.
        using var backend = new CpuBackend(2);
        int seed = 3000, covered = 0;
        var rowRemainders = new HashSet<int>();
        foreach (int m in new[] { 100, 145, 200, 233 })
            for (int n = 1; n <= 9; n++)
                foreach (int k in new[] { 70, 257 })
                {
                    if (!PackedGemm.PreferTransposed(m, n, k)) continue;
                    covered++;
                    rowRemainders.Add(n % MR);
                    foreach (bool transA in new[] { false, true })
                        foreach (bool transB in new[] { false, true })
                            Check(backend, transA, transB, m, n, k, Scalars[(m + n) % 4], Scalars[(n + k) % 4], seed: ++seed);
                }
        Assert.True(covered >= 20 && rowRemainders.Count == MR, $"only {covered} transposed shapes, row remainders {string.Join(",", rowRemainders)}");
    }

    [Fact]
    public void Matches_reference_when_a_transposed_a_is_read_in_place()
    {
        // transA with n within one B panel reads whole A panels where they lie and folds alpha into the B panel (unless
        // B itself is read in place); cover partial A panels (packed), one and two k blocks, B read in place or packed,
        // row strides that are and are not multiples of 256 bytes, and alpha = 1 or not.
        using var backend = new CpuBackend(2);
        int seed = 4000;
        foreach (int m in new[] { MR, 2 * MR + 1, 64, 200, 403 })
            foreach (int n in new[] { 1, 16, 19, 20, 21, 33, NR })
                foreach (int k in new[] { 1, 9, 128, KC + 44 })
                    foreach (bool transB in new[] { false, true })
                        foreach (float alpha in new[] { 1f, -1.25f })
                            Check(backend, true, transB, m, n, k, alpha, Scalars[(m + n + k) % 4], seed: ++seed);
    }

    [Fact]
    public void Matches_reference_on_the_dot_product_path()
    {
        // an untransposed A against n = 17 .. 24 runs as dot products along k (GemmDotKernel, 4 x 4 tiles): cover every
        // row and column remainder of the tile and of a work item (16 rows), k remainders of the vector (16) and of the
        // 8 x 8 transposition of B, both transB, NaN in C with beta = 0
        using var backend = new CpuBackend(2);
        int seed = 7000, covered = 0;
        foreach (int m in new[] { 1, 3, 4, 5, 16, 17, 35 })
            for (int n = 16; n <= 25; n++)
                foreach (int k in new[] { 63, 64, 71, 128, 401 })
                    foreach (bool transB in new[] { false, true })
                    {
                        if (PackedGemm.UsesDotKernel(false, n, k)) covered++;
                        float alpha = Scalars[1 + (m + n + k) % 3], beta = Scalars[(m + 2 * n + k) % 4];
                        Check(backend, false, transB, m, n, k, alpha, beta, seed: ++seed, nanC: beta == 0f);
                    }
        Assert.True(!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated || covered > 0, "the dot-product path was not taken");
    }

    [Fact]
    public void Matches_reference_across_macro_block_boundaries()
    {
        using var backend = new CpuBackend(2);
        (int M, int N, int K)[] sizes = [(1541, 21, 30), (11, 1541, 30), (9, 50, 1030), (1600, 1601, 3)];
        int seed = 5000;
        foreach (var (m, n, k) in sizes)
            foreach (bool transA in new[] { false, true })
                foreach (bool transB in new[] { false, true })
                    Check(backend, transA, transB, m, n, k, 0.5f, 1f, seed: ++seed);
    }

    [Fact]
    public void Matches_reference_at_the_vae_shapes()
    {
        using var backend = new CpuBackend(2);
        int seed = 9000;
        foreach (var (transA, transB, m, n, k) in VaeShapes())
        {
            Check(backend, transA, transB, m, n, k, 1f, 0f, seed: ++seed);
            Check(backend, transA, transB, m, n, k, 1f, 1f, seed: ++seed);
        }
    }

    [Fact]
    public void Beta_zero_overwrites_nan_in_c()
    {
        using var backend = new CpuBackend(2);
        int seed = 20000;
        (int M, int N, int K)[] sizes = [(1, 1, 1), (7, 20, 5), (33, 100, 64), (128, 20, 400), (5, 5, 0)];
        foreach (var (m, n, k) in sizes)
            foreach (bool transA in new[] { false, true })
                foreach (bool transB in new[] { false, true })
                    foreach (float alpha in Scalars)
                        Check(backend, transA, transB, m, n, k, alpha, 0f, seed: ++seed, nanC: true);
    }

    [Fact]
    public void One_and_two_threads_give_bit_identical_results()
    {
        using var one = new CpuBackend(1);
        using var two = new CpuBackend(2);
        var shapes = new List<(bool, bool, int, int, int)>(VaeShapes()) { (false, false, 37, 101, 300), (true, true, 200, 61, 555), (false, true, 1, 700, 90), (true, false, 403, 20, 300), (true, true, 403, 21, 129), (false, false, 37, 20, 401), (false, true, 130, 23, 99) };
        int seed = 30000;
        foreach (var (transA, transB, m, n, k) in shapes)
        {
            var (a, b, c) = RandomOperands(m, n, k, ++seed);
            float[] r1 = Run(one, transA, transB, m, n, k, 0.5f, a, b, 1f, c);
            float[] r2 = Run(two, transA, transB, m, n, k, 0.5f, a, b, 1f, c);
            for (int i = 0; i < r1.Length; i++)
            {
                if (BitConverter.SingleToInt32Bits(r1[i]) != BitConverter.SingleToInt32Bits(r2[i]))
                    Assert.Fail($"transA={transA} transB={transB} m={m} n={n} k={k}: element {i} is {r1[i]:R} with 1 thread, {r2[i]:R} with 2.");
            }
        }
    }

    /// <summary>
    /// A Gemm call (validation included) allocates nothing once warm, on any thread.
    /// </summary>
    [Fact]
    public void Allocates_nothing_per_call_after_warm_up()
    {
        using var backend = new CpuBackend(2);
        const int Calls = 20;
        var shapes = new List<(bool TransA, bool TransB, int M, int N, int K)>(VaeShapes());
        var buffers = new List<(DeviceBuffer A, DeviceBuffer B, DeviceBuffer C)>();
        try
        {
            foreach (var (_, _, m, n, k) in shapes)
                buffers.Add((backend.Allocate((long)m * k * sizeof(float)), backend.Allocate((long)k * n * sizeof(float)), backend.Allocate((long)m * n * sizeof(float))));

            // warm-up: enough calls, and time, for tiered compilation to finish promoting every method on the path
            var warmUp = System.Diagnostics.Stopwatch.StartNew();
            for (int round = 0; round < 60 || warmUp.ElapsedMilliseconds < 500; round++)
            {
                for (int s = 0; s < shapes.Count; s++) Call(s);
                if (round == 40) Thread.Sleep(200);
            }

            // The counter covers every thread, the test host's too, which allocates now and then on its own: the least
            // of a few repetitions filters that out, while an allocation per call would show in every repetition.
            for (int s = 0; s < shapes.Count; s++)
            {
                var (transA, transB, m, n, k) = shapes[s];
                long gemmBytes = long.MaxValue;
                for (int repetition = 0; repetition < 5 && gemmBytes != 0; repetition++)
                {
                    long before = GC.GetTotalAllocatedBytes(precise: true);
                    for (int i = 0; i < Calls; i++) Call(s);
                    gemmBytes = Math.Min(gemmBytes, GC.GetTotalAllocatedBytes(precise: true) - before);
                }
                Assert.True(gemmBytes == 0, $"transA={transA} transB={transB} m={m} n={n} k={k}: {gemmBytes} bytes allocated in {Calls} calls.");
            }
        }
        finally
        {
            foreach (var (a, b, c) in buffers)
            {
                a.Dispose();
                b.Dispose();
                c.Dispose();
            }
        }

        (DeviceSpan<float> A, DeviceSpan<float> B, DeviceSpan<float> C) Views(int s)
        {
            var (_, _, m, n, k) = shapes[s];
            return (new DeviceSpan<float>(buffers[s].A, 0, m * k), new DeviceSpan<float>(buffers[s].B, 0, k * n), new DeviceSpan<float>(buffers[s].C, 0, m * n));
        }

        void Call(int s)
        {
            var (transA, transB, m, n, k) = shapes[s];
            var (va, vb, vc) = Views(s);
            backend.Gemm(transA, transB, m, n, k, 1f, va, vb, 1f, vc);
        }
    }

    /// <summary>
    /// Every GEMM of a linear layer with batch 128, for each forward (m, k, n) = (batch, in, out):
    /// forward          Y (m, n) = X (m, k) * W (k, n)         Gemm(false, false, m, n, k)
    /// backward_input   dX (m, k) = dY (m, n) * W^T            Gemm(false, true,  m, k, n)   (GEMM dims m, n' = k, k' = n)
    /// backward_weight  dW (k, n) += X^T (k, m) * dY (m, n)    Gemm(true,  false, k, n, m)   (GEMM dims m' = k, n, k' = m)
    /// </summary>
    static IEnumerable<(bool TransA, bool TransB, int M, int N, int K)> VaeShapes()
    {
        foreach (var (m, k, n) in VaeForward)
        {
            yield return (false, false, m, n, k);
            yield return (false, true, m, k, n);
            yield return (true, false, k, n, m);
        }
    }

    static void Check(CpuBackend backend, bool transA, bool transB, int m, int n, int k, float alpha, float beta, int seed, bool nanC = false)
    {
        var (a, b, c0) = RandomOperands(m, n, k, seed);
        if (nanC) Array.Fill(c0, float.NaN);
        float[] got = Run(backend, transA, transB, m, n, k, alpha, a, b, beta, c0);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0, absSum = 0;
                for (int p = 0; p < k; p++)
                {
                    double product = (double)(transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                    sum += product;
                    absSum += Math.Abs(product);
                }
                double cTerm = beta == 0f ? 0 : (double)beta * c0[i * n + j];
                double want = alpha * sum + cTerm;
                double tolerance = 1e-5 + 1e-5 * (Math.Abs(alpha) * absSum + Math.Abs(cTerm));
                float value = got[i * n + j];
                if (!(Math.Abs(value - want) <= tolerance))
                    Assert.Fail($"transA={transA} transB={transB} m={m} n={n} k={k} alpha={alpha} beta={beta} nanC={nanC}: " +
                        $"C[{i}, {j}] = {value:R}, want {want:R} (tolerance {tolerance:G3}).");
            }
        }
    }

    static (float[] A, float[] B, float[] C) RandomOperands(int m, int n, int k, int seed)
    {
        var rng = new System.Random(seed);
        var a = new float[m * k];
        var b = new float[k * n];
        var c = new float[m * n];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < b.Length; i++) b[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < c.Length; i++) c[i] = (float)(rng.NextDouble() * 2 - 1);
        return (a, b, c);
    }

    /// <summary>Runs one Gemm on the backend with a, b, c (stored as op(A), op(B) say) and returns the new c.</summary>
    static float[] Run(CpuBackend backend, bool transA, bool transB, int m, int n, int k, float alpha, float[] a, float[] b, float beta, float[] c)
    {
        // one extra element at each end of every buffer checks that nothing outside the views is touched
        using var bufA = backend.Allocate((a.Length + 2) * sizeof(float));
        using var bufB = backend.Allocate((b.Length + 2) * sizeof(float));
        using var bufC = backend.Allocate((c.Length + 2) * sizeof(float));
        var guard = new float[] { 12345f };
        var va = new DeviceSpan<float>(bufA, 1, a.Length);
        var vb = new DeviceSpan<float>(bufB, 1, b.Length);
        var vc = new DeviceSpan<float>(bufC, 1, c.Length);
        backend.Upload<float>(a, va);
        backend.Upload<float>(b, vb);
        backend.Upload<float>(c, vc);
        backend.Upload<float>(guard, new DeviceSpan<float>(bufC, 0, 1));
        backend.Upload<float>(guard, new DeviceSpan<float>(bufC, c.Length + 1, 1));
        backend.Gemm(transA, transB, m, n, k, alpha, va, vb, beta, vc);
        var result = new float[c.Length];
        backend.Download(vc, result);
        var edges = new float[1];
        backend.Download(new DeviceSpan<float>(bufC, 0, 1), edges);
        Assert.Equal(12345f, edges[0]);
        backend.Download(new DeviceSpan<float>(bufC, c.Length + 1, 1), edges);
        Assert.Equal(12345f, edges[0]);
        return result;
    }
}
