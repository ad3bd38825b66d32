// Activation forward and backward: TensorPrimitives for Relu (Max with 0), Tanh and Sigmoid forwards, operators from
// Operators/ActivationOperators.cs for the rest. Large inputs are split over the pool.
using System.Numerics.Tensors;
using Vae.Cpu.Operators;
using Vae.Cpu.Threading;

namespace Vae.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void ActivationForward(Activation f, DeviceSpan<float> x, DeviceSpan<float> y, float slope = 0.01f)
    {
        BackendChecks.ActivationForward(this, f, x, y, slope);
        RangeWork.RunElements(Pool, new ActivationForwardKernel(f, Ptr(x), Ptr(y), slope), x.Length, ForwardCost(f));
    }

    public void ActivationBackward(Activation f, DeviceSpan<float> x, DeviceSpan<float> y, DeviceSpan<float> dy, DeviceSpan<float> dx, float slope = 0.01f)
    {
        BackendChecks.ActivationBackward(this, f, x, y, dy, dx, slope);
        // Tanh and Sigmoid read the forward's output y; the others read its input x. The view not read may be null.
        float* input = BackendChecks.ActivationBackwardReadsOutput(f) ? Ptr(y) : Ptr(x);
        RangeWork.RunElements(Pool, new ActivationBackwardKernel(f, input, Ptr(dy), Ptr(dx), slope), dy.Length, BackwardCost(f));
    }

    static int ForwardCost(Activation f) => f switch
    {
        Activation.Relu or Activation.LeakyRelu => RangeWork.SimpleCost,
        Activation.Softplus => RangeWork.DoubleTranscendentalCost,
        _ => RangeWork.TranscendentalCost,
    };

    static int BackwardCost(Activation f) => f == Activation.Softplus ? RangeWork.TranscendentalCost : RangeWork.SimpleCost;

    /// <summary>y = f(x) over [start, start + count).</summary>
    readonly struct ActivationForwardKernel(Activation f, float* x, float* y, float slope) : IRangeKernel
    {
        public void Execute(int start, int count)
        {
            var source = new ReadOnlySpan<float>(x + start, count);
            var destination = new Span<float>(y + start, count);
            switch (f)
            {
                case Activation.Relu: TensorPrimitives.Max(source, 0f, destination); break;
                case Activation.LeakyRelu: VectorLoops.Map(new LeakyReluOperator(slope), x + start, y + start, count); break;
                case Activation.Tanh: TensorPrimitives.Tanh(source, destination); break;
                case Activation.Sigmoid: TensorPrimitives.Sigmoid(source, destination); break;
                default: VectorLoops.Map(new SoftplusOperator(), x + start, y + start, count); break;
            }
        }
    }

    /// <summary>dx = dy * f'(.) over [start, start + count); input is x or y as f needs.</summary>
    readonly struct ActivationBackwardKernel(Activation f, float* input, float* dy, float* dx, float slope) : IRangeKernel
    {
        public void Execute(int start, int count)
        {
            float* i = input + start, g = dy + start, d = dx + start;
            switch (f)
            {
                case Activation.Relu: VectorLoops.Map(new ReluGradientOperator(), i, g, d, count); break;
                case Activation.LeakyRelu: VectorLoops.Map(new LeakyReluGradientOperator(slope), i, g, d, count); break;
                case Activation.Tanh: VectorLoops.Map(new TanhGradientOperator(), i, g, d, count); break;
                case Activation.Sigmoid: VectorLoops.Map(new SigmoidGradientOperator(), i, g, d, count); break;
                default: VectorLoops.Map(new SoftplusGradientOperator(), i, g, d, count); break;
            }
        }
    }
}
