// Optimizer primitives over flat parameter buffers: AdamStep (Adam / AdamW), GlobalNorm (two passes, double sums in a
// fixed order), ClipByNorm (reads the norm on the device) and AllFinite; kernels in kernels/optimizer.ptx.
using Vae.Cuda.Device;

namespace Vae.Cuda;

public sealed partial class CudaBackend
{
    /// <summary>Most blocks of GlobalNorm's first pass: the length of optimizer_norm_partials in optimizer.ptx.</summary>
    const int NormPartials = 1024;

    public void AdamStep(DeviceSpan<float> parameters, DeviceSpan<float> gradients, DeviceSpan<float> m, DeviceSpan<float> v, AdamSettings settings, int step)
    {
        BackendChecks.AdamStep(this, parameters, gradients, m, v, settings, step);
        int n = parameters.Length;
        if (n == 0) return;
        // Bias corrections in double, then used in float as PyTorch does (the same constants as CpuBackend.AdamStep).
        var (stepSize, biasCorrection2Sqrt) = settings.BiasCorrections(step);
        Arg(parameters); Arg(gradients); Arg(m); Arg(v); Arg(n);
        Arg(settings.Beta1); Arg(settings.Beta2); Arg(1f - settings.Beta1); Arg(1f - settings.Beta2);
        Arg(settings.L2); Arg(settings.DecoupledDecay); Arg(stepSize); Arg(biasCorrection2Sqrt); Arg(settings.Epsilon);
        Arg(settings.LearningRate); Arg(0UL);
        Launch("optimizer_adam_step", Blocks(n), new LaunchDims(BlockSize));
    }

    /// <summary>The device-counter form (graph-capturable): a one-thread kernel increments step[0], then the update kernel
    /// reads it and computes the bias corrections itself, in double like the host form.</summary>
    public void AdamStep(DeviceSpan<float> parameters, DeviceSpan<float> gradients, DeviceSpan<float> m, DeviceSpan<float> v, AdamSettings settings, DeviceSpan<int> step)
    {
        BackendChecks.AdamStep(this, parameters, gradients, m, v, settings, step);
        Arg(step);
        Launch("optimizer_increment_step", new LaunchDims(1), new LaunchDims(32));
        int n = parameters.Length;
        if (n == 0) return;
        Arg(parameters); Arg(gradients); Arg(m); Arg(v); Arg(n);
        Arg(settings.Beta1); Arg(settings.Beta2); Arg(1f - settings.Beta1); Arg(1f - settings.Beta2);
        Arg(settings.L2); Arg(settings.DecoupledDecay); Arg(0f); Arg(0f); Arg(settings.Epsilon);
        Arg(settings.LearningRate); Arg(step);
        Launch("optimizer_adam_step", Blocks(n), new LaunchDims(BlockSize));
    }

    public void GlobalNorm(DeviceSpan<float> x, DeviceSpan<float> result)
    {
        BackendChecks.GlobalNorm(this, x, result);
        int n = x.Length;
        if (n == 0)
        {
            _device.Memset32(Ptr(result), 0, 1);   // +0f
            return;
        }
        // Pass 1: G blocks (G a function of n alone) each write one partial sum; pass 2 adds the G partials in order.
        int partials = (int)Math.Min(Blocks(n).X, NormPartials);
        Arg(x); Arg(n);
        Launch("optimizer_sum_squares_partial", new LaunchDims((uint)partials), new LaunchDims(BlockSize));
        Arg(result); Arg(partials);
        Launch("optimizer_norm_finish", new LaunchDims(1), new LaunchDims(BlockSize));
    }

    public void ClipByNorm(DeviceSpan<float> x, DeviceSpan<float> norm, float maxNorm)
    {
        BackendChecks.ClipByNorm(this, x, norm, maxNorm);
        int n = x.Length;
        if (n == 0) return;
        Arg(x); Arg(norm); Arg(n); Arg(maxNorm);
        Launch("optimizer_clip_by_norm", Blocks(n), new LaunchDims(BlockSize));
    }

    public void AllFinite(DeviceSpan<float> x, DeviceSpan<int> result)
    {
        BackendChecks.AllFinite(this, x, result);
        _device.Memset32(Ptr(result), 1, 1);   // every element finite until a kernel thread finds one that is not
        int n = x.Length;
        if (n == 0) return;
        Arg(x); Arg(n); Arg(result);
        Launch("optimizer_all_finite", Blocks(n), new LaunchDims(BlockSize));
    }
}
