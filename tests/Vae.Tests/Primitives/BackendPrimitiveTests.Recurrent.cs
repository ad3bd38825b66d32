// The LSTM cell's time step, forward and backward, against the reference, over random shapes with and without the
// mask (lengths and step), with and without the strided output y / its gradient dy, out of place and in place. Padding
// rows must pass their state (and its gradients) through bit for bit and write exact zeros; the columns between the
// rows of a strided y must stay untouched (they start as poison), and a kernel that read the gaps of dy would get the
// poison NaN into its results.
// Tolerances: activated gates as transcendental functions; c, h and the gradients, whose values are O(1) products of a
// few O(1) terms, within 4e-6 (1 + the magnitude of the terms they add) + 4e-5 |want|.
using FsCheck;
using FsCheck.Fluent;
using Vae.Tests.Support;
using Xunit;
using Xunit.Sdk;

namespace Vae.Tests.Primitives;

public abstract partial class BackendPrimitiveTests
{
    public sealed record LstmCellCase(int Rows, int Hidden, bool Masked, bool Strided, int Gap, bool InPlace, int Step, int Seed);

    /// <summary>Hidden sizes: every vector remainder, the chunk size of the CPU backward (256) and one above it.</summary>
    static Gen<int> LstmHidden { get; } = Gen.Frequency(
        (8, Gen.Choose(0, 40)),
        (2, Gen.Elements(new[] { 64, 100, 129, 256, 300 })));

    static Gen<LstmCellCase> LstmCellCases { get; } =
        from rows in Gen.Frequency((6, Gen.Choose(0, 9)), (2, Gen.Elements(new[] { 16, 33, 64 })))
        from hidden in LstmHidden
        from masked in Generators.Bool
        from strided in Generators.Bool
        from gap in Gen.Choose(0, 5)
        from inPlace in Generators.Bool
        from step in Gen.Choose(0, 4)
        from seed in Generators.Seed
        select new LstmCellCase(rows, rows * hidden > 20_000 ? 20_000 / Math.Max(rows, 1) : hidden, masked, strided, gap, inPlace, step, seed);

    static IEnumerable<LstmCellCase> LstmCellSweep()
    {
        // Every hidden remainder with a few rows, masked and strided half of the time each.
        for (int hidden = 0; hidden <= 33; hidden++)
            yield return new LstmCellCase(3, hidden, hidden % 2 == 0, hidden % 3 != 0, hidden % 4, hidden % 5 == 0, 2, 5000 + hidden);
        yield return new LstmCellCase(0, 7, true, true, 2, false, 0, 5100);
        yield return new LstmCellCase(64, 256, true, true, 256, true, 3, 5101);   // a bidirectional layer's step
    }

    static void CheckLstmCell(Action<LstmCellCase> body)
    {
        Sweep(LstmCellSweep(), body);
        PropertyRunner.Check(LstmCellCases, body, Cases);
    }

    /// <summary>Lengths in [0, 5] (so any step from 0 to 4 has both valid and padding rows), or no mask.</summary>
    static int[]? LstmLengths(LstmCellCase c, System.Random rng)
    {
        if (!c.Masked) return null;
        var lengths = new int[c.Rows];
        for (int r = 0; r < c.Rows; r++) lengths[r] = rng.Next(6);
        if (c.Rows > 0) lengths[0] = -1;   // a negative length is padding at every step
        return lengths;
    }

    static bool TakesStep(int[]? lengths, int r, int step) => lengths is null || step < lengths[r];

    static int Extent(int rows, int hidden, int stride) => rows == 0 ? 0 : (rows - 1) * stride + hidden;

    /// <summary>The (rows, hidden) values of a strided view's data, and a check that every gap element kept its poison bits.</summary>
    static float[] StridedRows(float[] strided, int rows, int hidden, int stride, string what)
    {
        var dense = new float[rows * hidden];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < hidden; j++) dense[r * hidden + j] = strided[r * stride + j];
            for (int j = hidden; j < stride && r * stride + j < strided.Length; j++)
            {
                if (BitConverter.SingleToInt32Bits(strided[r * stride + j]) != BitConverter.SingleToInt32Bits(HostData.Poison))
                    throw new XunitException($"{what}: gap element {r * stride + j} (row {r}, column {j} of stride {stride}) was written: {strided[r * stride + j]}.");
            }
        }
        return dense;
    }

    [Fact]
    public void LstmCellForward_matches_reference() => CheckLstmCell(c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        int n = c.Rows * c.Hidden, stride = c.Hidden + c.Gap;
        float[] gates = HostData.WithSpecials(rng, 4 * n, -6, 6, [0f, 40f, -40f, 1e-3f, -100f], 0.05);
        float[] cPrev = HostData.Uniform(rng, n, -3, 3), hPrev = HostData.Uniform(rng, n, -1, 1);
        int[]? lengths = LstmLengths(c, rng);
        var tGates = pair.Upload(gates, extra: rng.Next(3));
        var tcPrev = pair.Upload(cPrev, extra: rng.Next(3));
        var thPrev = pair.Upload(hPrev, extra: rng.Next(3));
        var tLengths = lengths is null ? default : pair.Upload(lengths, extra: rng.Next(3));
        var activated = c.InPlace ? tGates : pair.Output(4 * n, extra: rng.Next(3));
        var tc = pair.Output(n, extra: rng.Next(3));
        var th = pair.Output(n, extra: rng.Next(3));
        var y = c.Strided ? pair.Output(Extent(c.Rows, c.Hidden, stride), extra: rng.Next(3)) : default;

        pair.Run((be, s) => be.LstmCellForward(tGates[s], tcPrev[s], thPrev[s], lengths is null ? default : tLengths[s],
            activated[s], tc[s], th[s], c.Strided ? y[s] : default, c.Rows, c.Hidden, stride, c.Step));

        var (gotA, wantA) = pair.Download(activated);
        var (gotC, wantC) = pair.Download(tc);
        var (gotH, wantH) = pair.Download(th);
        Tolerance.AssertClose("activated", gotA, wantA, Tolerance.TranscendentalAbs, Tolerance.TranscendentalRel);
        var bound = new double[n];
        for (int i = 0; i < n; i++) bound[i] = 4e-6 * (1 + Math.Abs(cPrev[i])) + 4e-5 * Math.Abs(wantC[i]);
        Tolerance.AssertWithin("c", gotC, wantC, bound);
        Tolerance.AssertClose("h", gotH, wantH, 4e-6, 4e-5);
        float[]? gotY = null;
        if (c.Strided)
        {
            var (gotStrided, wantStrided) = pair.Download(y);
            gotY = StridedRows(gotStrided, c.Rows, c.Hidden, stride, "y");
            Tolerance.AssertBitwiseEqual("y vs h", gotY, ApplyMask(gotH, lengths, c));
            Tolerance.AssertBitwiseEqual("reference y vs h", StridedRows(wantStrided, c.Rows, c.Hidden, stride, "reference y"), ApplyMask(wantH, lengths, c));
        }
        // Padding rows: the state passes through bit for bit, activated and y are exact zeros.
        for (int r = 0; r < c.Rows; r++)
        {
            if (TakesStep(lengths, r, c.Step)) continue;
            Tolerance.AssertBitwiseEqual($"c of padding row {r}", gotC.AsSpan(r * c.Hidden, c.Hidden), cPrev.AsSpan(r * c.Hidden, c.Hidden));
            Tolerance.AssertBitwiseEqual($"h of padding row {r}", gotH.AsSpan(r * c.Hidden, c.Hidden), hPrev.AsSpan(r * c.Hidden, c.Hidden));
            Tolerance.AssertBitwiseEqual($"activated of padding row {r}", gotA.AsSpan(r * 4 * c.Hidden, 4 * c.Hidden), new float[4 * c.Hidden]);
        }
        pair.AssertGuardsIntact();
    });

    /// <summary>h with the padding rows zeroed: what y must hold.</summary>
    static float[] ApplyMask(float[] h, int[]? lengths, LstmCellCase c)
    {
        var masked = (float[])h.Clone();
        for (int r = 0; r < c.Rows; r++)
            if (!TakesStep(lengths, r, c.Step)) masked.AsSpan(r * c.Hidden, c.Hidden).Clear();
        return masked;
    }

    [Fact]
    public void LstmCellBackward_matches_reference() => CheckLstmCell(c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        int n = c.Rows * c.Hidden, stride = c.Hidden + c.Gap, h = c.Hidden;
        // Activated gates as the forward makes them: i, f, o in (0, 1), g in (-1, 1).
        var activatedValues = new float[4 * n];
        for (int r = 0; r < c.Rows; r++)
            for (int j = 0; j < h; j++)
            {
                int at = r * 4 * h + j;
                activatedValues[at] = rng.NextSingle();
                activatedValues[at + h] = rng.NextSingle();
                activatedValues[at + 2 * h] = 2 * rng.NextSingle() - 1;
                activatedValues[at + 3 * h] = rng.NextSingle();
            }
        float[] cPrev = HostData.Uniform(rng, n, -3, 3), cValues = HostData.Uniform(rng, n, -3, 3);
        float[] dhNext = HostData.Uniform(rng, n, -2, 2), dcNext = HostData.Uniform(rng, n, -2, 2);
        float[] dyDense = HostData.Uniform(rng, n, -2, 2);
        var dyStrided = HostData.Filled(Extent(c.Rows, h, stride), HostData.Poison);
        for (int r = 0; r < c.Rows; r++) dyDense.AsSpan(r * h, h).CopyTo(dyStrided.AsSpan(r * stride));
        int[]? lengths = LstmLengths(c, rng);
        var tActivated = pair.Upload(activatedValues, extra: rng.Next(3));
        var tcPrev = pair.Upload(cPrev, extra: rng.Next(3));
        var tc = pair.Upload(cValues, extra: rng.Next(3));
        var tLengths = lengths is null ? default : pair.Upload(lengths, extra: rng.Next(3));
        var tdy = c.Strided ? pair.Upload(dyStrided, extra: rng.Next(3)) : default;
        var tdhNext = pair.Upload(dhNext, extra: rng.Next(3));
        var tdcNext = pair.Upload(dcNext, extra: rng.Next(3));
        var dGates = c.InPlace ? tActivated : pair.Output(4 * n, extra: rng.Next(3));
        var dhPrev = c.InPlace ? tdhNext : pair.Output(n, extra: rng.Next(3));
        var dcPrev = c.InPlace ? tdcNext : pair.Output(n, extra: rng.Next(3));

        pair.Run((be, s) => be.LstmCellBackward(tActivated[s], tcPrev[s], tc[s], lengths is null ? default : tLengths[s],
            c.Strided ? tdy[s] : default, tdhNext[s], tdcNext[s], dGates[s], dhPrev[s], dcPrev[s], c.Rows, h, stride, c.Step));

        var (gotG, wantG) = pair.Download(dGates);
        var (gotDh, wantDh) = pair.Download(dhPrev);
        var (gotDc, wantDc) = pair.Download(dcPrev);
        var boundG = new double[4 * n];
        var boundC = new double[n];
        for (int r = 0; r < c.Rows; r++)
            for (int j = 0; j < h; j++)
            {
                int s = r * h + j;
                double terms = 1 + Math.Abs(dcNext[s]) + Math.Abs(dhNext[s]) + (c.Strided ? Math.Abs(dyDense[s]) : 0);
                boundC[s] = 4e-6 * terms + 4e-5 * Math.Abs(wantDc[s]);
                for (int k = 0; k < 4; k++) boundG[r * 4 * h + k * h + j] = 4e-6 * terms * (1 + Math.Abs(cPrev[s])) + 4e-5 * Math.Abs(wantG[r * 4 * h + k * h + j]);
            }
        Tolerance.AssertWithin("dGates", gotG, wantG, boundG);
        Tolerance.AssertWithin("dcPrev", gotDc, wantDc, boundC);
        for (int r = 0; r < c.Rows; r++)
        {
            var rowDh = gotDh.AsSpan(r * h, h);
            if (TakesStep(lengths, r, c.Step))
            {
                Tolerance.AssertBitwiseEqual($"dhPrev of row {r} (the caller adds dGates W_hh)", rowDh, new float[h]);
                continue;
            }
            Tolerance.AssertBitwiseEqual($"dhPrev of padding row {r}", rowDh, dhNext.AsSpan(r * h, h));
            Tolerance.AssertBitwiseEqual($"dcPrev of padding row {r}", gotDc.AsSpan(r * h, h), dcNext.AsSpan(r * h, h));
            Tolerance.AssertBitwiseEqual($"dGates of padding row {r}", gotG.AsSpan(r * 4 * h, 4 * h), new float[4 * h]);
        }
        Tolerance.AssertBitwiseEqual("dhPrev vs reference", gotDh, wantDh);
        pair.AssertGuardsIntact();
    });
}
