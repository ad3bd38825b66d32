// The reparameterization trick z = mu + exp(0.5 clamp(logVar)) eps and its backward, as flat elementwise maps.
using Vae.Cpu.Operators;
using Vae.Cpu.Threading;

namespace Vae.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void ReparameterizeForward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> eps, DeviceSpan<float> z, float minLogVar, float maxLogVar)
    {
        BackendChecks.SameLength(this, mu, logVar);
        BackendChecks.SameLength(this, mu, eps);
        BackendChecks.SameLength(this, mu, z);
        BackendChecks.LogVarClamp(minLogVar, maxLogVar);
        BackendChecks.IdenticalOrDisjoint(mu, z);
        BackendChecks.IdenticalOrDisjoint(logVar, z);
        BackendChecks.IdenticalOrDisjoint(eps, z);
        var kernel = new TernaryMapKernel<ReparameterizeOperator>(new(minLogVar, maxLogVar), Ptr(mu), Ptr(logVar), Ptr(eps), Ptr(z));
        RangeWork.RunElements(Pool, kernel, mu.Length, RangeWork.TranscendentalCost);
    }

    public void ReparameterizeBackward(DeviceSpan<float> logVar, DeviceSpan<float> eps, DeviceSpan<float> dz, DeviceSpan<float> dMu, DeviceSpan<float> dLogVar, float minLogVar, float maxLogVar)
    {
        BackendChecks.SameLength(this, logVar, eps);
        BackendChecks.SameLength(this, logVar, dz);
        BackendChecks.SameLength(this, logVar, dMu);
        BackendChecks.SameLength(this, logVar, dLogVar);
        BackendChecks.LogVarClamp(minLogVar, maxLogVar);
        BackendChecks.NoOverlap(dMu, dLogVar);
        BackendChecks.IdenticalOrDisjoint(logVar, dMu);
        BackendChecks.IdenticalOrDisjoint(eps, dMu);
        BackendChecks.IdenticalOrDisjoint(dz, dMu);
        BackendChecks.IdenticalOrDisjoint(logVar, dLogVar);
        BackendChecks.IdenticalOrDisjoint(eps, dLogVar);
        BackendChecks.IdenticalOrDisjoint(dz, dLogVar);
        // One pass computes both outputs from the loaded inputs, so an output may be one of the inputs.
        var kernel = new TernaryPairMapKernel<ReparameterizeGradientOperator>(new(minLogVar, maxLogVar), Ptr(logVar), Ptr(eps), Ptr(dz), Ptr(dMu), Ptr(dLogVar));
        RangeWork.RunElements(Pool, kernel, logVar.Length, RangeWork.TranscendentalCost);
    }

    /// <summary>result[i] = op(x[i], y[i], z[i]) over [start, start + count).</summary>
    readonly struct TernaryMapKernel<TOp>(TOp op, float* x, float* y, float* z, float* result) : IRangeKernel where TOp : unmanaged, ITernaryOperator
    {
        public void Execute(int start, int count) => VectorLoops.Map(op, x + start, y + start, z + start, result + start, count);
    }
}
