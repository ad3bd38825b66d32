// The reparameterization trick z = mu + exp(0.5 clamp(logVar)) eps and its backward, as flat elementwise maps.
using Vae.Cpu.Operators;
using Vae.Cpu.Threading;

namespace Vae.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void ReparameterizeForward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> eps, DeviceSpan<float> z, float minLogVar, float maxLogVar)
    {
        BackendChecks.ReparameterizeForward(this, mu, logVar, eps, z, minLogVar, maxLogVar);
        var kernel = new TernaryMapKernel<ReparameterizeOperator>(new(minLogVar, maxLogVar), Ptr(mu), Ptr(logVar), Ptr(eps), Ptr(z));
        RangeWork.RunElements(Pool, kernel, mu.Length, RangeWork.TranscendentalCost);
    }

    public void ReparameterizeBackward(DeviceSpan<float> logVar, DeviceSpan<float> eps, DeviceSpan<float> dz, DeviceSpan<float> dMu, DeviceSpan<float> dLogVar, float minLogVar, float maxLogVar)
    {
        BackendChecks.ReparameterizeBackward(this, logVar, eps, dz, dMu, dLogVar, minLogVar, maxLogVar);
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
