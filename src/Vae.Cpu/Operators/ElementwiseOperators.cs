// Elementwise operators for reductions that TensorPrimitives does not accumulate in double (CpuBackend.Sum).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Vae.Cpu.Operators;

/// <summary>x -> x, so that VectorLoops.Sum adds the elements themselves.</summary>
internal readonly struct IdentityOperator : IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float x) => x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> x) => x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x) => x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x) => x;
}
