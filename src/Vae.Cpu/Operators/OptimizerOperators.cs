// The Adam / AdamW update as an operator over (parameters, gradients, m, v), PyTorch's formulas with the bias
// corrections computed once per step (in double) by CpuBackend.AdamStep.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Vae.Cpu.Operators;

/// <summary>
/// g = grad + l2 p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= decay p; p -= stepSize m / (sqrt(v) / bc2Sqrt + eps).
/// l2 is the weight decay of torch.optim.Adam (0 for AdamW), decay is lr * wd of torch.optim.AdamW (0 for Adam);
/// stepSize = lr / (1 - b1^step) and bc2Sqrt = sqrt(1 - b2^step).
/// </summary>
internal readonly struct AdamOperator(float beta1, float beta2, float l2, float decay, float stepSize, float bc2Sqrt, float epsilon) : IAdamOperator
{
    readonly float beta1 = beta1;
    readonly float beta2 = beta2;
    readonly float oneMinusBeta1 = 1f - beta1;
    readonly float oneMinusBeta2 = 1f - beta2;
    readonly float l2 = l2;
    readonly float decay = decay;
    readonly float stepSize = stepSize;
    readonly float bc2Sqrt = bc2Sqrt;
    readonly float epsilon = epsilon;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(ref float parameters, float gradients, ref float m, ref float v)
    {
        float p = parameters, g = gradients;
        if (l2 != 0f) g += l2 * p;
        m = beta1 * m + oneMinusBeta1 * g;
        v = beta2 * v + oneMinusBeta2 * (g * g);
        if (decay != 0f) p -= decay * p;
        float denominator = MathF.Sqrt(v) / bc2Sqrt + epsilon;
        parameters = p - stepSize * (m / denominator);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(ref Vector128<float> parameters, Vector128<float> gradients, ref Vector128<float> m, ref Vector128<float> v)
    {
        var p = parameters;
        var g = gradients;
        if (l2 != 0f) g += p * l2;
        m = m * beta1 + g * oneMinusBeta1;
        v = v * beta2 + (g * g) * oneMinusBeta2;
        if (decay != 0f) p -= p * decay;
        var denominator = Vector128.Sqrt(v) / Vector128.Create(bc2Sqrt) + Vector128.Create(epsilon);
        parameters = p - (m / denominator) * stepSize;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(ref Vector256<float> parameters, Vector256<float> gradients, ref Vector256<float> m, ref Vector256<float> v)
    {
        var p = parameters;
        var g = gradients;
        if (l2 != 0f) g += p * l2;
        m = m * beta1 + g * oneMinusBeta1;
        v = v * beta2 + (g * g) * oneMinusBeta2;
        if (decay != 0f) p -= p * decay;
        var denominator = Vector256.Sqrt(v) / Vector256.Create(bc2Sqrt) + Vector256.Create(epsilon);
        parameters = p - (m / denominator) * stepSize;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(ref Vector512<float> parameters, Vector512<float> gradients, ref Vector512<float> m, ref Vector512<float> v)
    {
        var p = parameters;
        var g = gradients;
        if (l2 != 0f) g += p * l2;
        m = m * beta1 + g * oneMinusBeta1;
        v = v * beta2 + (g * g) * oneMinusBeta2;
        if (decay != 0f) p -= p * decay;
        var denominator = Vector512.Sqrt(v) / Vector512.Create(bc2Sqrt) + Vector512.Create(epsilon);
        parameters = p - (m / denominator) * stepSize;
    }
}
