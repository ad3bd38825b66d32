// Finite-difference checks of the linear primitives' gradients in ReferenceMath: Gemm (all transpose combinations,
// with respect to A, B and the accumulated C), bias add / bias gradient, concat / split, gather / scatter-add.
// Tolerance: |fd - analytic| <= 1e-6 + 1e-5 |analytic| (FiniteDifference).
using FsCheck.Fluent;
using Vae.Cpu;
using Xunit;
using static Vae.Tests.GradientChecks.FiniteDifference;

namespace Vae.Tests.GradientChecks;

public class LinearAlgebraGradientTests
{
    public readonly record struct GemmCase(int M, int N, int K, bool TransA, bool TransB, int Seed);

    [Fact]
    public void Gemm_gradients_match_finite_differences_for_all_transposes()
    {
        var cases =
            from m in Gen.Choose(0, 5)
            from n in Gen.Choose(0, 5)
            from k in Gen.Choose(0, 5)
            from transA in Gen.Elements(false, true)
            from transB in Gen.Elements(false, true)
            from seed in Gen.Choose(0, int.MaxValue)
            select new GemmCase(m, n, k, transA, transB, seed);
        foreach (bool transA in new[] { false, true })
            foreach (bool transB in new[] { false, true })
                foreach (var (m, n, k) in new[] { (0, 0, 0), (1, 1, 1), (0, 2, 3), (2, 0, 3), (2, 3, 0), (1, 4, 2), (3, 1, 2) })
                    CheckGemm(new GemmCase(m, n, k, transA, transB, 7 + m + 10 * n + 100 * k));
        ForAll(cases, CheckGemm);
    }

    static void CheckGemm(GemmCase g)
    {
        var random = new System.Random(g.Seed);
        int m = g.M, n = g.N, k = g.K;
        double alpha = random.NextDouble() * 2 - 1;
        double beta = random.Next(3) switch { 0 => 0, 1 => 1, _ => random.NextDouble() * 2 - 1 };
        var a = Uniform(random, m * k, -2, 2);            // (m, k), or (k, m) when transA
        var b = Uniform(random, k * n, -2, 2);            // (k, n), or (n, k) when transB
        var c0 = Uniform(random, m * n, -2, 2);           // (m, n)
        var w = Weights(random, m * n);                   // dL/dC

        double[] Forward()
        {
            var c = (double[])c0.Clone();
            ReferenceMath.Gemm(g.TransA, g.TransB, m, n, k, alpha, a, b, beta, c);
            return c;
        }

        // dA: alpha W op(B)^T (m, k), or its transpose alpha op(B) W^T (k, m) when transA.
        var dA = new double[m * k];
        if (!g.TransA) ReferenceMath.Gemm(false, !g.TransB, m, k, n, alpha, w, b, 0, dA);
        else ReferenceMath.Gemm(g.TransB, true, k, m, n, alpha, b, w, 0, dA);
        // dB: alpha op(A)^T W (k, n), or its transpose alpha W^T op(A) (n, k) when transB.
        var dB = new double[k * n];
        if (!g.TransB) ReferenceMath.Gemm(!g.TransA, false, k, n, m, alpha, a, w, 0, dB);
        else ReferenceMath.Gemm(true, g.TransA, n, k, m, alpha, w, a, 0, dB);
        var dC0 = new double[m * n];
        for (int i = 0; i < dC0.Length; i++) dC0[i] = beta * w[i];

        string what = $"Gemm {g}";
        AssertGradient(what + " dA", a, dA, w, Forward);
        AssertGradient(what + " dB", b, dB, w, Forward);
        AssertGradient(what + " dC", c0, dC0, w, Forward);
    }

    [Fact]
    public void BiasAdd_gradients_match_finite_differences()
    {
        ForAllMatrices(s =>
        {
            var random = new System.Random(s.Seed);
            var x = Uniform(random, s.Length, -2, 2);       // (rows, cols)
            var bias = Uniform(random, s.Cols, -2, 2);      // (cols)
            var w = Weights(random, s.Length);

            double[] Forward()
            {
                var y = (double[])x.Clone();
                ReferenceMath.BiasAdd(y, bias, s.Rows, s.Cols);
                return y;
            }

            var dBiasBefore = Uniform(random, s.Cols, -1, 1);
            var dBias = (double[])dBiasBefore.Clone();
            ReferenceMath.BiasGradient(w, dBias, s.Rows, s.Cols);
            AssertGradient($"BiasAdd {s} dBias", bias, Added(dBias, dBiasBefore), w, Forward);
            AssertGradient($"BiasAdd {s} dX", x, (double[])w.Clone(), w, Forward);
        });
    }

    [Fact]
    public void Concat_and_split_gradients_match_finite_differences()
    {
        ForAllMatrices(s =>
        {
            // rows = s.Rows, colsA = s.Cols, colsB drawn from the seed.
            var random = new System.Random(s.Seed);
            int rows = s.Rows, colsA = s.Cols, colsB = random.Next(0, 4), cols = colsA + colsB;
            var a = Uniform(random, rows * colsA, -2, 2);
            var b = Uniform(random, rows * colsB, -2, 2);
            var w = Weights(random, rows * cols);

            double[] ConcatForward()
            {
                var output = new double[rows * cols];
                ReferenceMath.Concat(a, b, output, rows, colsA, colsB);
                return output;
            }

            // Concat's gradient is Split of the output gradient.
            var dA = new double[rows * colsA];
            var dB = new double[rows * colsB];
            ReferenceMath.Split(w, dA, dB, rows, colsA, colsB);
            AssertGradient($"Concat {s} dA", a, dA, w, ConcatForward);
            AssertGradient($"Concat {s} dB", b, dB, w, ConcatForward);

            // Split's gradient is Concat of the two output gradients.
            var input = Uniform(random, rows * cols, -2, 2);
            var wA = Weights(random, rows * colsA);
            var wB = Weights(random, rows * colsB);

            double[] SplitForward()
            {
                var outA = new double[rows * colsA];
                var outB = new double[rows * colsB];
                ReferenceMath.Split(input, outA, outB, rows, colsA, colsB);
                return Join(outA, outB);
            }

            var dInput = new double[rows * cols];
            ReferenceMath.Concat(wA, wB, dInput, rows, colsA, colsB);
            AssertGradient($"Split {s} dInput", input, dInput, Join(wA, wB), SplitForward);
        });
    }

    public readonly record struct IndexingCase(int TableRows, int Count, int Cols, int Seed);

    [Fact]
    public void Gather_and_scatter_add_gradients_match_finite_differences()
    {
        var cases =
            from tableRows in Gen.Choose(0, 5)
            from count in Gen.Choose(0, 7)
            from cols in Gen.Choose(0, 4)
            from seed in Gen.Choose(0, int.MaxValue)
            select new IndexingCase(tableRows, tableRows == 0 ? 0 : count, cols, seed);
        CheckIndexing(new IndexingCase(0, 0, 0, 1));
        CheckIndexing(new IndexingCase(1, 1, 1, 2));
        CheckIndexing(new IndexingCase(1, 5, 3, 3));     // every index repeated
        CheckIndexing(new IndexingCase(4, 0, 2, 4));
        ForAll(cases, CheckIndexing);
    }

    static void CheckIndexing(IndexingCase g)
    {
        var random = new System.Random(g.Seed);
        int cols = g.Cols;
        var indices = new int[g.Count];
        for (int i = 0; i < indices.Length; i++) indices[i] = random.Next(g.TableRows);
        var table = Uniform(random, g.TableRows * cols, -2, 2);    // (tableRows, cols)
        var wGather = Weights(random, g.Count * cols);             // dL/dOutput, (count, cols)

        double[] GatherForward()
        {
            var output = new double[g.Count * cols];
            ReferenceMath.GatherRows(table, indices, output, g.Count, cols);
            return output;
        }

        // Gather's gradient is scatter-add of the output gradient (accumulated on top of what dTable held).
        var dTableBefore = Uniform(random, g.TableRows * cols, -1, 1);
        var dTable = (double[])dTableBefore.Clone();
        ReferenceMath.ScatterAddRows(wGather, indices, dTable, g.Count, cols);
        AssertGradient($"GatherRows {g} dTable", table, Added(dTable, dTableBefore), wGather, GatherForward);

        // Scatter-add's output is the table: its gradient w.r.t. the rows added is a gather, w.r.t. the table the identity.
        var rowsAdded = Uniform(random, g.Count * cols, -2, 2);
        var tableBefore = Uniform(random, g.TableRows * cols, -2, 2);
        var wScatter = Weights(random, g.TableRows * cols);

        double[] ScatterForward()
        {
            var output = (double[])tableBefore.Clone();
            ReferenceMath.ScatterAddRows(rowsAdded, indices, output, g.Count, cols);
            return output;
        }

        var dRows = new double[g.Count * cols];
        ReferenceMath.GatherRows(wScatter, indices, dRows, g.Count, cols);
        AssertGradient($"ScatterAddRows {g} dRows", rowsAdded, dRows, wScatter, ScatterForward);
        AssertGradient($"ScatterAddRows {g} dTable", tableBefore, (double[])wScatter.Clone(), wScatter, ScatterForward);
    }
}
