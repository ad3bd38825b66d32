// Backend-agnostic tests of IComputeBackend: every primitive runs on the backend under test and on the scalar
// ReferenceBackend (double accumulation) with identical inputs in separate buffers, over random shapes drawn by FsCheck
// (0, 1, odd sizes, every vector-width remainder, multi-threaded sizes) and the results are compared.
// Each backend supplies a small subclass (CpuBackendPrimitiveTests, ...). Where the interface fixes a result exactly
// (data movement, ignored rows, clamped gradients, random numbers) the test also checks it against the host directly.
//
// Tolerances (float results against the double reference):
//   elementwise arithmetic        |got - want| <= 1e-6 + 1e-5 |want|                (Tolerance.Abs, Tolerance.Rel)
//   elementwise exp/log/tanh/...  |got - want| <= 2e-6 + 2e-5 |want|                (Tolerance.Transcendental*)
//   sums that may cancel          |got - want| <= 1e-6 + 1e-5 * (sum of |terms|)    (Sum, Axpy, BiasGradient, ScatterAddRows)
//   row-sum losses                |got - want| <= 1e-6 cols + 2e-5 * (sum over the row of |parts of each term|)
//   GEMM                          |got - want| <= 1e-5 (1 + |alpha| sum_p |a_ip||b_pj| + |beta||c_ij|)
//   GlobalNorm (double sum)       |got - want| <= 3e-7 |want|                        (2.5 float ulps)
// Data movement (Copy, Fill, Concat, Split, GatherRows), RandomNormal and AllFinite must match bit for bit.
using FsCheck;
using FsCheck.Fluent;
using Vae.Cpu;
using Vae.Tests.Support;
using Xunit;
using Xunit.Sdk;

namespace Vae.Tests.Primitives;

public abstract partial class BackendPrimitiveTests : IDisposable
{
    /// <summary>FsCheck cases per property: enough to hit every shape class, fast enough for the whole suite.</summary>
    protected const int Cases = 60;

    readonly ReferenceBackend reference = new();
    IComputeBackend? backend;

    /// <summary>A fresh instance of the backend under test (xunit makes one test-class instance per test).</summary>
    protected abstract IComputeBackend CreateBackend();

    protected IComputeBackend Backend => backend ??= CreateBackend();

    protected BackendPair NewPair(int seed) => new(Backend, reference, seed);

    public void Dispose()
    {
        backend?.Dispose();
        reference.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Lengths 0..65 (every remainder of 4/8/16-wide vectors and of a 4x unrolled 16-wide loop), then larger ones.</summary>
    protected static IEnumerable<int> SweepLengths()
    {
        for (int n = 0; n <= 65; n++) yield return n;
        yield return 127;
        yield return 128;
        yield return 129;
        yield return 50_000;
    }

    /// <summary>Runs <paramref name="body"/> on fixed cases, naming the case in a failure.</summary>
    protected static void Sweep<T>(IEnumerable<T> cases, Action<T> body)
    {
        foreach (var c in cases)
        {
            try
            {
                body(c);
            }
            catch (Exception e)
            {
                throw new XunitException($"{c}: {e.Message}");
            }
        }
    }

    /// <summary>A null optional output (total) on both sides, or a one-element output.</summary>
    protected static Twin<float> OptionalTotal(BackendPair pair, bool present, System.Random rng) =>
        present ? pair.Output(1, extra: rng.Next(2)) : new Twin<float>(default, default, 0);

    // ---------------------------------------------------------------- GEMM

    public sealed record GemmCase(bool TransA, bool TransB, int M, int N, int K, float Alpha, float Beta, int Seed);

    static readonly float[] GemmScalars = [0f, 1f, 0.5f, -1.5f];

    static Gen<GemmCase> GemmCases { get; } =
        from transA in Generators.Bool
        from transB in Generators.Bool
        from m in Generators.GemmDim
        from n in Generators.GemmDim
        from k in Generators.GemmDim
        from alpha in Generators.OneOf(GemmScalars)
        from beta in Generators.OneOf(GemmScalars)
        from seed in Generators.Seed
        select new GemmCase(transA, transB, m, n, k, alpha, beta, seed);

    /// <summary>
    /// c = alpha op(a) op(b) + beta c. With beta = 0, c starts as NaN and no NaN may survive. Checked against the reference
    /// and against the product computed here in double (so a transpose convention shared by both backends is caught too).
    /// </summary>
    void CheckGemm(GemmCase c)
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        float[] a = HostData.Uniform(rng, c.M * c.K, -1, 1);
        float[] b = HostData.Uniform(rng, c.K * c.N, -1, 1);
        float[] c0 = c.Beta == 0 ? HostData.Filled(c.M * c.N, float.NaN) : HostData.Uniform(rng, c.M * c.N, -1, 1);
        var ta = pair.Upload(a, extra: rng.Next(3));
        var tb = pair.Upload(b, extra: rng.Next(3));
        var tc = pair.Upload(c0, extra: rng.Next(3));

        pair.Run((be, s) => be.Gemm(c.TransA, c.TransB, c.M, c.N, c.K, c.Alpha, ta[s], tb[s], c.Beta, tc[s]));

        var (got, want) = pair.Download(tc);
        var host = new float[c.M * c.N];
        var bound = new double[c.M * c.N];
        for (int i = 0; i < c.M; i++)
        {
            for (int j = 0; j < c.N; j++)
            {
                double dot = 0, magnitude = 0;
                for (int p = 0; p < c.K; p++)
                {
                    double aip = c.TransA ? a[p * c.M + i] : a[i * c.K + p];   // op(a) is (m, k)
                    double bpj = c.TransB ? b[j * c.K + p] : b[p * c.N + j];   // op(b) is (k, n)
                    dot += aip * bpj;
                    magnitude += Math.Abs(aip * bpj);
                }
                double prior = c.Beta == 0 ? 0 : c.Beta * (double)c0[i * c.N + j];
                host[i * c.N + j] = (float)(c.Alpha * dot + prior);
                bound[i * c.N + j] = 1e-5 * (1 + Math.Abs(c.Alpha) * magnitude + Math.Abs(prior));
            }
        }
        Tolerance.AssertWithin("c vs reference", got, want, bound);
        Tolerance.AssertWithin("reference c vs double product on the host", want, host, bound);
        pair.AssertGuardsIntact();
    }

    [Fact]
    public void Gemm_matches_reference_on_random_shapes() => PropertyRunner.Check(GemmCases, CheckGemm, 100);

    [Fact]
    public void Gemm_matches_reference_for_every_transpose_alpha_and_beta()
    {
        var cases = new List<GemmCase>();
        int seed = 1;
        foreach (bool transA in new[] { false, true })
            foreach (bool transB in new[] { false, true })
                foreach (float alpha in GemmScalars)
                    foreach (float beta in GemmScalars)
                        cases.Add(new GemmCase(transA, transB, 13, 19, 23, alpha, beta, seed++));
        Sweep(cases, CheckGemm);
    }

    [Fact]
    public void Gemm_handles_empty_and_degenerate_shapes()
    {
        // k = 0 leaves beta c (zero where beta = 0 even though c held NaN); m = 0 or n = 0 writes nothing.
        var cases = new List<GemmCase>();
        int seed = 100;
        foreach (var (m, n, k) in new[] { (0, 0, 0), (0, 5, 3), (4, 0, 3), (4, 5, 0), (1, 1, 1), (1, 33, 1), (33, 1, 1), (1, 1, 65), (2, 3, 0) })
            foreach (float beta in new[] { 0f, 1f, -1.5f })
                cases.Add(new GemmCase(m % 2 == 1, n % 2 == 0, m, n, k, 0.5f, beta, seed++));
        Sweep(cases, CheckGemm);
    }

    [Fact]
    public void Gemm_matches_reference_at_vae_layer_sizes()
    {
        // Encoder layer forward (batch 128, 784 -> 400), its weight gradient and input gradient: multi-threaded sizes.
        Sweep(new[]
        {
            new GemmCase(false, true, 128, 400, 784, 1f, 0f, 7),     // y = x W^T
            new GemmCase(true, false, 400, 784, 128, 1f, 1f, 8),     // dW += dy^T x
            new GemmCase(false, false, 128, 784, 400, 1f, 0f, 9),    // dx = dy W
            new GemmCase(true, true, 131, 67, 129, -1.5f, 0.5f, 10),
        }, CheckGemm);
    }

    // ---------------------------------------------------------------- bias

    public sealed record MatrixCase(int Rows, int Cols, int Seed);

    static Gen<MatrixCase> MatrixCases(int maxElements) =>
        from shape in Generators.Matrix(maxElements)
        from seed in Generators.Seed
        select new MatrixCase(shape.Rows, shape.Cols, seed);

    [Fact]
    public void BiasAdd_matches_reference() => PropertyRunner.Check(MatrixCases(200_000), c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        float[] x0 = HostData.Uniform(rng, c.Rows * c.Cols, -5, 5), bias = HostData.Uniform(rng, c.Cols, -5, 5);
        var x = pair.Upload(x0, extra: rng.Next(3));
        var tb = pair.Upload(bias, extra: rng.Next(3));

        pair.Run((be, s) => be.BiasAdd(x[s], tb[s], c.Rows, c.Cols));

        var (got, want) = pair.Download(x);
        var bound = new double[x0.Length];
        for (int i = 0; i < bound.Length; i++) bound[i] = Tolerance.Abs + Tolerance.Rel * (Math.Abs(x0[i]) + Math.Abs(bias[i % c.Cols]));
        Tolerance.AssertWithin("x", got, want, bound);
        pair.AssertGuardsIntact();
    }, Cases);

    [Fact]
    public void BiasGradient_accumulates_column_sums_like_reference() => PropertyRunner.Check(MatrixCases(200_000), c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        float[] dy = HostData.Uniform(rng, c.Rows * c.Cols, -1, 1), dBias0 = HostData.Uniform(rng, c.Cols, -3, 3);
        var tdy = pair.Upload(dy, extra: rng.Next(3));
        var dBias = pair.Upload(dBias0, extra: rng.Next(3));

        pair.Run((be, s) => be.BiasGradient(tdy[s], dBias[s], c.Rows, c.Cols));

        var (got, want) = pair.Download(dBias);
        var bound = new double[c.Cols];
        for (int j = 0; j < c.Cols; j++)
        {
            double magnitude = Math.Abs(dBias0[j]);
            for (int r = 0; r < c.Rows; r++) magnitude += Math.Abs(dy[r * c.Cols + j]);
            bound[j] = 1e-6 + 1e-5 * magnitude;
        }
        Tolerance.AssertWithin("dBias", got, want, bound);
        pair.AssertGuardsIntact();
    }, Cases);

    // ---------------------------------------------------------------- elementwise

    public sealed record ElementwiseCase(int Length, float Scalar, int Seed);

    static Gen<ElementwiseCase> ElementwiseCases(params float[] scalars) =>
        from length in Generators.Length
        from scalar in Generators.OneOf(scalars)
        from seed in Generators.Seed
        select new ElementwiseCase(length, scalar, seed);

    static IEnumerable<ElementwiseCase> ElementwiseSweep(params float[] scalars)
    {
        foreach (int n in SweepLengths()) yield return new ElementwiseCase(n, scalars[n % scalars.Length], 1000 + n);
    }

    /// <summary>Runs an elementwise check over every length of the sweep, then over random FsCheck cases.</summary>
    static void CheckElementwise(Action<ElementwiseCase> body, params float[] scalars)
    {
        Sweep(ElementwiseSweep(scalars), body);
        PropertyRunner.Check(ElementwiseCases(scalars), body, Cases);
    }

    static readonly float[] SignedSpecials = [0f, 1f, -1f, 1e-20f, -3.5e4f];

    [Fact]
    public void Copy_matches_reference_bitwise() => CheckElementwise(c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        float[] x = HostData.WithSpecials(rng, c.Length, -10, 10, SignedSpecials, 0.1);
        var source = pair.Upload(x);
        var destination = pair.Output(c.Length);

        pair.Run((be, s) => be.Copy(source[s], destination[s]));

        var (got, want) = pair.Download(destination);
        Tolerance.AssertBitwiseEqual("destination vs reference", got, want);
        Tolerance.AssertBitwiseEqual("destination vs source", got, x);
        pair.AssertGuardsIntact();
    }, 0f);

    [Fact]
    public void Copy_onto_itself_leaves_the_data_unchanged() => Sweep(ElementwiseSweep(0f), c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        float[] x0 = HostData.Uniform(rng, c.Length, -10, 10);
        var x = pair.Upload(x0);

        pair.Run((be, s) => be.Copy(x[s], x[s]));

        var (got, _) = pair.Download(x);
        Tolerance.AssertBitwiseEqual("x", got, x0);
        pair.AssertGuardsIntact();
    });

    [Fact]
    public void Fill_matches_reference_bitwise() => CheckElementwise(c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        var x = pair.Upload(HostData.Uniform(rng, c.Length, -1, 1));

        pair.Run((be, s) => be.Fill(x[s], c.Scalar));

        var (got, want) = pair.Download(x);
        Tolerance.AssertBitwiseEqual("x vs reference", got, want);
        Tolerance.AssertBitwiseEqual("x vs value", got, HostData.Filled(c.Length, c.Scalar));
        pair.AssertGuardsIntact();
    }, 0f, 1.5f, -3f, -0f, float.NaN, float.PositiveInfinity, 1e-30f);

    [Fact]
    public void Scale_matches_reference() => CheckElementwise(c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        var x = pair.Upload(HostData.WithSpecials(rng, c.Length, -10, 10, SignedSpecials, 0.1));

        pair.Run((be, s) => be.Scale(x[s], c.Scalar));

        var (got, want) = pair.Download(x);
        Tolerance.AssertClose("x", got, want, Tolerance.Abs, Tolerance.Rel);
        pair.AssertGuardsIntact();
    }, 0f, 1f, -1f, 0.5f, -2.75f, 1e-3f);

    [Fact]
    public void Axpy_matches_reference() => CheckElementwise(c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        float[] x0 = HostData.WithSpecials(rng, c.Length, -10, 10, SignedSpecials, 0.1), y0 = HostData.Uniform(rng, c.Length, -10, 10);
        var x = pair.Upload(x0);
        var y = pair.Upload(y0);

        pair.Run((be, s) => be.Axpy(c.Scalar, x[s], y[s]));

        var (got, want) = pair.Download(y);
        var bound = new double[c.Length];
        for (int i = 0; i < bound.Length; i++) bound[i] = Tolerance.Abs + Tolerance.Rel * (Math.Abs(y0[i]) + Math.Abs(c.Scalar * (double)x0[i]));
        Tolerance.AssertWithin("y", got, want, bound);
        var (xAfter, _) = pair.Download(x);
        Tolerance.AssertBitwiseEqual("x (input)", xAfter, x0);
        pair.AssertGuardsIntact();
    }, 0f, 1f, -1f, 0.5f, -1.5f, 3f);

    [Fact]
    public void Sum_matches_reference_and_host() => CheckElementwise(c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        float[] x = HostData.Uniform(rng, c.Length, -1, 1 + c.Scalar);
        var tx = pair.Upload(x);
        var result = pair.Output(1, extra: rng.Next(2));

        pair.Run((be, s) => be.Sum(tx[s], result[s]));

        var (got, want) = pair.Download(result);
        double exact = 0, magnitude = 0;
        foreach (float v in x)
        {
            exact += v;
            magnitude += Math.Abs(v);
        }
        double[] bound = [1e-6 + 1e-5 * magnitude];
        Tolerance.AssertWithin("result vs reference", got, want, bound);
        Tolerance.AssertWithin("result vs double sum", got, [(float)exact], bound);
        pair.AssertGuardsIntact();
    }, 0f, 1f);

    // ---------------------------------------------------------------- concat / split

    public sealed record ConcatCase(int Rows, int ColsA, int ColsB, int Seed);

    static Gen<ConcatCase> ConcatCases { get; } =
        from rows in Generators.Rows
        from colsA in Generators.Cols
        from colsB in Generators.Cols
        from seed in Generators.Seed
        select new ConcatCase(rows, rows * (colsA + colsB) > 200_000 ? colsA % 66 : colsA, rows * (colsA + colsB) > 200_000 ? colsB % 66 : colsB, seed);

    [Fact]
    public void Concat_matches_reference_and_layout() => PropertyRunner.Check(ConcatCases, c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        int cols = c.ColsA + c.ColsB;
        float[] a = HostData.Uniform(rng, c.Rows * c.ColsA, -1, 1), b = HostData.Uniform(rng, c.Rows * c.ColsB, 2, 3);
        var ta = pair.Upload(a, extra: rng.Next(3));
        var tb = pair.Upload(b, extra: rng.Next(3));
        var output = pair.Output(c.Rows * cols, extra: rng.Next(3));

        pair.Run((be, s) => be.Concat(ta[s], tb[s], output[s], c.Rows, c.ColsA, c.ColsB));

        var (got, want) = pair.Download(output);
        var host = new float[c.Rows * cols];
        for (int r = 0; r < c.Rows; r++)
        {
            a.AsSpan(r * c.ColsA, c.ColsA).CopyTo(host.AsSpan(r * cols));
            b.AsSpan(r * c.ColsB, c.ColsB).CopyTo(host.AsSpan(r * cols + c.ColsA));
        }
        Tolerance.AssertBitwiseEqual("output vs reference", got, want);
        Tolerance.AssertBitwiseEqual("output vs [a | b]", got, host);
        pair.AssertGuardsIntact();
    }, Cases);

    [Fact]
    public void Split_matches_reference_and_layout() => PropertyRunner.Check(ConcatCases, c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        int cols = c.ColsA + c.ColsB;
        float[] input = HostData.Uniform(rng, c.Rows * cols, -1, 1);
        var tin = pair.Upload(input, extra: rng.Next(3));
        var a = pair.Output(c.Rows * c.ColsA, extra: rng.Next(3));
        var b = pair.Output(c.Rows * c.ColsB, extra: rng.Next(3));

        pair.Run((be, s) => be.Split(tin[s], a[s], b[s], c.Rows, c.ColsA, c.ColsB));

        var (gotA, wantA) = pair.Download(a);
        var (gotB, wantB) = pair.Download(b);
        var hostA = new float[c.Rows * c.ColsA];
        var hostB = new float[c.Rows * c.ColsB];
        for (int r = 0; r < c.Rows; r++)
        {
            input.AsSpan(r * cols, c.ColsA).CopyTo(hostA.AsSpan(r * c.ColsA));
            input.AsSpan(r * cols + c.ColsA, c.ColsB).CopyTo(hostB.AsSpan(r * c.ColsB));
        }
        Tolerance.AssertBitwiseEqual("a vs reference", gotA, wantA);
        Tolerance.AssertBitwiseEqual("b vs reference", gotB, wantB);
        Tolerance.AssertBitwiseEqual("a vs input[:, :colsA]", gotA, hostA);
        Tolerance.AssertBitwiseEqual("b vs input[:, colsA:]", gotB, hostB);
        pair.AssertGuardsIntact();
    }, Cases);

    // ---------------------------------------------------------------- activations

    public sealed record ActivationCase(Activation F, int Length, float Slope, bool InPlace, int Seed);

    static readonly Activation[] AllActivations = Enum.GetValues<Activation>();

    // Exact zeros test the kink of Relu/LeakyRelu (gradient 0 resp. slope at x = 0); large magnitudes test that
    // exp-based functions neither overflow to NaN nor lose their sign.
    static readonly float[] ActivationSpecials = [0f, -0f, 1f, -1f, 20f, -20f, 90f, -90f];

    static Gen<ActivationCase> ActivationCases { get; } =
        from f in Generators.OneOf(AllActivations)
        from length in Generators.Length
        from slope in Generators.OneOf(0.01f, 0.2f, 0f, 1.5f)
        from inPlace in Generators.Bool
        from seed in Generators.Seed
        select new ActivationCase(f, length, slope, inPlace, seed);

    static IEnumerable<ActivationCase> ActivationSweep()
    {
        foreach (var f in AllActivations)
            foreach (int n in SweepLengths())
                yield return new ActivationCase(f, n, 0.01f, n % 3 == 0, 2000 + n);
    }

    static bool IsPiecewiseLinear(Activation f) => f is Activation.Relu or Activation.LeakyRelu;

    void CheckActivationForward(ActivationCase c)
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        var x = pair.Upload(HostData.WithSpecials(rng, c.Length, -6, 6, ActivationSpecials, 0.05));
        var y = c.InPlace ? x : pair.Output(c.Length);

        pair.Run((be, s) => be.ActivationForward(c.F, x[s], y[s], c.Slope));

        var (got, want) = pair.Download(y);
        if (IsPiecewiseLinear(c.F)) Tolerance.AssertClose("y", got, want, Tolerance.Abs, Tolerance.Rel);
        else Tolerance.AssertClose("y", got, want, Tolerance.TranscendentalAbs, Tolerance.TranscendentalRel);
        pair.AssertGuardsIntact();
    }

    /// <summary>
    /// Backward gets the forward's input x and output y, but the one the interface says is not read (y for Relu,
    /// LeakyRelu, Softplus; x for Tanh, Sigmoid) is all NaN, so reading it shows in the result.
    /// </summary>
    void CheckActivationBackward(ActivationCase c)
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        float[] x = HostData.WithSpecials(rng, c.Length, -6, 6, ActivationSpecials, 0.05);
        float[] y = new float[c.Length];
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = c.F switch
            {
                Activation.Tanh => (float)Math.Tanh(x[i]),
                Activation.Sigmoid => (float)(1 / (1 + Math.Exp(-(double)x[i]))),
                _ => float.NaN,
            };
        }
        bool readsY = c.F is Activation.Tanh or Activation.Sigmoid;
        var tx = pair.Upload(readsY ? HostData.Filled(c.Length, float.NaN) : x);
        var ty = pair.Upload(y);
        var dy = pair.Upload(HostData.Uniform(rng, c.Length, -2, 2));
        var dx = c.InPlace ? dy : pair.Output(c.Length);

        pair.Run((be, s) => be.ActivationBackward(c.F, tx[s], ty[s], dy[s], dx[s], c.Slope));

        var (got, want) = pair.Download(dx);
        if (IsPiecewiseLinear(c.F)) Tolerance.AssertClose("dx", got, want, Tolerance.Abs, Tolerance.Rel);
        else Tolerance.AssertClose("dx", got, want, Tolerance.TranscendentalAbs, Tolerance.TranscendentalRel);
        pair.AssertGuardsIntact();
    }

    [Fact]
    public void ActivationForward_matches_reference()
    {
        Sweep(ActivationSweep(), CheckActivationForward);
        PropertyRunner.Check(ActivationCases, CheckActivationForward, Cases);
    }

    [Fact]
    public void ActivationBackward_matches_reference()
    {
        Sweep(ActivationSweep(), CheckActivationBackward);
        PropertyRunner.Check(ActivationCases, CheckActivationBackward, Cases);
    }
}
