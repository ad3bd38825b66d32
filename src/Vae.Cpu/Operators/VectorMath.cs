// Numerically stable building blocks shared by the activation and loss operators, one overload per width:
// log1p (Goldberg's correction, accurate where 1 + y rounds), sigmoid without overflow, and softplus.
// Exp and Log are the runtime's MathF / Vector*.Exp / Vector*.Log.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Vae.Cpu.Operators;

internal static class VectorMath
{
    // ------------------------------------------------------------------------------------------------ log1p for y in [0, 1]

    /// <summary>log(1 + y) for y in [0, 1] (and NaN): log(u) * y / (u - 1) with u = 1 + y, or y where u rounds to 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Log1P(float y)
    {
        float u = 1f + y;
        return u == 1f ? y : MathF.Log(u) * (y / (u - 1f));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Log1P(Vector128<float> y)
    {
        var u = Vector128<float>.One + y;
        var corrected = Vector128.Log(u) * (y / (u - Vector128<float>.One));
        return Vector128.ConditionalSelect(Vector128.Equals(u, Vector128<float>.One), y, corrected);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Log1P(Vector256<float> y)
    {
        var u = Vector256<float>.One + y;
        var corrected = Vector256.Log(u) * (y / (u - Vector256<float>.One));
        return Vector256.ConditionalSelect(Vector256.Equals(u, Vector256<float>.One), y, corrected);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Log1P(Vector512<float> y)
    {
        var u = Vector512<float>.One + y;
        var corrected = Vector512.Log(u) * (y / (u - Vector512<float>.One));
        return Vector512.ConditionalSelect(Vector512.Equals(u, Vector512<float>.One), y, corrected);
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
        var e = Vector128.Exp(-Vector128.Abs(x));
        var r = Vector128<float>.One / (Vector128<float>.One + e);
        return Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(x, Vector128<float>.Zero), r, e * r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sigmoid(Vector256<float> x)
    {
        var e = Vector256.Exp(-Vector256.Abs(x));
        var r = Vector256<float>.One / (Vector256<float>.One + e);
        return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<float>.Zero), r, e * r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x)
    {
        var e = Vector512.Exp(-Vector512.Abs(x));
        var r = Vector512<float>.One / (Vector512<float>.One + e);
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512<float>.Zero), r, e * r);
    }

    // ------------------------------------------------------------------------------------------------ softplus pieces

    /// <summary>log1p(exp(-|x|)), the bounded part of softplus and of binary cross-entropy from logits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LogOnePlusExpNegAbs(float x) => Log1P(MathF.Exp(-MathF.Abs(x)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LogOnePlusExpNegAbs(Vector128<float> x) => Log1P(Vector128.Exp(-Vector128.Abs(x)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LogOnePlusExpNegAbs(Vector256<float> x) => Log1P(Vector256.Exp(-Vector256.Abs(x)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LogOnePlusExpNegAbs(Vector512<float> x) => Log1P(Vector512.Exp(-Vector512.Abs(x)));
}
