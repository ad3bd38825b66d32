// The reparameterization trick z = mu + exp(0.5 clamp(logVar)) eps and its backward, as flat elementwise kernels
// (kernels/sampling.ptx), one thread per element.
using Vae.Cuda.Device;

namespace Vae.Cuda;

public sealed partial class CudaBackend
{
    public void ReparameterizeForward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> eps, DeviceSpan<float> z, float minLogVar, float maxLogVar)
    {
        BackendChecks.ReparameterizeForward(this, mu, logVar, eps, z, minLogVar, maxLogVar);
        int n = mu.Length;
        if (n == 0) return;
        Arg(mu); Arg(logVar); Arg(eps); Arg(z); Arg(n); Arg(minLogVar); Arg(maxLogVar);
        Launch("sampling_reparameterize_forward", Blocks(n), new LaunchDims(BlockSize));
    }

    public void ReparameterizeBackward(DeviceSpan<float> logVar, DeviceSpan<float> eps, DeviceSpan<float> dz, DeviceSpan<float> dMu, DeviceSpan<float> dLogVar, float minLogVar, float maxLogVar)
    {
        BackendChecks.ReparameterizeBackward(this, logVar, eps, dz, dMu, dLogVar, minLogVar, maxLogVar);
        int n = logVar.Length;
        if (n == 0) return;
        Arg(logVar); Arg(eps); Arg(dz); Arg(dMu); Arg(dLogVar); Arg(n); Arg(minLogVar); Arg(maxLogVar);
        Launch("sampling_reparameterize_backward", Blocks(n), new LaunchDims(BlockSize));
    }
}
