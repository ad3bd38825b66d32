// Reparameterization operators: z = mu + exp(0.5 clamp(logVar)) eps and its gradients, with the log-variance clamp.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Vae.Cpu.Operators;

/// <summary>(mu, logVar, eps) -> mu + exp(0.5 clamp(logVar, min, max)) eps.</summary>
internal readonly struct ReparameterizeOperator(float minLogVar, float maxLogVar) : ITernaryOperator
{
    readonly float minLogVar = minLogVar;
    readonly float maxLogVar = maxLogVar;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float mu, float logVar, float eps) =>
        MathF.FusedMultiplyAdd(MathF.Exp(0.5f * MathF.Min(MathF.Max(logVar, minLogVar), maxLogVar)), eps, mu);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> mu, Vector128<float> logVar, Vector128<float> eps) =>
        Vector128.FusedMultiplyAdd(VectorMath.Exp(Vector128.Min(Vector128.Max(logVar, Vector128.Create(minLogVar)), Vector128.Create(maxLogVar)) * 0.5f), eps, mu);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> mu, Vector256<float> logVar, Vector256<float> eps) =>
        Vector256.FusedMultiplyAdd(VectorMath.Exp(Vector256.Min(Vector256.Max(logVar, Vector256.Create(minLogVar)), Vector256.Create(maxLogVar)) * 0.5f), eps, mu);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> mu, Vector512<float> logVar, Vector512<float> eps) =>
        Vector512.FusedMultiplyAdd(VectorMath.Exp(Vector512.Min(Vector512.Max(logVar, Vector512.Create(minLogVar)), Vector512.Create(maxLogVar)) * 0.5f), eps, mu);
}

/// <summary>
/// (logVar, eps, dz) -> (dMu, dLogVar) = (dz, dz eps 0.5 exp(0.5 logVar)) where logVar is inside [min, max], else (dz, 0).
/// </summary>
internal readonly struct ReparameterizeGradientOperator(float minLogVar, float maxLogVar) : ITernaryPairOperator
{
    readonly float minLogVar = minLogVar;
    readonly float maxLogVar = maxLogVar;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(float logVar, float eps, float dz, out float dMu, out float dLogVar)
    {
        dMu = dz;
        dLogVar = logVar >= minLogVar && logVar <= maxLogVar ? dz * eps * 0.5f * MathF.Exp(0.5f * logVar) : 0f;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(Vector128<float> logVar, Vector128<float> eps, Vector128<float> dz, out Vector128<float> dMu, out Vector128<float> dLogVar)
    {
        var inside = Vector128.GreaterThanOrEqual(logVar, Vector128.Create(minLogVar)) & Vector128.LessThanOrEqual(logVar, Vector128.Create(maxLogVar));
        dMu = dz;
        dLogVar = inside & (dz * eps * 0.5f * VectorMath.Exp(logVar * 0.5f));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(Vector256<float> logVar, Vector256<float> eps, Vector256<float> dz, out Vector256<float> dMu, out Vector256<float> dLogVar)
    {
        var inside = Vector256.GreaterThanOrEqual(logVar, Vector256.Create(minLogVar)) & Vector256.LessThanOrEqual(logVar, Vector256.Create(maxLogVar));
        dMu = dz;
        dLogVar = inside & (dz * eps * 0.5f * VectorMath.Exp(logVar * 0.5f));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(Vector512<float> logVar, Vector512<float> eps, Vector512<float> dz, out Vector512<float> dMu, out Vector512<float> dLogVar)
    {
        var inside = Vector512.GreaterThanOrEqual(logVar, Vector512.Create(minLogVar)) & Vector512.LessThanOrEqual(logVar, Vector512.Create(maxLogVar));
        dMu = dz;
        dLogVar = inside & (dz * eps * 0.5f * VectorMath.Exp(logVar * 0.5f));
    }
}
