// Loss operators: per-element loss terms (summed per row by VectorLoops.Sum) and the elementwise gradients.
// Terms leave out per-row constants and factors (log 2 pi, 0.5, -0.5), which CpuBackend.Losses applies to the row
// sum in double.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Vae.Cpu.Operators;

/// <summary>(logit l, target t) -> max(l, 0) - l t + log1p(exp(-|l|)), binary cross-entropy from logits.</summary>
internal readonly struct BceWithLogitsOperator : IBinaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float l, float t) => (MathF.Max(l, 0f) - l * t) + VectorMath.LogOnePlusExpNegAbs(l);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> l, Vector128<float> t) => (Vector128.Max(l, Vector128<float>.Zero) - l * t) + VectorMath.LogOnePlusExpNegAbs(l);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> l, Vector256<float> t) => (Vector256.Max(l, Vector256<float>.Zero) - l * t) + VectorMath.LogOnePlusExpNegAbs(l);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> l, Vector512<float> t) => (Vector512.Max(l, Vector512<float>.Zero) - l * t) + VectorMath.LogOnePlusExpNegAbs(l);
}

/// <summary>(logit l, target t) -> scale * (sigmoid(l) - t).</summary>
internal readonly struct BceWithLogitsGradientOperator(float scale) : IBinaryOperator
{
    readonly float scale = scale;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float l, float t) => scale * (VectorMath.Sigmoid(l) - t);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> l, Vector128<float> t) => (VectorMath.Sigmoid(l) - t) * scale;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> l, Vector256<float> t) => (VectorMath.Sigmoid(l) - t) * scale;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> l, Vector512<float> t) => (VectorMath.Sigmoid(l) - t) * scale;
}

/// <summary>(prediction p, target t) -> (p - t)^2.</summary>
internal readonly struct SquaredErrorOperator : IBinaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float p, float t)
    {
        float d = p - t;
        return d * d;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> p, Vector128<float> t)
    {
        var d = p - t;
        return d * d;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> p, Vector256<float> t)
    {
        var d = p - t;
        return d * d;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> p, Vector512<float> t)
    {
        var d = p - t;
        return d * d;
    }
}

/// <summary>(prediction p, target t) -> 2 scale (p - t).</summary>
internal readonly struct SquaredErrorGradientOperator(float scale) : IBinaryOperator
{
    readonly float twoScale = 2f * scale;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float p, float t) => twoScale * (p - t);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> p, Vector128<float> t) => (p - t) * twoScale;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> p, Vector256<float> t) => (p - t) * twoScale;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> p, Vector512<float> t) => (p - t) * twoScale;
}

/// <summary>(mean, logVar, target) -> logVar + (target - mean)^2 exp(-logVar); the row adds cols log(2 pi) and halves.</summary>
internal readonly struct GaussianNllOperator : ITernaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float mean, float logVar, float target)
    {
        float d = target - mean;
        return logVar + d * d * MathF.Exp(-logVar);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> mean, Vector128<float> logVar, Vector128<float> target)
    {
        var d = target - mean;
        return logVar + d * d * VectorMath.Exp(-logVar);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> mean, Vector256<float> logVar, Vector256<float> target)
    {
        var d = target - mean;
        return logVar + d * d * VectorMath.Exp(-logVar);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> mean, Vector512<float> logVar, Vector512<float> target)
    {
        var d = target - mean;
        return logVar + d * d * VectorMath.Exp(-logVar);
    }
}

/// <summary>
/// (mean, logVar, target) -> (dMean, dLogVar) = (scale (mean - target) exp(-logVar), scale 0.5 (1 - (target - mean)^2 exp(-logVar))).
/// </summary>
internal readonly struct GaussianNllGradientOperator(float scale) : ITernaryPairOperator
{
    readonly float scale = scale;
    readonly float halfScale = 0.5f * scale;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(float mean, float logVar, float target, out float dMean, out float dLogVar)
    {
        float d = mean - target;
        float precision = MathF.Exp(-logVar);
        dMean = scale * d * precision;
        dLogVar = halfScale * (1f - d * d * precision);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(Vector128<float> mean, Vector128<float> logVar, Vector128<float> target, out Vector128<float> dMean, out Vector128<float> dLogVar)
    {
        var d = mean - target;
        var precision = VectorMath.Exp(-logVar);
        dMean = d * scale * precision;
        dLogVar = (Vector128<float>.One - d * d * precision) * halfScale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(Vector256<float> mean, Vector256<float> logVar, Vector256<float> target, out Vector256<float> dMean, out Vector256<float> dLogVar)
    {
        var d = mean - target;
        var precision = VectorMath.Exp(-logVar);
        dMean = d * scale * precision;
        dLogVar = (Vector256<float>.One - d * d * precision) * halfScale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(Vector512<float> mean, Vector512<float> logVar, Vector512<float> target, out Vector512<float> dMean, out Vector512<float> dLogVar)
    {
        var d = mean - target;
        var precision = VectorMath.Exp(-logVar);
        dMean = d * scale * precision;
        dLogVar = (Vector512<float>.One - d * d * precision) * halfScale;
    }
}

/// <summary>(mu, logVar) -> 1 + logVar - mu^2 - exp(logVar); the row sum is scaled by -0.5.</summary>
internal readonly struct KlStandardNormalOperator : IBinaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float mu, float logVar) => 1f + logVar - mu * mu - MathF.Exp(logVar);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> mu, Vector128<float> logVar) => Vector128<float>.One + logVar - mu * mu - VectorMath.Exp(logVar);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> mu, Vector256<float> logVar) => Vector256<float>.One + logVar - mu * mu - VectorMath.Exp(logVar);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> mu, Vector512<float> logVar) => Vector512<float>.One + logVar - mu * mu - VectorMath.Exp(logVar);
}

/// <summary>(mu, logVar, dMu, dLogVar) -> (dMu + scale mu, dLogVar + scale 0.5 (exp(logVar) - 1)).</summary>
internal readonly struct KlStandardNormalGradientOperator(float scale) : IQuaternaryPairOperator
{
    readonly float scale = scale;
    readonly float halfScale = 0.5f * scale;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(float mu, float logVar, float dMu, float dLogVar, out float newDMu, out float newDLogVar)
    {
        newDMu = dMu + scale * mu;
        newDLogVar = dLogVar + halfScale * (MathF.Exp(logVar) - 1f);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(Vector128<float> mu, Vector128<float> logVar, Vector128<float> dMu, Vector128<float> dLogVar, out Vector128<float> newDMu, out Vector128<float> newDLogVar)
    {
        newDMu = dMu + mu * scale;
        newDLogVar = dLogVar + (VectorMath.Exp(logVar) - Vector128<float>.One) * halfScale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(Vector256<float> mu, Vector256<float> logVar, Vector256<float> dMu, Vector256<float> dLogVar, out Vector256<float> newDMu, out Vector256<float> newDLogVar)
    {
        newDMu = dMu + mu * scale;
        newDLogVar = dLogVar + (VectorMath.Exp(logVar) - Vector256<float>.One) * halfScale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(Vector512<float> mu, Vector512<float> logVar, Vector512<float> dMu, Vector512<float> dLogVar, out Vector512<float> newDMu, out Vector512<float> newDLogVar)
    {
        newDMu = dMu + mu * scale;
        newDLogVar = dLogVar + (VectorMath.Exp(logVar) - Vector512<float>.One) * halfScale;
    }
}

/// <summary>
/// (muQ, logVarQ, muP, logVarP) -> logVarP - logVarQ + (exp(logVarQ) + (muQ - muP)^2) exp(-logVarP) - 1; the row sum is halved.
/// </summary>
internal readonly struct KlGaussianOperator : IQuaternaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float muQ, float logVarQ, float muP, float logVarP)
    {
        float d = muQ - muP;
        return logVarP - logVarQ + (MathF.Exp(logVarQ) + d * d) * MathF.Exp(-logVarP) - 1f;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> muQ, Vector128<float> logVarQ, Vector128<float> muP, Vector128<float> logVarP)
    {
        var d = muQ - muP;
        return logVarP - logVarQ + (VectorMath.Exp(logVarQ) + d * d) * VectorMath.Exp(-logVarP) - Vector128<float>.One;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> muQ, Vector256<float> logVarQ, Vector256<float> muP, Vector256<float> logVarP)
    {
        var d = muQ - muP;
        return logVarP - logVarQ + (VectorMath.Exp(logVarQ) + d * d) * VectorMath.Exp(-logVarP) - Vector256<float>.One;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> muQ, Vector512<float> logVarQ, Vector512<float> muP, Vector512<float> logVarP)
    {
        var d = muQ - muP;
        return logVarP - logVarQ + (VectorMath.Exp(logVarQ) + d * d) * VectorMath.Exp(-logVarP) - Vector512<float>.One;
    }
}

/// <summary>
/// Accumulates scale times the gradients of the Gaussian KL term: dMuQ += g, dMuP -= g with g = (muQ - muP) e^-lvP;
/// dLogVarQ += 0.5 (e^(lvQ - lvP) - 1); dLogVarP += 0.5 (1 - (e^lvQ + (muQ - muP)^2) e^-lvP).
/// </summary>
internal readonly struct KlGaussianGradientOperator(float scale) : IGaussianPairGradientOperator
{
    readonly float scale = scale;
    readonly float halfScale = 0.5f * scale;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(float muQ, float logVarQ, float muP, float logVarP, ref float dMuQ, ref float dLogVarQ, ref float dMuP, ref float dLogVarP)
    {
        float d = muQ - muP;
        float precisionP = MathF.Exp(-logVarP);
        float gMu = scale * d * precisionP;
        dMuQ += gMu;
        dMuP -= gMu;
        dLogVarQ += halfScale * (MathF.Exp(logVarQ - logVarP) - 1f);
        dLogVarP += halfScale * (1f - (MathF.Exp(logVarQ) + d * d) * precisionP);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(Vector128<float> muQ, Vector128<float> logVarQ, Vector128<float> muP, Vector128<float> logVarP,
        ref Vector128<float> dMuQ, ref Vector128<float> dLogVarQ, ref Vector128<float> dMuP, ref Vector128<float> dLogVarP)
    {
        var d = muQ - muP;
        var precisionP = VectorMath.Exp(-logVarP);
        var gMu = d * scale * precisionP;
        dMuQ += gMu;
        dMuP -= gMu;
        dLogVarQ += (VectorMath.Exp(logVarQ - logVarP) - Vector128<float>.One) * halfScale;
        dLogVarP += (Vector128<float>.One - (VectorMath.Exp(logVarQ) + d * d) * precisionP) * halfScale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(Vector256<float> muQ, Vector256<float> logVarQ, Vector256<float> muP, Vector256<float> logVarP,
        ref Vector256<float> dMuQ, ref Vector256<float> dLogVarQ, ref Vector256<float> dMuP, ref Vector256<float> dLogVarP)
    {
        var d = muQ - muP;
        var precisionP = VectorMath.Exp(-logVarP);
        var gMu = d * scale * precisionP;
        dMuQ += gMu;
        dMuP -= gMu;
        dLogVarQ += (VectorMath.Exp(logVarQ - logVarP) - Vector256<float>.One) * halfScale;
        dLogVarP += (Vector256<float>.One - (VectorMath.Exp(logVarQ) + d * d) * precisionP) * halfScale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(Vector512<float> muQ, Vector512<float> logVarQ, Vector512<float> muP, Vector512<float> logVarP,
        ref Vector512<float> dMuQ, ref Vector512<float> dLogVarQ, ref Vector512<float> dMuP, ref Vector512<float> dLogVarP)
    {
        var d = muQ - muP;
        var precisionP = VectorMath.Exp(-logVarP);
        var gMu = d * scale * precisionP;
        dMuQ += gMu;
        dMuP -= gMu;
        dLogVarQ += (VectorMath.Exp(logVarQ - logVarP) - Vector512<float>.One) * halfScale;
        dLogVarP += (Vector512<float>.One - (VectorMath.Exp(logVarQ) + d * d) * precisionP) * halfScale;
    }
}

/// <summary>x -> exp(x - shift): softmax numerators with shift = the row maximum.</summary>
internal readonly struct ShiftedExpOperator(float shift) : IUnaryOperator
{
    readonly float shift = shift;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float x) => MathF.Exp(x - shift);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> x) => VectorMath.Exp(x - Vector128.Create(shift));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x) => VectorMath.Exp(x - Vector256.Create(shift));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x) => VectorMath.Exp(x - Vector512.Create(shift));
}
