// Optimizer primitives over flat parameter buffers: AdamStep (Adam / AdamW), GlobalNorm, ClipByNorm and AllFinite.
using System.Numerics.Tensors;
using Vae.Cpu.Operators;
using Vae.Cpu.Threading;

namespace Vae.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void AdamStep(DeviceSpan<float> parameters, DeviceSpan<float> gradients, DeviceSpan<float> m, DeviceSpan<float> v, AdamSettings settings, int step)
    {
        BackendChecks.AdamStep(this, parameters, gradients, m, v, settings, step);
        var (stepSize, biasCorrection2Sqrt) = settings.BiasCorrections(step);
        var op = new AdamOperator(settings.Beta1, settings.Beta2, settings.L2, settings.DecoupledDecay, stepSize, biasCorrection2Sqrt, settings.Epsilon);
        RangeWork.RunElements(Pool, new AdamKernel(op, Ptr(parameters), Ptr(gradients), Ptr(m), Ptr(v)), parameters.Length, RangeWork.AdamCost);
    }

    public void GlobalNorm(DeviceSpan<float> x, DeviceSpan<float> result)
    {
        BackendChecks.GlobalNorm(this, x, result);
        *Ptr(result) = (float)Math.Sqrt(SumInFixedOrder(Ptr(x), x.Length, squares: true));
    }

    public void ClipByNorm(DeviceSpan<float> x, DeviceSpan<float> norm, float maxNorm)
    {
        BackendChecks.ClipByNorm(this, x, norm, maxNorm);
        double factor = Math.Min(1d, maxNorm / (*Ptr(norm) + 1e-6));
        if (factor == 1d) return;   // x * 1 = x
        RangeWork.RunElements(Pool, new ScaleKernel(Ptr(x), (float)factor), x.Length, RangeWork.SimpleCost);
    }

    public void AllFinite(DeviceSpan<float> x, DeviceSpan<int> result)
    {
        BackendChecks.AllFinite(this, x, result);
        int allFinite = 1;
        RangeWork.RunElements(Pool, new AllFiniteKernel(Ptr(x), &allFinite), x.Length, RangeWork.SimpleCost);
        *Ptr(result) = allFinite;
    }

    readonly struct AdamKernel(AdamOperator op, float* parameters, float* gradients, float* m, float* v) : IRangeKernel
    {
        public void Execute(int start, int count) => VectorLoops.Adam(op, parameters + start, gradients + start, m + start, v + start, count);
    }

    /// <summary>Sets *allFinite = 0 when a piece holds an infinity or NaN (every writer writes the same value).</summary>
    readonly struct AllFiniteKernel(float* x, int* allFinite) : IRangeKernel
    {
        public void Execute(int start, int count)
        {
            if (Volatile.Read(ref *allFinite) == 0) return;
            if (VectorLoops.AnyNonFinite(x + start, count)) Volatile.Write(ref *allFinite, 0);
        }
    }
}
