// Activation launchers: one forward and one backward kernel per Activation (kernels/activations.ptx), each a grid-stride
// loop. The backward kernel gets only the input its function reads (y for Tanh and Sigmoid, else x), so the other one
// may be the null view.
using System.Diagnostics;
using Vae.Cuda.Device;

namespace Vae.Cuda;

public sealed partial class CudaBackend
{
    public void ActivationForward(Activation f, DeviceSpan<float> x, DeviceSpan<float> y, float slope = 0.01f)
    {
        BackendChecks.ActivationForward(this, f, x, y, slope);
        if (x.Length == 0) return;
        Arg(x); Arg(y); Arg(x.Length);
        if (f == Activation.LeakyRelu) Arg(slope);
        Launch(ForwardKernel(f), StrideGrid(x.Length), new LaunchDims(BlockSize));
    }

    public void ActivationBackward(Activation f, DeviceSpan<float> x, DeviceSpan<float> y, DeviceSpan<float> dy, DeviceSpan<float> dx, float slope = 0.01f)
    {
        BackendChecks.ActivationBackward(this, f, x, y, dy, dx, slope);
        if (dy.Length == 0) return;
        Arg(BackendChecks.ActivationBackwardReadsOutput(f) ? y : x); Arg(dy); Arg(dx); Arg(dy.Length);
        if (f == Activation.LeakyRelu) Arg(slope);
        Launch(BackwardKernel(f), StrideGrid(dy.Length), new LaunchDims(BlockSize));
    }

    static string ForwardKernel(Activation f) => f switch
    {
        Activation.Relu => "activation_relu_forward",
        Activation.LeakyRelu => "activation_leaky_relu_forward",
        Activation.Tanh => "activation_tanh_forward",
        Activation.Sigmoid => "activation_sigmoid_forward",
        Activation.Softplus => "activation_softplus_forward",
        _ => throw new UnreachableException($"BackendChecks rejects activation {f}"),
    };

    static string BackwardKernel(Activation f) => f switch
    {
        Activation.Relu => "activation_relu_backward",
        Activation.LeakyRelu => "activation_leaky_relu_backward",
        Activation.Tanh => "activation_tanh_backward",
        Activation.Sigmoid => "activation_sigmoid_backward",
        Activation.Softplus => "activation_softplus_backward",
        _ => throw new UnreachableException($"BackendChecks rejects activation {f}"),
    };
}
