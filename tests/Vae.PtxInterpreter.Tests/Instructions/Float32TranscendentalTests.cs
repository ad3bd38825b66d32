// The .approx transcendental instructions (f32_approx in Kernels/instructions/f32_arith.ptx): ex2, lg2, sin, cos,
// tanh. The interpreter computes them accurately, so finite results are compared with double-precision math within
// 2 f32 ulps (real GPUs are looser: the ISA allows 2 ulp for ex2, 2^-22 for lg2, 2^-20.5 absolute for sin/cos on
// [-2pi, 2pi], 2^-11 relative for tanh). The special-value tables of the ISA are checked bit-exactly.
using Xunit;

namespace Vae.PtxInterpreter.Tests.Instructions;

public sealed class Float32TranscendentalTests
{
    private const string File = "f32_arith.ptx";
    private const double Ulps = 2;

    private static float[][] Run(float[] a) => InstructionRunner.RunVariants<float, float, float, float>(File, "f32_approx", 5, a, a, a);

    /// <summary>Special inputs (infinities, NaN, zeros) must give the table value exactly; others within <see cref="Ulps"/>.</summary>
    private static void Expect(Mismatches check, string name, float[] a, float[] actual, Func<double, double> exact)
    {
        for (int i = 0; i < a.Length; i++)
        {
            float x = a[i];
            double want = exact(x);
            float got = actual[i];
            bool special = !float.IsFinite(x) || x == 0 || want == 0;
            bool ok = special ? Show.SameF32((float)want, got) : Show.WithinUlpsF32(want, got, Ulps);
            int k = i;
            check.Check(ok, name, () => $"{name} [{k}] a={Show.F32(x)}: exact {want:R}, got {Show.F32(got)}");
        }
    }

    [Fact]
    public void Ex2AndLg2_MatchDoublePrecision_AndTheSpecialValueTables()
    {
        var random = new Random(401);
        float[] ex2Inputs =
        [
            float.NegativeInfinity, float.PositiveInfinity, float.NaN, 0f, -0f, 1f, 3f, -1f, 10f, -126f, -149f, -149.5f, 127f,
            .. Inputs.Many(300, () => (float)((random.NextDouble() * 277) - 149.5)),
            .. Inputs.Many(50, () => Inputs.Float(random, -30, 0)),
        ];
        float[] lg2Inputs =
        [
            float.NegativeInfinity, -1f, -0f, 0f, float.PositiveInfinity, float.NaN, 1f, 2f, 0.5f, 1024f, float.Epsilon,
            BitConverter.UInt32BitsToSingle(0x3F800001), BitConverter.UInt32BitsToSingle(0x3F7FFFFF),
            .. Inputs.Many(300, () => Math.Abs(Inputs.Float(random, -126, 127))),
            .. Inputs.Many(40, () => Math.Abs(Inputs.Subnormal(random))),
            .. Inputs.Many(40, () => (float)(0.5 + random.NextDouble() * 1.5)),
        ];
        float[][] ex2 = Run(ex2Inputs);
        float[][] lg2 = Run(lg2Inputs);

        // ex2: -Inf -> +0, +-0 -> 1, +Inf -> +Inf, NaN -> NaN.  lg2: -x -> NaN, +-0 -> -Inf, +Inf -> +Inf, NaN -> NaN.
        var check = new Mismatches();
        Expect(check, "ex2.approx.f32", ex2Inputs, ex2[0], x => Math.Pow(2, x));
        Expect(check, "lg2.approx.f32", lg2Inputs, lg2[1], x => x == 0 ? double.NegativeInfinity : Math.Log2(x));
        check.AssertNone();
    }

    [Fact]
    public void SinAndCos_MatchDoublePrecisionOverMinus100PiTo100Pi_AndTheSpecialValueTables()
    {
        var random = new Random(402);
        float[] a =
        [
            float.NegativeInfinity, float.PositiveInfinity, float.NaN, 0f, -0f, MathF.PI, -MathF.PI, MathF.PI / 2, 1e-3f, -1e-20f,
            float.Epsilon, 100f * MathF.PI, -100f * MathF.PI,
            .. Inputs.Many(300, () => (float)((random.NextDouble() * 2 - 1) * 100 * Math.PI)),
            .. Inputs.Many(80, () => (float)((random.NextDouble() * 2 - 1) * 2 * Math.PI)),
            .. Inputs.Many(40, () => Inputs.Float(random, -40, -2)),
        ];
        float[][] d = Run(a);

        // sin: +-Inf -> NaN, -0 -> -0, +0 -> +0.  cos: +-Inf -> NaN, +-0 -> +1.
        var check = new Mismatches();
        Expect(check, "sin.approx.f32", a, d[2], Math.Sin);
        Expect(check, "cos.approx.f32", a, d[3], Math.Cos);
        check.AssertNone();
    }

    [Fact]
    public void Tanh_MatchesDoublePrecision_SaturatesToPlusMinusOne_PassesSubnormalsThrough()
    {
        var random = new Random(403);
        float[] a =
        [
            float.NegativeInfinity, float.PositiveInfinity, float.NaN, 0f, -0f, 1f, -1f, 10f, -20f, 1e-10f,
            .. Inputs.Many(300, () => (float)((random.NextDouble() * 2 - 1) * 12)),
            .. Inputs.Many(40, () => Inputs.Float(random, -60, -1)),
            .. Inputs.Many(20, () => Inputs.Subnormal(random)),
        ];
        float[][] d = Run(a);

        // -Inf -> -1, -0 -> -0, +0 -> +0, +Inf -> +1, NaN -> NaN; subnormal inputs come back unchanged (tanh x ~ x).
        var check = new Mismatches();
        Expect(check, "tanh.approx.f32", a, d[4], Math.Tanh);
        check.AssertNone();
    }
}
