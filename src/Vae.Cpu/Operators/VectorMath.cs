// Numerically stable building blocks shared by the activation and loss operators, one overload per width:
// exp (float range reduction and polynomial, about twice as fast as the runtime's Vector*.Exp, which works in
// double), log1p on [0, 1] (atanh series, no cancellation), sigmoid without overflow, and softplus's log1p(exp(-|x|)).
// The scalar overloads use MathF.Exp / MathF.Log; all agree to a few ulps.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Vae.Cpu.Operators;

internal static class VectorMath
{
    // ------------------------------------------------------------------------------------------------ exp

    const float Log2E = 1.44269504f;
    const float Ln2Hi = 0.693145752f;      // ln 2 with trailing zero bits: n * Ln2Hi is exact for |n| < 512
    const float Ln2Lo = 1.42860677e-06f;   // ln 2 - Ln2Hi
    const float ExpLowest = -150f;         // exp(-150) rounds to 0; the clamp keeps n small enough for the scaling
    const float ExpHighest = 150f;         // exp(150) overflows to infinity

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x) => MathF.Exp(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> x)
    {
        // exp(x) = 2^n e^r with n = round(x / ln 2) and r = x - n ln 2 in [-ln 2 / 2, ln 2 / 2] (ln 2 split in two).
        x = Vector128.Min(Vector128.Max(x, Vector128.Create(ExpLowest)), Vector128.Create(ExpHighest));
        var n = Vector128.Round(x * Log2E);
        var r = Vector128.FusedMultiplyAdd(n, Vector128.Create(-Ln2Hi), x);
        r = Vector128.FusedMultiplyAdd(n, Vector128.Create(-Ln2Lo), r);
        var p = Vector128.FusedMultiplyAdd(r, Vector128.Create(1f / 5040f), Vector128.Create(1f / 720f));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(1f / 120f));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(1f / 24f));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(1f / 6f));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(0.5f));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128<float>.One);
        p = Vector128.FusedMultiplyAdd(p, r, Vector128<float>.One);
        // 2^n as two normal powers 2^n1 2^n2 (|n| &lt;= 216), so results down to the subnormals round once.
        var exponent = Vector128.ConvertToInt32Native(n);
        var half = exponent >> 1;
        var scale1 = ((half + Vector128.Create(127)) << 23).AsSingle();
        var scale2 = ((exponent - half + Vector128.Create(127)) << 23).AsSingle();
        return p * scale1 * scale2;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        // exp(x) = 2^n e^r with n = round(x / ln 2) and r = x - n ln 2 in [-ln 2 / 2, ln 2 / 2] (ln 2 split in two).
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(ExpLowest)), Vector256.Create(ExpHighest));
        var n = Vector256.Round(x * Log2E);
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        var p = Vector256.FusedMultiplyAdd(r, Vector256.Create(1f / 5040f), Vector256.Create(1f / 720f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 120f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 24f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 6f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(0.5f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        // 2^n as two normal powers 2^n1 2^n2 (|n| &lt;= 216), so results down to the subnormals round once.
        var exponent = Vector256.ConvertToInt32Native(n);
        var half = exponent >> 1;
        var scale1 = ((half + Vector256.Create(127)) << 23).AsSingle();
        var scale2 = ((exponent - half + Vector256.Create(127)) << 23).AsSingle();
        return p * scale1 * scale2;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        // exp(x) = 2^n e^r with n = round(x / ln 2) and r = x - n ln 2 in [-ln 2 / 2, ln 2 / 2] (ln 2 split in two).
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(ExpLowest)), Vector512.Create(ExpHighest));
        var n = Vector512.Round(x * Log2E);
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        var p = Vector512.FusedMultiplyAdd(r, Vector512.Create(1f / 5040f), Vector512.Create(1f / 720f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 120f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 24f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 6f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.5f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        // 2^n as two normal powers 2^n1 2^n2 (|n| &lt;= 216), so results down to the subnormals round once.
        var exponent = Vector512.ConvertToInt32Native(n);
        var half = exponent >> 1;
        var scale1 = ((half + Vector512.Create(127)) << 23).AsSingle();
        var scale2 = ((exponent - half + Vector512.Create(127)) << 23).AsSingle();
        return p * scale1 * scale2;
    }

    // ------------------------------------------------------------------------------------------------ log1p for y in [0, 1]

    /// <summary>
    /// log(1 + y) for y in [0, 1] (and NaN) as 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...) with s = y / (2 + y) in [0, 1/3]:
    /// no cancellation for small y, series truncated below 2e-9 relative.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Log1P(float y)
    {
        float s = y / (2f + y);
        float s2 = s * s;
        float q = MathF.FusedMultiplyAdd(s2, 1f / 15f, 1f / 13f);
        q = MathF.FusedMultiplyAdd(q, s2, 1f / 11f);
        q = MathF.FusedMultiplyAdd(q, s2, 1f / 9f);
        q = MathF.FusedMultiplyAdd(q, s2, 1f / 7f);
        q = MathF.FusedMultiplyAdd(q, s2, 1f / 5f);
        q = MathF.FusedMultiplyAdd(q, s2, 1f / 3f);
        float twoS = s + s;
        return MathF.FusedMultiplyAdd(twoS * s2, q, twoS);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Log1P(Vector128<float> y)
    {
        var s = y / (Vector128.Create(2f) + y);
        var s2 = s * s;
        var q = Vector128.FusedMultiplyAdd(s2, Vector128.Create(1f / 15f), Vector128.Create(1f / 13f));
        q = Vector128.FusedMultiplyAdd(q, s2, Vector128.Create(1f / 11f));
        q = Vector128.FusedMultiplyAdd(q, s2, Vector128.Create(1f / 9f));
        q = Vector128.FusedMultiplyAdd(q, s2, Vector128.Create(1f / 7f));
        q = Vector128.FusedMultiplyAdd(q, s2, Vector128.Create(1f / 5f));
        q = Vector128.FusedMultiplyAdd(q, s2, Vector128.Create(1f / 3f));
        var twoS = s + s;
        return Vector128.FusedMultiplyAdd(twoS * s2, q, twoS);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Log1P(Vector256<float> y)
    {
        var s = y / (Vector256.Create(2f) + y);
        var s2 = s * s;
        var q = Vector256.FusedMultiplyAdd(s2, Vector256.Create(1f / 15f), Vector256.Create(1f / 13f));
        q = Vector256.FusedMultiplyAdd(q, s2, Vector256.Create(1f / 11f));
        q = Vector256.FusedMultiplyAdd(q, s2, Vector256.Create(1f / 9f));
        q = Vector256.FusedMultiplyAdd(q, s2, Vector256.Create(1f / 7f));
        q = Vector256.FusedMultiplyAdd(q, s2, Vector256.Create(1f / 5f));
        q = Vector256.FusedMultiplyAdd(q, s2, Vector256.Create(1f / 3f));
        var twoS = s + s;
        return Vector256.FusedMultiplyAdd(twoS * s2, q, twoS);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Log1P(Vector512<float> y)
    {
        var s = y / (Vector512.Create(2f) + y);
        var s2 = s * s;
        var q = Vector512.FusedMultiplyAdd(s2, Vector512.Create(1f / 15f), Vector512.Create(1f / 13f));
        q = Vector512.FusedMultiplyAdd(q, s2, Vector512.Create(1f / 11f));
        q = Vector512.FusedMultiplyAdd(q, s2, Vector512.Create(1f / 9f));
        q = Vector512.FusedMultiplyAdd(q, s2, Vector512.Create(1f / 7f));
        q = Vector512.FusedMultiplyAdd(q, s2, Vector512.Create(1f / 5f));
        q = Vector512.FusedMultiplyAdd(q, s2, Vector512.Create(1f / 3f));
        var twoS = s + s;
        return Vector512.FusedMultiplyAdd(twoS * s2, q, twoS);
    }

    // ------------------------------------------------------------------------------------------------ sigmoid

    /// <summary>1 / (1 + exp(-x)) from e = exp(-|x|) in (0, 1]: 1 / (1 + e) for x &gt;= 0, e / (1 + e) below.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float x)
    {
        float e = MathF.Exp(-MathF.Abs(x));
        float r = 1f / (1f + e);
        return x >= 0f ? r : e * r;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sigmoid(Vector128<float> x)
    {
        var e = Exp(-Vector128.Abs(x));
        var r = Vector128<float>.One / (Vector128<float>.One + e);
        return Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(x, Vector128<float>.Zero), r, e * r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sigmoid(Vector256<float> x)
    {
        var e = Exp(-Vector256.Abs(x));
        var r = Vector256<float>.One / (Vector256<float>.One + e);
        return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<float>.Zero), r, e * r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x)
    {
        var e = Exp(-Vector512.Abs(x));
        var r = Vector512<float>.One / (Vector512<float>.One + e);
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512<float>.Zero), r, e * r);
    }

    // ------------------------------------------------------------------------------------------------ softplus pieces

    /// <summary>log1p(exp(-|x|)), the bounded part of softplus and of binary cross-entropy from logits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LogOnePlusExpNegAbs(float x) => Log1P(MathF.Exp(-MathF.Abs(x)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LogOnePlusExpNegAbs(Vector128<float> x) => Log1P(Exp(-Vector128.Abs(x)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LogOnePlusExpNegAbs(Vector256<float> x) => Log1P(Exp(-Vector256.Abs(x)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LogOnePlusExpNegAbs(Vector512<float> x) => Log1P(Exp(-Vector512.Abs(x)));
}
