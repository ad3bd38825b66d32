// Single-precision arithmetic (Kernels/instructions/f32_arith.ptx) against C# models of the PTX ISA rules (9.7.3):
// add/sub/mul/fma in all four rounding modes (exact reference from ExactRounding), .ftz, .sat, min/max with NaN and
// signed zeros, abs/neg/copysign, div.rn/div.rz exact and div.full/div.approx within 2 ulp, rcp, sqrt, rsqrt, testp.
using Xunit;

namespace Vae.PtxInterpreter.Tests.Instructions;

public sealed class Float32ArithmeticTests
{
    private const string File = "f32_arith.ptx";
    private static readonly Rounding[] Modes = [Rounding.Nearest, Rounding.TowardZero, Rounding.Down, Rounding.Up];
    private static readonly string[] ModeNames = ["rn", "rz", "rm", "rp"];

    private static float Pow2(int exponent) => (float)Math.ScaleB(1.0, exponent);

    private static float Flush(float x) => float.IsSubnormal(x) ? (float.IsNegative(x) ? -0f : 0f) : x;

    private static string Ab(float[] a, float[] b, int i) => $"a={Show.F32(a[i])} b={Show.F32(b[i])}";

    private static string Abc(float[] a, float[] b, float[] c, int i) => $"a={Show.F32(a[i])} b={Show.F32(b[i])} c={Show.F32(c[i])}";

    [Fact]
    public void AddSub_EachRoundingModeIsCorrectlyRounded()
    {
        var random = new Random(301);
        var a = new List<float>();
        var b = new List<float>();
        void Add(float x, float y)
        {
            a.Add(x);
            b.Add(y);
        }
        foreach (float x in Inputs.EdgeFloats)
        {
            foreach (float y in Inputs.EdgeFloats)
                Add(x, y);
        }
        // Ties and near-ties, exact cancellation (its zero is -0 only under .rm), overflow past MaxValue.
        Add(1f, Pow2(-24));
        Add(1f + Pow2(-23), Pow2(-24));
        Add(1f, -Pow2(-25));
        Add(-1f, -Pow2(-24) - Pow2(-40));
        Add(1f, -1f);
        Add(-2.5f, 2.5f);
        Add(float.MaxValue, float.MaxValue * Pow2(-24));
        Add(-float.MaxValue, -float.MaxValue * Pow2(-25));
        for (int i = 0; i < 400; i++)
            Add(Inputs.Float(random, -10, 10), Inputs.Float(random, -40, 10));
        for (int i = 0; i < 60; i++)
            Add(Inputs.Float(random, 125, 127), Inputs.Float(random, 120, 127));
        for (int i = 0; i < 60; i++)
            Add(Inputs.Subnormal(random), Inputs.Float(random, -126, -122));
        float[] fa = [.. a];
        float[] fb = [.. b];
        float[][] d = InstructionRunner.RunVariants<float, float, float, float>(File, "f32_add_sub_rounding", 8, fa, fb, fa);

        var check = new Mismatches();
        for (int m = 0; m < 4; m++)
        {
            Rounding mode = Modes[m];
            check.Each($"add.{ModeNames[m]}.f32", d[m], i => Ieee.Add(fa[i], fb[i], mode), Show.SameF32, i => Ab(fa, fb, i), Show.F32);
            check.Each($"sub.{ModeNames[m]}.f32", d[4 + m], i => Ieee.Sub(fa[i], fb[i], mode), Show.SameF32, i => Ab(fa, fb, i), Show.F32);
        }
        check.AssertNone();

        // The inputs must make the modes disagree, otherwise a single rounding mode would pass.
        int differing = Enumerable.Range(0, fa.Length).Count(i => Ieee.Add(fa[i], fb[i], Rounding.Down) != Ieee.Add(fa[i], fb[i], Rounding.Up));
        Assert.True(differing > fa.Length / 4, $"only {differing} of {fa.Length} sums round differently down and up");
    }

    [Fact]
    public void MulFma_EachRoundingModeIsCorrectlyRounded_FmaRoundsOnce()
    {
        var random = new Random(302);
        var a = new List<float>();
        var b = new List<float>();
        var c = new List<float>();
        void Add(float x, float y, float z)
        {
            a.Add(x);
            b.Add(y);
            c.Add(z);
        }
        foreach (float x in Inputs.EdgeFloats)
        {
            foreach (float y in Inputs.EdgeFloats)
                Add(x, y, Inputs.EdgeFloats[random.Next(Inputs.EdgeFloats.Length)]);
        }
        Add(3f, 5f, -15f); // exact zero: +0, or -0 under .rm
        Add(Pow2(-100), Pow2(-60), 0f); // underflow below the smallest subnormal
        Add(-Pow2(-100), Pow2(-60), -0f);
        Add(Pow2(100), Pow2(30), 0f); // overflow
        Add(1.5f * Pow2(-70), 1.25f * Pow2(-70), 0f); // subnormal product
        for (int i = 0; i < 400; i++)
            Add(Inputs.Float(random, -20, 20), Inputs.Float(random, -20, 20), Inputs.Float(random, -45, 25));
        for (int i = 0; i < 150; i++)
        {
            // c cancels the rounded product, so fma returns the rounding error of a*b (only a fused operation gets it).
            float x = Inputs.Float(random, -10, 10);
            float y = Inputs.Float(random, -10, 10);
            Add(x, y, -(x * y));
        }
        float[] fa = [.. a];
        float[] fb = [.. b];
        float[] fc = [.. c];
        float[][] d = InstructionRunner.RunVariants<float, float, float, float>(File, "f32_mul_fma_rounding", 8, fa, fb, fc);

        var check = new Mismatches();
        for (int m = 0; m < 4; m++)
        {
            Rounding mode = Modes[m];
            check.Each($"mul.{ModeNames[m]}.f32", d[m], i => Ieee.Mul(fa[i], fb[i], mode), Show.SameF32, i => Ab(fa, fb, i), Show.F32);
            check.Each($"fma.{ModeNames[m]}.f32", d[4 + m], i => Ieee.Fma(fa[i], fb[i], fc[i], mode), Show.SameF32, i => Abc(fa, fb, fc, i), Show.F32);
        }
        check.AssertNone();

        int differing = Enumerable.Range(0, fa.Length).Count(i => Ieee.Fma(fa[i], fb[i], fc[i], Rounding.TowardZero) != Ieee.Fma(fa[i], fb[i], fc[i], Rounding.Nearest));
        Assert.True(differing > fa.Length / 8, $"only {differing} of {fa.Length} fma results differ between .rz and .rn");
    }

    [Fact]
    public void Ftz_FlushesSubnormalInputsAndResultsToSignPreservingZero_DefaultKeepsThem()
    {
        var random = new Random(303);
        float Pick() => random.Next(3) switch
        {
            0 => Inputs.Subnormal(random),
            1 => Inputs.Float(random, -126, -118),
            _ => Inputs.Float(random, -4, 4),
        };
        float[] a = [1.5f * Pow2(-126), -Pow2(-126), Pow2(-130), -Pow2(-149), .. Inputs.Many(500, Pick)];
        float[] b = [-Pow2(-126), Pow2(-127), 1f, 0.5f, .. Inputs.Many(500, Pick)];
        float[] c = [0f, -0f, Pow2(-140), -Pow2(-126), .. Inputs.Many(500, Pick)];
        float[][] d = InstructionRunner.RunVariants<float, float, float, float>(File, "f32_ftz", 11, a, b, c);

        var check = new Mismatches();
        void Expect(int v, string name, Func<int, float> model)
            => check.Each(name, d[v], model, Show.SameF32, i => Abc(a, b, c, i), Show.F32);
        Expect(0, "add.ftz.f32", i => Flush(Ieee.Add(Flush(a[i]), Flush(b[i]), Rounding.Nearest)));
        Expect(1, "sub.rn.ftz.f32", i => Flush(Ieee.Sub(Flush(a[i]), Flush(b[i]), Rounding.Nearest)));
        Expect(2, "mul.ftz.f32", i => Flush(Ieee.Mul(Flush(a[i]), Flush(b[i]), Rounding.Nearest)));
        Expect(3, "fma.rn.ftz.f32", i => Flush(Ieee.Fma(Flush(a[i]), Flush(b[i]), Flush(c[i]), Rounding.Nearest)));
        Expect(4, "add.f32", i => Ieee.Add(a[i], b[i], Rounding.Nearest));
        Expect(5, "mul.f32", i => Ieee.Mul(a[i], b[i], Rounding.Nearest));
        Expect(6, "fma.rn.f32", i => Ieee.Fma(a[i], b[i], c[i], Rounding.Nearest));
        Expect(7, "abs.ftz.f32", i => Math.Abs(Flush(a[i])));
        Expect(8, "neg.ftz.f32", i => -Flush(a[i]));
        Expect(9, "min.ftz.f32", i => Min(Flush(a[i]), Flush(b[i])));
        Expect(10, "max.ftz.f32", i => Max(Flush(a[i]), Flush(b[i])));
        check.AssertNone();

        Assert.Contains(Enumerable.Range(0, a.Length), i => float.IsSubnormal(Ieee.Mul(a[i], b[i], Rounding.Nearest)));
    }

    [Fact]
    public void Sat_ClampsToZeroOne_NaNBecomesPlusZero()
    {
        var random = new Random(304);
        float[] specials = [0f, -0f, 1f, -1f, 0.5f, 2f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0.999999f];
        (float[] a, float[] b) = Inputs.Pairs(specials, 400, () => Inputs.Float(random, -3, 1));
        float[] c = Inputs.Many(a.Length, () => Inputs.Float(random, -3, 1));
        float[][] d = InstructionRunner.RunVariants<float, float, float, float>(File, "f32_sat", 5, a, b, c);

        // .sat clamps to [0.0, 1.0] and flushes NaN results to +0.0. Whether -0.0 stays -0.0 is not specified, so an
        // unclamped -0.0 result may come back as either zero; everything else is bit-exact.
        var check = new Mismatches();
        void Expect(int v, string name, Func<int, float> unsaturated)
            => check.Each(name, d[v], i => unsaturated(i), (want, got) => SatMatches(want, got), i => Abc(a, b, c, i), Show.F32);
        Expect(0, "add.sat.f32", i => Ieee.Add(a[i], b[i], Rounding.Nearest));
        Expect(1, "sub.sat.f32", i => Ieee.Sub(a[i], b[i], Rounding.Nearest));
        Expect(2, "mul.sat.f32", i => Ieee.Mul(a[i], b[i], Rounding.Nearest));
        Expect(3, "fma.rn.sat.f32", i => Ieee.Fma(a[i], b[i], c[i], Rounding.Nearest));
        Expect(4, "add.rz.sat.f32", i => Ieee.Add(a[i], b[i], Rounding.TowardZero));
        check.AssertNone();
    }

    /// <summary>Compares a .sat result with the saturation of the unsaturated model value.</summary>
    private static bool SatMatches(float unsaturated, float actual)
    {
        if (unsaturated == 0 && float.IsNegative(unsaturated))
            return actual == 0;
        float expected = float.IsNaN(unsaturated) ? 0f : Math.Clamp(unsaturated, 0f, 1f);
        if (expected == 0)
            expected = 0f; // clamping a negative value gives +0.0
        return BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(actual);
    }

    [Fact]
    public void MinMax_ReturnTheNonNaNOperand_AndOrderMinusZeroBelowPlusZero()
    {
        var random = new Random(305);
        (float[] a, float[] b) = Inputs.Pairs(Inputs.EdgeFloats, 300, () => Inputs.Float(random, -5, 5));
        float[][] d = InstructionRunner.RunVariants<float, float, float, float>(File, "f32_minmax_sign", 5, a, b, a);

        var check = new Mismatches();
        check.Each("min.f32", d[0], i => Min(a[i], b[i]), Show.SameF32, i => Ab(a, b, i), Show.F32);
        check.Each("max.f32", d[1], i => Max(a[i], b[i]), Show.SameF32, i => Ab(a, b, i), Show.F32);
        check.AssertNone();
    }

    [Fact]
    public void AbsNegCopysign_ActOnTheSignBit_NaNStaysNaN()
    {
        var random = new Random(306);
        float negativeNaN = BitConverter.UInt32BitsToSingle(0xFFC00001);
        float[] edges = [.. Inputs.EdgeFloats, negativeNaN];
        (float[] a, float[] b) = Inputs.Pairs(edges, 200, () => Inputs.Float(random, -5, 5));
        float[][] d = InstructionRunner.RunVariants<float, float, float, float>(File, "f32_minmax_sign", 5, a, b, a);

        // abs.f32/neg.f32 of NaN give an unspecified NaN; copysign copies the sign bit of a onto b.
        var check = new Mismatches();
        check.Each("abs.f32", d[2], i => Math.Abs(a[i]), Show.SameF32, i => Ab(a, b, i), Show.F32);
        check.Each("neg.f32", d[3], i => -a[i], Show.SameF32, i => Ab(a, b, i), Show.F32);
        check.Each("copysign.f32", d[4],
            i => BitConverter.UInt32BitsToSingle((BitConverter.SingleToUInt32Bits(a[i]) & 0x80000000) | (BitConverter.SingleToUInt32Bits(b[i]) & 0x7FFFFFFF)),
            Show.SameF32, i => Ab(a, b, i), Show.F32);
        check.AssertNone();
    }

    [Fact]
    public void Divide_RnAndRzAreCorrectlyRounded_FullAndApproxWithinTwoUlps()
    {
        var random = new Random(307);
        (float[] edgeA, float[] edgeB) = Inputs.Pairs(Inputs.EdgeFloats, 400, () => Inputs.Float(random, -30, 30));
        float[] a = [.. edgeA, .. Inputs.Many(50, () => Inputs.Float(random, -126, -110))];
        float[] b = [.. edgeB, .. Inputs.Many(50, () => Inputs.Float(random, 10, 30))]; // the last 50 quotients are subnormal
        float[][] d = InstructionRunner.RunVariants<float, float, float, float>(File, "f32_div_rcp_sqrt", 9, a, b, a);

        var check = new Mismatches();
        check.Each("div.rn.f32", d[0], i => (float)((double)a[i] / b[i]), Show.SameF32, i => Ab(a, b, i), Show.F32);
        check.Each("div.rz.f32", d[1], i => DivTowardZero(a[i], b[i]), Show.SameF32, i => Ab(a, b, i), Show.F32);
        for (int i = 0; i < a.Length; i++)
        {
            // Error bounds hold for |b| in [2^-126, 2^126] (div.approx) with a normal, finite quotient.
            double exact = (double)a[i] / b[i];
            bool inRange = float.IsFinite(a[i]) && Math.Abs(b[i]) >= Pow2(-126) && Math.Abs(b[i]) <= Pow2(126)
                && Math.Abs(exact) >= Pow2(-126) && Math.Abs(exact) <= float.MaxValue;
            if (!inRange)
                continue;
            int k = i;
            check.Check(Show.WithinUlpsF32(exact, d[2][k], 2), "div.full.f32", () => $"div.full.f32 [{k}] {Ab(a, b, k)}: exact {exact:R}, got {Show.F32(d[2][k])}");
            check.Check(Show.WithinUlpsF32(exact, d[3][k], 2), "div.approx.f32", () => $"div.approx.f32 [{k}] {Ab(a, b, k)}: exact {exact:R}, got {Show.F32(d[3][k])}");
        }
        check.AssertNone();
    }

    [Fact]
    public void ReciprocalAndSquareRoot_RnExact_ApproxWithinTolerance_SpecialValuesExact()
    {
        var random = new Random(308);
        float[] a =
        [
            .. Inputs.EdgeFloats, 4f, 2f, 0.25f, Pow2(-140), -Pow2(-140), Pow2(-149),
            .. Inputs.Many(300, () => Inputs.Float(random, -100, 100)),
            .. Inputs.Many(50, () => Inputs.Subnormal(random)),
        ];
        float[][] d = InstructionRunner.RunVariants<float, float, float, float>(File, "f32_div_rcp_sqrt", 9, a, a, a);

        var check = new Mismatches();
        string A(int i) => $"a={Show.F32(a[i])}";
        check.Each("rcp.rn.f32", d[4], i => (float)(1.0 / a[i]), Show.SameF32, A, Show.F32);
        check.Each("sqrt.rn.f32", d[6], i => (float)Math.Sqrt(a[i]), Show.SameF32, A, Show.F32);
        for (int i = 0; i < a.Length; i++)
        {
            float x = a[i];
            int k = i;
            bool special = !float.IsFinite(x) || x == 0 || x < 0;
            // rcp.approx: max 1 ulp; special table -Inf -> -0, -0 -> -Inf, +0 -> +Inf, +Inf -> +0, NaN -> NaN.
            double reciprocal = 1.0 / x;
            bool rcpNormal = float.IsNormal(x) && Math.Abs(reciprocal) >= Pow2(-126) && Math.Abs(reciprocal) <= float.MaxValue;
            if (!float.IsFinite(x) || x == 0)
                check.Check(Show.SameF32((float)reciprocal, d[5][k]), "rcp.approx.f32", () => $"rcp.approx.f32 [{k}] {A(k)}: expected {Show.F32((float)reciprocal)}, got {Show.F32(d[5][k])}");
            else if (rcpNormal)
                check.Check(Show.WithinUlpsF32(reciprocal, d[5][k], 1), "rcp.approx.f32", () => $"rcp.approx.f32 [{k}] {A(k)}: exact {reciprocal:R}, got {Show.F32(d[5][k])}");
            // sqrt.approx: relative error 2^-23 (within 2 ulps here); -x -> NaN, -0 -> -0, +Inf -> +Inf.
            double root = Math.Sqrt(x);
            if (special)
                check.Check(Show.SameF32((float)root, d[7][k]), "sqrt.approx.f32", () => $"sqrt.approx.f32 [{k}] {A(k)}: expected {Show.F32((float)root)}, got {Show.F32(d[7][k])}");
            else
                check.Check(Show.WithinUlpsF32(root, d[7][k], 2), "sqrt.approx.f32", () => $"sqrt.approx.f32 [{k}] {A(k)}: exact {root:R}, got {Show.F32(d[7][k])}");
            // rsqrt.approx: relative error 2^-22.9; -x -> NaN, -0 -> -Inf, +0 -> +Inf, +Inf -> +0.
            double rsqrt = x == 0 ? (float.IsNegative(x) ? double.NegativeInfinity : double.PositiveInfinity) : 1.0 / Math.Sqrt(x);
            if (special)
                check.Check(Show.SameF32((float)rsqrt, d[8][k]), "rsqrt.approx.f32", () => $"rsqrt.approx.f32 [{k}] {A(k)}: expected {Show.F32((float)rsqrt)}, got {Show.F32(d[8][k])}");
            else
                check.Check(Show.WithinUlpsF32(rsqrt, d[8][k], 2), "rsqrt.approx.f32", () => $"rsqrt.approx.f32 [{k}] {A(k)}: exact {rsqrt:R}, got {Show.F32(d[8][k])}");
        }
        check.AssertNone();
    }

    [Fact]
    public void Testp_ClassifiesValues_ZeroCountsAsNormal()
    {
        var random = new Random(309);
        float[] a =
        [
            .. Inputs.EdgeFloats,
            .. Inputs.Many(100, () => Inputs.Float(random, -126, 127)),
            .. Inputs.Many(50, () => Inputs.Subnormal(random)),
            BitConverter.UInt32BitsToSingle(0x7F800001), BitConverter.UInt32BitsToSingle(0xFFFFFFFF),
        ];
        uint[][] d = InstructionRunner.RunVariants<float, float, float, uint>(File, "f32_testp", 6, a, a, a);

        // "As a special case, positive and negative zero are considered normal numbers."
        var check = new Mismatches();
        void Expect(int v, string name, Func<float, bool> model)
            => check.Each(name, d[v], i => model(a[i]) ? 1u : 0u, (x, y) => x == y, i => $"a={Show.F32(a[i])}", Show.U32);
        Expect(0, "testp.finite.f32", float.IsFinite);
        Expect(1, "testp.infinite.f32", float.IsInfinity);
        Expect(2, "testp.number.f32", x => !float.IsNaN(x));
        Expect(3, "testp.notanumber.f32", float.IsNaN);
        Expect(4, "testp.normal.f32", x => float.IsNormal(x) || x == 0);
        Expect(5, "testp.subnormal.f32", float.IsSubnormal);
        check.AssertNone();
    }

    /// <summary>PTX min.f32: a NaN operand yields the other operand; -0.0 is below +0.0.</summary>
    internal static float Min(float x, float y)
    {
        if (float.IsNaN(x))
            return y;
        if (float.IsNaN(y))
            return x;
        if (x == 0 && y == 0)
            return float.IsNegative(x) ? x : y;
        return x < y ? x : y;
    }

    /// <summary>PTX max.f32: a NaN operand yields the other operand; +0.0 is above -0.0.</summary>
    internal static float Max(float x, float y)
    {
        if (float.IsNaN(x))
            return y;
        if (float.IsNaN(y))
            return x;
        if (x == 0 && y == 0)
            return float.IsNegative(x) ? y : x;
        return x > y ? x : y;
    }

    /// <summary>div.rz.f32: the correctly rounded quotient, stepped toward zero when rounding to nearest went away from zero.</summary>
    private static float DivTowardZero(float a, float b)
    {
        float nearest = (float)((double)a / b);
        if (!float.IsFinite(a) || !float.IsFinite(b) || a == 0 || b == 0)
            return nearest;
        if (float.IsInfinity(nearest))
            return float.IsNegative(nearest) ? -float.MaxValue : float.MaxValue;
        // sign(a/b - nearest) = sign(a - nearest*b) * sign(b), computed exactly.
        Dyadic residual = Dyadic.FromDouble(a) - (Dyadic.FromDouble(nearest) * Dyadic.FromDouble(b));
        int above = residual.Sign * Math.Sign(b);
        if (above < 0 && nearest > 0)
            return MathF.BitDecrement(nearest);
        if (above > 0 && nearest < 0)
            return MathF.BitIncrement(nearest);
        return nearest;
    }
}
