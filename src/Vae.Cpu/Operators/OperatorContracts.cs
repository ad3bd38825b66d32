// The shapes of elementwise operators. An operator is a readonly struct (holding its scalar parameters) with one Invoke
// overload per width: float, Vector128<float>, Vector256<float> and Vector512<float>. Each shape is a generic
// interface per width (IUnaryFunction<T>, ...) so that a loop generic over the width calls the matching overload,
// plus a combined interface (IUnaryOperator, ...) that says "all four widths".
using System.Runtime.Intrinsics;

namespace Vae.Cpu.Operators;

/// <summary>result = f(x).</summary>
internal interface IUnaryFunction<T>
{
    T Invoke(T x);
}

/// <summary>result = f(x, y).</summary>
internal interface IBinaryFunction<T>
{
    T Invoke(T x, T y);
}

/// <summary>result = f(x, y, z).</summary>
internal interface ITernaryFunction<T>
{
    T Invoke(T x, T y, T z);
}

/// <summary>result = f(x, y, z, w).</summary>
internal interface IQuaternaryFunction<T>
{
    T Invoke(T x, T y, T z, T w);
}

/// <summary>(first, second) = f(x, y, z).</summary>
internal interface ITernaryPairFunction<T>
{
    void Invoke(T x, T y, T z, out T first, out T second);
}

/// <summary>(first, second) = f(x, y, z, w); used for updates where z and w are the outputs' old values.</summary>
internal interface IQuaternaryPairFunction<T>
{
    void Invoke(T x, T y, T z, T w, out T first, out T second);
}

/// <summary>One optimizer step on one vector: parameters, first and second moments updated in place from gradients.</summary>
internal interface IAdamFunction<T>
{
    void Invoke(ref T parameters, T gradients, ref T m, ref T v);
}

/// <summary>Gradients of a function of (muQ, logVarQ, muP, logVarP), added into four accumulators.</summary>
internal interface IGaussianPairGradientFunction<T>
{
    void Invoke(T muQ, T logVarQ, T muP, T logVarP, ref T dMuQ, ref T dLogVarQ, ref T dMuP, ref T dLogVarP);
}

internal interface IUnaryOperator :
    IUnaryFunction<float>, IUnaryFunction<Vector128<float>>, IUnaryFunction<Vector256<float>>, IUnaryFunction<Vector512<float>>
{
}

internal interface IBinaryOperator :
    IBinaryFunction<float>, IBinaryFunction<Vector128<float>>, IBinaryFunction<Vector256<float>>, IBinaryFunction<Vector512<float>>
{
}

internal interface ITernaryOperator :
    ITernaryFunction<float>, ITernaryFunction<Vector128<float>>, ITernaryFunction<Vector256<float>>, ITernaryFunction<Vector512<float>>
{
}

internal interface IQuaternaryOperator :
    IQuaternaryFunction<float>, IQuaternaryFunction<Vector128<float>>, IQuaternaryFunction<Vector256<float>>, IQuaternaryFunction<Vector512<float>>
{
}

internal interface ITernaryPairOperator :
    ITernaryPairFunction<float>, ITernaryPairFunction<Vector128<float>>, ITernaryPairFunction<Vector256<float>>, ITernaryPairFunction<Vector512<float>>
{
}

internal interface IQuaternaryPairOperator :
    IQuaternaryPairFunction<float>, IQuaternaryPairFunction<Vector128<float>>, IQuaternaryPairFunction<Vector256<float>>, IQuaternaryPairFunction<Vector512<float>>
{
}

internal interface IAdamOperator :
    IAdamFunction<float>, IAdamFunction<Vector128<float>>, IAdamFunction<Vector256<float>>, IAdamFunction<Vector512<float>>
{
}

internal interface IGaussianPairGradientOperator :
    IGaussianPairGradientFunction<float>, IGaussianPairGradientFunction<Vector128<float>>,
    IGaussianPairGradientFunction<Vector256<float>>, IGaussianPairGradientFunction<Vector512<float>>
{
}
