// Activation operators that TensorPrimitives lacks (Relu, Tanh and Sigmoid forwards use TensorPrimitives directly):
// LeakyRelu and Softplus forwards, and every backward dx = dy * f'(.) as a binary operator (input, dy) -> dx.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Vae.Cpu.Operators;

/// <summary>x where x &gt; 0, else slope * x.</summary>
internal readonly struct LeakyReluOperator(float slope) : IUnaryOperator
{
    readonly float slope = slope;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float x) => x > 0f ? x : slope * x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> x) => Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<float>.Zero), x, x * slope);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x, x * slope);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), x, x * slope);
}

/// <summary>softplus(x) = max(x, 0) + log1p(exp(-|x|)).</summary>
internal readonly struct SoftplusOperator : IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float x) => MathF.Max(x, 0f) + VectorMath.LogOnePlusExpNegAbs(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> x) => Vector128.Max(x, Vector128<float>.Zero) + VectorMath.LogOnePlusExpNegAbs(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x) => Vector256.Max(x, Vector256<float>.Zero) + VectorMath.LogOnePlusExpNegAbs(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x) => Vector512.Max(x, Vector512<float>.Zero) + VectorMath.LogOnePlusExpNegAbs(x);
}

/// <summary>(x, dy) -> dy where x &gt; 0, else 0.</summary>
internal readonly struct ReluGradientOperator : IBinaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float x, float dy) => x > 0f ? dy : 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> x, Vector128<float> dy) => Vector128.GreaterThan(x, Vector128<float>.Zero) & dy;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) => Vector256.GreaterThan(x, Vector256<float>.Zero) & dy;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy) => Vector512.GreaterThan(x, Vector512<float>.Zero) & dy;
}

/// <summary>(x, dy) -> dy where x &gt; 0, else slope * dy.</summary>
internal readonly struct LeakyReluGradientOperator(float slope) : IBinaryOperator
{
    readonly float slope = slope;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float x, float dy) => x > 0f ? dy : slope * dy;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> x, Vector128<float> dy) => Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<float>.Zero), dy, dy * slope);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), dy, dy * slope);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), dy, dy * slope);
}

/// <summary>(x, dy) -> dy * sigmoid(x), the softplus gradient.</summary>
internal readonly struct SoftplusGradientOperator : IBinaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float x, float dy) => dy * VectorMath.Sigmoid(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> x, Vector128<float> dy) => dy * VectorMath.Sigmoid(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) => dy * VectorMath.Sigmoid(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy) => dy * VectorMath.Sigmoid(x);
}

/// <summary>(y, dy) -> dy * (1 - y^2), given y = tanh(x).</summary>
internal readonly struct TanhGradientOperator : IBinaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float y, float dy) => dy * (1f - y * y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> y, Vector128<float> dy) => dy * (Vector128<float>.One - y * y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => dy * (Vector256<float>.One - y * y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) => dy * (Vector512<float>.One - y * y);
}

/// <summary>(y, dy) -> dy * y * (1 - y), given y = sigmoid(x).</summary>
internal readonly struct SigmoidGradientOperator : IBinaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float y, float dy) => dy * (y * (1f - y));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> y, Vector128<float> dy) => dy * (y * (Vector128<float>.One - y));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => dy * (y * (Vector256<float>.One - y));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) => dy * (y * (Vector512<float>.One - y));
}
