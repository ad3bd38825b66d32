// The per-row primitives against the reference and against the host: SoftmaxRows (each row's softmax and its
// log-sum-exp; rows shifted by +-80 overflow exp unless the maximum is subtracted, -inf entries get weight 0, rows of
// NaN, +inf or only -inf come out NaN throughout, no columns give a log-sum-exp of -inf), ScaleRows (each row times
// its factor, bit for bit the float product), in place and out of place, and ArgMaxRows (each row's arg-max, exactly
// the index a plain scan by torch.argmax's rule gives: ties to the lowest column, NaN above everything, -0 equal to +0),
// and their argument checks.
using FsCheck;
using FsCheck.Fluent;
using Vae.Tests.Support;
using Xunit;
using Xunit.Sdk;

namespace Vae.Tests.Primitives;

public abstract partial class BackendPrimitiveTests
{
    // ---------------------------------------------------------------- per-row operations

    /// <summary>One per-row case: the shape, whether y is x (in place), whether logSumExp is wanted, and the data's seed.</summary>
    public sealed record RowsCase(int Rows, int Cols, bool InPlace, bool WithLogSumExp, int Seed);

    static Gen<RowsCase> RowsCases { get; } =
        from shape in Generators.Matrix(200_000)
        from inPlace in Generators.Bool
        from withLogSumExp in Generators.Bool
        from seed in Generators.Seed
        select new RowsCase(shape.Rows, shape.Cols, inPlace, withLogSumExp, seed);

    static IEnumerable<RowsCase> RowsSweep()
    {
        // Every column remainder (vector widths, warp lanes), every row count past two warps' worth, VAE-like shapes.
        for (int cols = 0; cols <= 70; cols++) yield return new RowsCase(3, cols, cols % 3 == 0, cols % 2 == 0, 5000 + cols);
        for (int rows = 0; rows <= 20; rows++) yield return new RowsCase(rows, 5, rows % 2 == 1, true, 5100 + rows);
        yield return new RowsCase(128, 5, false, true, 5200);
        yield return new RowsCase(640, 784, true, false, 5201);
        yield return new RowsCase(9, 1000, false, true, 5202);
    }

    static void CheckRows(Action<RowsCase> body)
    {
        Sweep(RowsSweep(), body);
        PropertyRunner.Check(RowsCases, body, Cases);
    }

    /// <summary>
    /// Values in [-10, 10]; about one row in ten shifted by +-80 (exp over- or underflows in float without the maximum
    /// subtracted), and in about one row in eight some entries (never all) are -inf.
    /// </summary>
    static float[] SoftmaxData(RowsCase c, System.Random rng)
    {
        float[] x = HostData.Uniform(rng, c.Rows * c.Cols, -10, 10);
        for (int r = 0; r < c.Rows; r++)
        {
            var row = x.AsSpan(r * c.Cols, c.Cols);
            if (rng.Next(10) == 0)
            {
                float shift = rng.Next(2) == 0 ? 80f : -80f;
                foreach (ref float v in row) v += shift;
            }
            if (c.Cols > 1 && rng.Next(8) == 0)
                for (int j = 0; j < c.Cols; j++)
                    if (j != r % c.Cols && rng.Next(3) == 0) row[j] = float.NegativeInfinity;
        }
        return x;
    }

    [Fact]
    public void SoftmaxRows_matches_reference_and_each_row_sums_to_one() => CheckRows(c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        float[] x = SoftmaxData(c, rng);
        var tx = pair.Upload(x, extra: rng.Next(3));
        var ty = c.InPlace ? tx : pair.Output(x.Length, extra: rng.Next(3));
        var lse = c.WithLogSumExp ? pair.Output(c.Rows, extra: rng.Next(2)) : new Twin<float>(default, default, 0);

        pair.Run((be, s) => be.SoftmaxRows(tx[s], ty[s], lse[s], c.Rows, c.Cols));

        var (got, want) = pair.Download(ty);
        Tolerance.AssertClose("y", got, want, Tolerance.TranscendentalAbs, Tolerance.TranscendentalRel);
        for (int r = 0; r < c.Rows; r++)
        {
            double sum = 0;
            for (int j = 0; j < c.Cols; j++)
            {
                float v = got[r * c.Cols + j];
                if (!(v >= 0 && v <= 1)) throw new XunitException($"y[{r}, {j}] = {v} is not a probability.");
                if (float.IsNegativeInfinity(x[r * c.Cols + j]) && v != 0f) throw new XunitException($"y[{r}, {j}] = {v} for x = -inf; want 0.");
                sum += v;
            }
            if (c.Cols > 0 && !(Math.Abs(sum - 1) <= 1e-6 * (1 + c.Cols)))
                throw new XunitException($"row {r} of y sums to {sum:R}, not 1 (cols {c.Cols}).");
        }
        if (c.WithLogSumExp)
        {
            var (gotLse, wantLse) = pair.Download(lse);
            // log sum exp x = m + log s, s in [1, cols]: the parts are the maximum and log(cols).
            var bound = new double[c.Rows];
            var host = new float[c.Rows];
            for (int r = 0; r < c.Rows; r++)
            {
                double max = double.NegativeInfinity, s = 0;
                for (int j = 0; j < c.Cols; j++) max = Math.Max(max, x[r * c.Cols + j]);
                for (int j = 0; j < c.Cols; j++) s += Math.Exp(x[r * c.Cols + j] - max);
                host[r] = c.Cols == 0 ? float.NegativeInfinity : (float)(max + Math.Log(s));
                bound[r] = 1e-6 + 2e-5 * (Math.Abs(max) + Math.Log(Math.Max(c.Cols, 1)));
            }
            Tolerance.AssertWithin("logSumExp vs reference", gotLse, wantLse, bound);
            Tolerance.AssertWithin("logSumExp vs the host's double formula", gotLse, host, bound);
        }
        pair.AssertGuardsIntact();
    });

    [Fact]
    public void SoftmaxRows_gives_nan_rows_for_nan_infinite_or_all_minus_infinity_rows_and_minus_infinity_for_no_columns()
    {
        const int cols = 37;   // more than one warp's lanes, a ragged vector tail
        float inf = float.PositiveInfinity, nan = float.NaN;
        var rows = new List<float[]>
        {
            Enumerable.Range(0, cols).Select(j => j == 20 ? nan : j * 0.1f).ToArray(),
            Enumerable.Range(0, cols).Select(j => j == 3 ? inf : -j * 0.1f).ToArray(),
            Enumerable.Repeat(float.NegativeInfinity, cols).ToArray(),
            Enumerable.Repeat(nan, cols).ToArray(),
            Enumerable.Range(0, cols).Select(j => j % 4 == 0 ? float.NegativeInfinity : j * 0.5f - 3).ToArray(),   // finite: -inf entries weigh 0
        };
        var x = rows.SelectMany(r => r).ToArray();
        using var pair = NewPair(77);
        var tx = pair.Upload(x);
        var ty = pair.Output(x.Length);
        var lse = pair.Output(rows.Count);
        pair.Run((be, s) => be.SoftmaxRows(tx[s], ty[s], lse[s], rows.Count, cols));
        var (got, want) = pair.Download(ty);
        var (gotLse, _) = pair.Download(lse);
        for (int r = 0; r < 4; r++)
        {
            Assert.True(float.IsNaN(gotLse[r]), $"row {r}: logSumExp {gotLse[r]}, want NaN");
            for (int j = 0; j < cols; j++) Assert.True(float.IsNaN(got[r * cols + j]), $"y[{r}, {j}] = {got[r * cols + j]}, want NaN");
        }
        Tolerance.AssertClose("y of the row with -inf entries", got.AsSpan(4 * cols, cols), want.AsSpan(4 * cols, cols), Tolerance.TranscendentalAbs, Tolerance.TranscendentalRel);
        for (int j = 0; j < cols; j += 4) Assert.Equal(0f, got[4 * cols + j]);
        Assert.True(float.IsFinite(gotLse[4]));

        // No columns: nothing to write in y, logSumExp = log of an empty sum.
        var empty = pair.Output(3);
        var emptyX = pair.Upload(new float[1]);
        pair.Run((be, s) => be.SoftmaxRows(emptyX[s], emptyX[s], empty[s], 3, 0));
        var (gotEmpty, wantEmpty) = pair.Download(empty);
        Assert.All(gotEmpty, v => Assert.Equal(float.NegativeInfinity, v));
        Assert.All(wantEmpty, v => Assert.Equal(float.NegativeInfinity, v));
        pair.AssertGuardsIntact();
    }

    [Fact]
    public void ScaleRows_is_the_float_product_of_each_row_and_its_factor() => CheckRows(c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        float[] x = HostData.WithSpecials(rng, c.Rows * c.Cols, -3, 3, [0f, -0f, float.MaxValue, float.Epsilon], 0.02);
        float[] rowScale = HostData.WithSpecials(rng, c.Rows, -2, 2, [0f, 1f, -1f, 1e-30f], 0.1);
        var tx = pair.Upload(x, extra: rng.Next(3));
        var ts = pair.Upload(rowScale, extra: rng.Next(3));
        var ty = c.InPlace ? tx : pair.Output(x.Length, extra: rng.Next(3));

        pair.Run((be, s) => be.ScaleRows(tx[s], ts[s], ty[s], c.Rows, c.Cols));

        var (got, want) = pair.Download(ty);
        var host = new float[x.Length];
        for (int i = 0; i < x.Length; i++) host[i] = rowScale[i / c.Cols] * x[i];
        Tolerance.AssertBitwiseEqual("y vs the host's float product", got, host);
        Tolerance.AssertBitwiseEqual("reference y vs the host's float product", want, host);
        pair.AssertGuardsIntact();
    });

    [Fact]
    public void Row_primitives_reject_bad_arguments_before_writing()
    {
        void Rejects(string param, string fragment, Action<IComputeBackend, ValidationViews> call)
        {
            using var views = new ValidationViews(Backend, CreateBackend);
            var e = Assert.ThrowsAny<ArgumentException>(() => call(Backend, views));
            Assert.Equal(param, e.ParamName);
            Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
            views.AssertUnchanged();
        }
        Rejects("x", "length 11", (b, v) => b.SoftmaxRows(v.F(11), v.F(12), v.F(3), 3, 4));
        Rejects("y", "length 11", (b, v) => b.SoftmaxRows(v.F(12), v.F(11), v.F(3), 3, 4));
        Rejects("logSumExp", "length 2", (b, v) => b.SoftmaxRows(v.F(12), v.F(12), v.F(2), 3, 4));
        Rejects("rows", "", (b, v) => b.SoftmaxRows(v.F(12), v.F(12), v.F(3), -1, 4));
        Rejects("cols", "", (b, v) => b.SoftmaxRows(v.F(12), v.F(12), v.F(3), 3, -4));
        Rejects("y", "y partially overlaps x", (b, v) =>
        {
            var s = v.F(13);
            b.SoftmaxRows(s, s.Slice(1, 12), v.F(3), 3, 4);
        });
        Rejects("logSumExp", "logSumExp overlaps x", (b, v) =>
        {
            var s = v.F(12);
            b.SoftmaxRows(s, v.F(12), s.Slice(9, 3), 3, 4);
        });
        Rejects("logSumExp", "logSumExp overlaps y", (b, v) =>
        {
            var s = v.F(12);
            b.SoftmaxRows(v.F(12), s, s.Slice(0, 3), 3, 4);
        });
        Rejects("x", "different backend", (b, v) => b.SoftmaxRows(v.Foreign(12), v.F(12), default, 3, 4));

        Rejects("rowScale", "length 2", (b, v) => b.ScaleRows(v.F(12), v.F(2), v.F(12), 3, 4));
        Rejects("y", "length 10", (b, v) => b.ScaleRows(v.F(12), v.F(3), v.F(10), 3, 4));
        Rejects("rowScale", "null view", (b, v) => b.ScaleRows(v.F(12), default, v.F(12), 3, 4));
        Rejects("y", "y overlaps rowScale", (b, v) =>
        {
            var s = v.F(15);
            b.ScaleRows(v.F(12), s.Slice(10, 3), s.Slice(0, 12), 3, 4);
        });
        Rejects("y", "y partially overlaps x", (b, v) =>
        {
            var s = v.F(14);
            b.ScaleRows(s.Slice(0, 12), v.F(3), s.Slice(2, 12), 3, 4);
        });
    }

    // ---------------------------------------------------------------- ArgMaxRows

    /// <summary>One arg-max case: the shape and the data's seed.</summary>
    public sealed record ArgMaxCase(int Rows, int Cols, int Seed);

    /// <summary>At most this many elements per case: the interpreted CUDA backend runs every case too.</summary>
    const int ArgMaxMaxElements = 200_000;

    static Gen<ArgMaxCase> ArgMaxCases { get; } =
        from rows in Generators.Rows
        from cols in Gen.Frequency(
            (4, Gen.Choose(1, 65)),                                                    // every vector and warp remainder
            (2, Gen.Elements(new[] { 1, 17, 31, 32, 33, 100, 784, 1000 })),
            (1, Gen.Constant(10_000)))                                                 // a text vocabulary's logits
        from seed in Generators.Seed
        select new ArgMaxCase(Math.Min(rows, ArgMaxMaxElements / cols), cols, seed);

    static IEnumerable<ArgMaxCase> ArgMaxSweep()
    {
        for (int cols = 1; cols <= 70; cols++) yield return new ArgMaxCase(11, cols, 6000 + cols);
        for (int rows = 0; rows <= 20; rows++) yield return new ArgMaxCase(rows, 17, 6100 + rows);
        yield return new ArgMaxCase(0, 0, 6200);
        yield return new ArgMaxCase(64, 10_000, 6201);   // greedy decoding of a batch: split over the CPU pool
        yield return new ArgMaxCase(300, 129, 6202);
    }

    /// <summary>
    /// Rows of ten kinds, drawn per row: uniform values; values rounded to integers (the maximum tied in several columns);
    /// rounded values with a few NaN; uniform values with a few +inf; only -inf; -inf with a few NaN; -inf with a few
    /// finite values; zeros of both signs among negatives; only NaN; and a strict maximum in the last column.
    /// </summary>
    static float[] ArgMaxData(ArgMaxCase c, System.Random rng)
    {
        var x = new float[c.Rows * c.Cols];
        for (int r = 0; r < c.Rows; r++)
        {
            var row = x.AsSpan(r * c.Cols, c.Cols);
            int kind = rng.Next(10);
            for (int j = 0; j < row.Length; j++)
            {
                float u = (float)(rng.NextDouble() * 6 - 3);
                row[j] = kind switch
                {
                    1 or 2 => MathF.Round(u),
                    4 or 5 or 6 => float.NegativeInfinity,
                    7 => rng.Next(3) switch { 0 => 0f, 1 => -0f, _ => -1 - MathF.Abs(u) },
                    8 => float.NaN,
                    _ => u,
                };
            }
            int specials = 1 + rng.Next(3);
            for (int k = 0; k < specials; k++)
            {
                int j = rng.Next(row.Length);
                switch (kind)
                {
                    case 2 or 5: row[j] = float.NaN; break;
                    case 3: row[j] = float.PositiveInfinity; break;
                    case 6: row[j] = (float)(rng.NextDouble() * 6 - 3); break;
                }
            }
            if (kind == 9) row[^1] = 10f;
        }
        return x;
    }

    /// <summary>The rule as the interface states it: the first NaN if the row holds one, else the first column holding the maximum.</summary>
    static int ArgMaxOracle(ReadOnlySpan<float> row)
    {
        for (int j = 0; j < row.Length; j++)
        {
            if (float.IsNaN(row[j])) return j;
        }
        float max = float.NegativeInfinity;
        foreach (float v in row) max = v > max ? v : max;
        for (int j = 0; j < row.Length; j++)
        {
            if (row[j] == max) return j;   // == holds for -0 against +0: zeros of either sign tie
        }
        throw new XunitException("the oracle found no maximum in a row without NaN");
    }

    [Fact]
    public void ArgMaxRows_gives_the_first_column_of_each_rows_maximum_with_nan_largest()
    {
        Sweep(ArgMaxSweep(), CheckArgMax);
        PropertyRunner.Check(ArgMaxCases, CheckArgMax, Cases);
    }

    void CheckArgMax(ArgMaxCase c)
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        float[] x = ArgMaxData(c, rng);
        var tx = pair.Upload(x, extra: rng.Next(3));
        var indices = pair.Upload(Enumerable.Repeat(HostData.IntPoison, c.Rows).ToArray(), extra: rng.Next(3));

        pair.Run((be, s) => be.ArgMaxRows(tx[s], indices[s], c.Rows, c.Cols));

        var (got, want) = pair.Download(indices);
        for (int r = 0; r < c.Rows; r++)
        {
            int expected = ArgMaxOracle(x.AsSpan(r * c.Cols, c.Cols));
            if (got[r] != expected || want[r] != expected)
            {
                string row = string.Join(", ", x.Skip(r * c.Cols).Take(Math.Min(c.Cols, 40)).Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
                throw new XunitException($"row {r}: '{Backend.Name}' gives {got[r]}, the reference {want[r]}, the oracle {expected}; row starts [{row}].");
            }
        }
        pair.AssertGuardsIntact();
    }

    [Fact]
    public void ArgMaxRows_picks_known_columns_for_ties_nan_infinities_and_signed_zeros()
    {
        const int cols = 37;   // more than one warp's lanes and two 16-wide vectors, with a ragged tail
        float nan = float.NaN, inf = float.PositiveInfinity, ninf = float.NegativeInfinity;
        float[] Row(Func<int, float> value) => Enumerable.Range(0, cols).Select(value).ToArray();
        var cases = new (string Name, float[] Row, int Want)[]
        {
            ("one NaN", Row(j => j == 20 ? nan : j), 20),
            ("NaN after the largest number", Row(j => j == 36 ? nan : j == 3 ? 100 : 0), 36),
            ("two NaN: the first", Row(j => j is 33 or 5 ? nan : j), 5),
            ("NaN in the 32-lane tail before one in the body", Row(j => j is 34 ? nan : -j), 34),
            ("two +inf: the first", Row(j => j is 30 or 3 ? inf : j), 3),
            ("+inf beats float.MaxValue", Row(j => j == 9 ? float.MaxValue : j == 18 ? inf : 0), 18),
            ("only -inf", Row(_ => ninf), 0),
            ("-inf and one NaN", Row(j => j == 36 ? nan : ninf), 36),
            ("-inf and one finite value", Row(j => j == 35 ? -1e30f : ninf), 35),
            ("-0 then +0 among negatives: equal", Row(j => j == 2 ? -0f : j == 10 ? 0f : -1), 2),
            ("+0 then -0 among negatives: equal", Row(j => j == 2 ? 0f : j == 10 ? -0f : -1), 2),
            ("three equal maxima", Row(j => j is 7 or 8 or 35 ? 5 : 1), 7),
            ("equal maxima in lanes 31 and 1", Row(j => j is 31 or 33 ? 5 : 1), 31),
            ("the last column", Row(j => j == 36 ? 1 : 0), 36),
            ("the first column", Row(j => -j), 0),
            ("only NaN", Row(_ => nan), 0),
        };
        var x = cases.SelectMany(c => c.Row).ToArray();
        using var pair = NewPair(78);
        var tx = pair.Upload(x);
        var indices = pair.Upload(Enumerable.Repeat(HostData.IntPoison, cases.Length).ToArray());
        pair.Run((be, s) => be.ArgMaxRows(tx[s], indices[s], cases.Length, cols));
        var (got, want) = pair.Download(indices);
        for (int r = 0; r < cases.Length; r++)
        {
            Assert.True(got[r] == cases[r].Want, $"{cases[r].Name}: '{Backend.Name}' gives {got[r]}, want {cases[r].Want}");
            Assert.True(want[r] == cases[r].Want, $"{cases[r].Name}: the reference gives {want[r]}, want {cases[r].Want}");
            Assert.Equal(ArgMaxOracle(cases[r].Row), cases[r].Want);
        }

        // One column: the only column, whatever it holds.
        var single = pair.Upload([nan, ninf, inf, -0f, 2f]);
        var singleIndices = pair.Upload(Enumerable.Repeat(HostData.IntPoison, 5).ToArray());
        pair.Run((be, s) => be.ArgMaxRows(single[s], singleIndices[s], 5, 1));
        var (gotSingle, wantSingle) = pair.Download(singleIndices);
        Assert.All(gotSingle, i => Assert.Equal(0, i));
        Assert.All(wantSingle, i => Assert.Equal(0, i));
        pair.AssertGuardsIntact();
    }

    [Fact]
    public void ArgMaxRows_accepts_indices_just_past_x_in_the_same_buffer_and_writes_nothing_for_no_rows()
    {
        using var buffer = Backend.Allocate(15 * sizeof(float));
        var whole = buffer.AsSpan<float>();
        var x = whole.Slice(0, 12);
        var indices = ValidationViews.IntsOver(whole, 12, 3);   // the bytes right after x's: disjoint
        Backend.Upload<float>([1, 3, 3, 2, -1, -5, -1, -2, 0, float.NaN, 7, 7], x);
        Backend.Upload<int>([-9, -9, -9], indices);
        Backend.ArgMaxRows(x, indices, 3, 4);
        var got = new int[3];
        Backend.Download(indices, got);
        Assert.Equal([1, 0, 1], got);

        Backend.Upload<int>([-9, -9, -9], indices);
        Backend.ArgMaxRows(x, indices, 0, 0);   // no rows need no columns
        Backend.ArgMaxRows(x, indices, 0, 5);
        Backend.Download(indices, got);
        Assert.Equal([-9, -9, -9], got);
    }

    [Fact]
    public void ArgMaxRows_rejects_bad_arguments_before_writing()
    {
        void Rejects(string param, string fragment, Action<IComputeBackend, ValidationViews> call)
        {
            using var views = new ValidationViews(Backend, CreateBackend);
            var e = Assert.ThrowsAny<ArgumentException>(() => call(Backend, views));
            Assert.Equal(param, e.ParamName);
            Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
            views.AssertUnchanged();
        }
        Rejects("x", "length 11", (b, v) => b.ArgMaxRows(v.F(11), v.I(0, 0, 0), 3, 4));
        Rejects("indices", "length 2", (b, v) => b.ArgMaxRows(v.F(12), v.I(0, 0), 3, 4));
        Rejects("rows", "rows = -1", (b, v) => b.ArgMaxRows(v.F(12), v.I(0, 0, 0), -1, 4));
        Rejects("cols", "cols = -4", (b, v) => b.ArgMaxRows(v.F(12), v.I(0, 0, 0), 3, -4));
        Rejects("cols", "cols = 0", (b, v) => b.ArgMaxRows(v.F(12), v.I(0, 0, 0), 3, 0));
        Rejects("indices", "null view", (b, v) => b.ArgMaxRows(v.F(12), default, 3, 4));
        Rejects("x", "different backend", (b, v) => b.ArgMaxRows(v.Foreign(12), v.I(0, 0, 0), 3, 4));
        Rejects("indices", "indices overlaps x", (b, v) =>
        {
            var s = v.F(14);
            b.ArgMaxRows(s.Slice(0, 12), ValidationViews.IntsOver(s, 11, 3), 3, 4);   // the last element of x is indices[0]
        });
        Rejects("indices", "indices overlaps x", (b, v) =>
        {
            var s = v.F(12);
            b.ArgMaxRows(s, ValidationViews.IntsOver(s, 0, 3), 3, 4);   // "in place": not allowed
        });
    }
}
