// Double-precision instructions and f32 <-> f64 conversions (Kernels/instructions/f64_arith.ptx): add/sub/mul/fma in
// all four rounding modes (exact reference; directed fma.f64 is in f64_fma_directed.ptx), div.rn, sqrt.rn, rcp.rn, min/max, abs/neg (abs.f64 passes NaN through
// unchanged), cvt.{rn,rz,rm,rp}.f32.f64 and the exact cvt.f64.f32.
using Xunit;

namespace Vae.PtxInterpreter.Tests.Instructions;

public sealed class Float64Tests
{
    private const string File = "f64_arith.ptx";
    private static readonly Rounding[] Modes = [Rounding.Nearest, Rounding.TowardZero, Rounding.Down, Rounding.Up];
    private static readonly string[] ModeNames = ["rn", "rz", "rm", "rp"];

    private static readonly double[] EdgeDoubles =
    [
        0.0, -0.0, 1.0, -1.0, 0.5, 3.0, 0.1, double.MaxValue, -double.MaxValue, double.Epsilon, -double.Epsilon,
        2.2250738585072014E-308, double.PositiveInfinity, double.NegativeInfinity, double.NaN, 1.0 + Math.ScaleB(1.0, -52),
        9007199254740992.0, BitConverter.UInt64BitsToDouble(0xFFF8000000000001),
    ];

    private static (double[] A, double[] B, double[] C) ArithmeticInputs()
    {
        var random = new Random(501);
        var a = new List<double>();
        var b = new List<double>();
        var c = new List<double>();
        void Add(double x, double y, double z)
        {
            a.Add(x);
            b.Add(y);
            c.Add(z);
        }
        foreach (double x in EdgeDoubles)
        {
            foreach (double y in EdgeDoubles)
                Add(x, y, EdgeDoubles[random.Next(EdgeDoubles.Length)]);
        }
        Add(1.0, Math.ScaleB(1.0, -53), 0); // tie
        Add(1.0, -1.0, 0); // exact cancellation
        Add(3.0, 5.0, -15.0); // exact fma zero
        for (int i = 0; i < 400; i++)
            Add(Inputs.Double(random, -30, 30), Inputs.Double(random, -80, 30), Inputs.Double(random, -120, 60));
        for (int i = 0; i < 60; i++)
            Add(Inputs.Double(random, 1018, 1023), Inputs.Double(random, 1015, 1023), Inputs.Double(random, 1000, 1023));
        for (int i = 0; i < 60; i++)
            Add(Inputs.Double(random, -600, -500), Inputs.Double(random, -560, -480), Inputs.Double(random, -1074, -1030));
        for (int i = 0; i < 100; i++)
        {
            double x = Inputs.Double(random, -10, 10);
            double y = Inputs.Double(random, -10, 10);
            Add(x, y, -(x * y)); // fma returns the rounding error of x*y
        }
        return ([.. a], [.. b], [.. c]);
    }

    private static string Abc(double[] a, double[] b, double[] c, int i) => $"a={Show.F64(a[i])} b={Show.F64(b[i])} c={Show.F64(c[i])}";

    [Fact]
    public void AddSubMul_EachRoundingModeIsCorrectlyRounded()
    {
        (double[] a, double[] b, double[] c) = ArithmeticInputs();
        double[][] d = InstructionRunner.RunVariants<double, double, double, double>(File, "f64_arith", 13, a, b, c);

        var check = new Mismatches();
        for (int m = 0; m < 4; m++)
        {
            Rounding mode = Modes[m];
            check.Each($"add.{ModeNames[m]}.f64", d[m], i => Ieee.Add(a[i], b[i], BinaryFormat.Double, mode), Show.SameF64, i => Abc(a, b, c, i), Show.F64);
            check.Each($"mul.{ModeNames[m]}.f64", d[5 + m], i => Ieee.Mul(a[i], b[i], BinaryFormat.Double, mode), Show.SameF64, i => Abc(a, b, c, i), Show.F64);
        }
        check.Each("sub.rn.f64", d[4], i => a[i] - b[i], Show.SameF64, i => Abc(a, b, c, i), Show.F64);
        check.AssertNone();
    }

    [Fact]
    public void FmaRnDivSqrtRcp_AreCorrectlyRounded()
    {
        (double[] a, double[] b, double[] c) = ArithmeticInputs();
        double[][] d = InstructionRunner.RunVariants<double, double, double, double>(File, "f64_arith", 13, a, b, c);

        var check = new Mismatches();
        check.Each("fma.rn.f64", d[9], i => Ieee.Fma(a[i], b[i], c[i], BinaryFormat.Double, Rounding.Nearest), Show.SameF64, i => Abc(a, b, c, i), Show.F64);
        check.Each("div.rn.f64", d[10], i => a[i] / b[i], Show.SameF64, i => Abc(a, b, c, i), Show.F64);
        check.Each("sqrt.rn.f64", d[11], i => Math.Sqrt(a[i]), Show.SameF64, i => Abc(a, b, c, i), Show.F64);
        check.Each("rcp.rn.f64", d[12], i => 1.0 / a[i], Show.SameF64, i => Abc(a, b, c, i), Show.F64);
        check.AssertNone();
    }

    [Fact]
    public void FmaDirected_EachRoundingModeIsCorrectlyRounded()
    {
        (double[] a, double[] b, double[] c) = ArithmeticInputs();
        double[][] d = InstructionRunner.RunVariants<double, double, double, double>("f64_fma_directed.ptx", "f64_fma_directed", 3, a, b, c);

        var check = new Mismatches();
        for (int m = 1; m < 4; m++)
        {
            Rounding mode = Modes[m];
            check.Each($"fma.{ModeNames[m]}.f64", d[m - 1], i => Ieee.Fma(a[i], b[i], c[i], BinaryFormat.Double, mode), Show.SameF64, i => Abc(a, b, c, i), Show.F64);
        }
        check.AssertNone();
    }

    [Fact]
    public void MinMaxAbsNeg64_NaNAndSignedZeroRules_AbsPassesNaNThroughUnchanged()
    {
        var random = new Random(502);
        (double[] a, double[] b) = Inputs.Pairs(EdgeDoubles, 200, () => Inputs.Double(random, -5, 5));
        double[][] d = InstructionRunner.RunVariants<double, double, double, double>(File, "f64_minmax_abs_neg", 4, a, b, a);

        var check = new Mismatches();
        string Ab(int i) => $"a={Show.F64(a[i])} b={Show.F64(b[i])}";
        check.Each("min.f64", d[0], i => Min(a[i], b[i]), Show.SameF64, Ab, Show.F64);
        check.Each("max.f64", d[1], i => Max(a[i], b[i]), Show.SameF64, Ab, Show.F64);
        // "For abs.f64, NaN input is passed through unchanged" (bit for bit, sign included).
        check.Each("abs.f64", d[2], i => double.IsNaN(a[i]) ? a[i] : Math.Abs(a[i]),
            (want, got) => BitConverter.DoubleToUInt64Bits(want) == BitConverter.DoubleToUInt64Bits(got), Ab, Show.F64);
        check.Each("neg.f64", d[3], i => -a[i], Show.SameF64, Ab, Show.F64);
        check.AssertNone();
    }

    [Fact]
    public void CvtF64ToF32_EachRoundingModeIsCorrectlyRounded_IncludingOverflowAndUnderflow()
    {
        var random = new Random(503);
        double[] a =
        [
            .. EdgeDoubles, 1.0 + Math.ScaleB(1.0, -24), 1.0 + Math.ScaleB(1.0, -24) + Math.ScaleB(1.0, -60), -(1.0 + Math.ScaleB(3.0, -24)),
            1e39, -1e39, 1e-50, -1e-50, (double)float.MaxValue, Math.ScaleB(1.0, -149), Math.ScaleB(1.0, -150), Math.ScaleB(3.0, -151),
            .. Inputs.Many(400, () => Inputs.Double(random, -160, 130)),
            .. Inputs.Many(100, () => Inputs.Double(random, -20, 20)),
        ];
        float[][] d = InstructionRunner.RunVariants<double, double, double, float>(File, "cvt_f64_to_f32", 4, a, a, a);

        var check = new Mismatches();
        for (int m = 0; m < 4; m++)
        {
            Rounding mode = Modes[m];
            check.Each($"cvt.{ModeNames[m]}.f32.f64", d[m], i => (float)Ieee.Convert(a[i], BinaryFormat.Single, mode), Show.SameF32,
                i => $"a={Show.F64(a[i])}", Show.F32);
        }
        check.AssertNone();
    }

    [Fact]
    public void CvtF32ToF64_IsExact_KeepsSubnormalsAndSignedZeros()
    {
        var random = new Random(504);
        float[] a =
        [
            .. Inputs.EdgeFloats,
            .. Inputs.Many(200, () => Inputs.Float(random, -126, 127)),
            .. Inputs.Many(50, () => Inputs.Subnormal(random)),
        ];
        double[][] d = InstructionRunner.RunVariants<float, float, float, double>(File, "cvt_f32_to_f64", 1, a, a, a);

        var check = new Mismatches();
        check.Each("cvt.f64.f32", d[0], i => (double)a[i], Show.SameF64, i => $"a={Show.F32(a[i])}", Show.F64);
        check.AssertNone();
    }

    private static double Min(double x, double y)
    {
        if (double.IsNaN(x))
            return double.IsNaN(y) ? double.NaN : y;
        if (double.IsNaN(y))
            return x;
        if (x == 0 && y == 0)
            return double.IsNegative(x) ? x : y;
        return x < y ? x : y;
    }

    private static double Max(double x, double y)
    {
        if (double.IsNaN(x))
            return double.IsNaN(y) ? double.NaN : y;
        if (double.IsNaN(y))
            return x;
        if (x == 0 && y == 0)
            return double.IsNegative(x) ? y : x;
        return x > y ? x : y;
    }
}
