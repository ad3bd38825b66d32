// A fully connected layer y = x W^T + b with W stored (out, in) like PyTorch's nn.Linear, as views into a
// ParameterStore's flat buffers. Forward/backward pair in llm.c style.
namespace Vae.Nn;

public readonly struct Linear
{
    public Linear(int inFeatures, int outFeatures, DeviceSpan<float> weight, DeviceSpan<float> bias, DeviceSpan<float> weightGrad, DeviceSpan<float> biasGrad)
    {
        In = inFeatures;
        Out = outFeatures;
        Weight = weight;
        Bias = bias;
        WeightGrad = weightGrad;
        BiasGrad = biasGrad;
    }

    public int In { get; }
    public int Out { get; }
    public DeviceSpan<float> Weight { get; }      // (Out, In)
    public DeviceSpan<float> Bias { get; }        // (Out)
    public DeviceSpan<float> WeightGrad { get; }  // (Out, In)
    public DeviceSpan<float> BiasGrad { get; }    // (Out)

    /// <summary>y (rows, Out) = x (rows, In) W^T + b.</summary>
    public void Forward(IComputeBackend backend, DeviceSpan<float> x, DeviceSpan<float> y, int rows)
    {
        backend.Gemm(false, true, rows, Out, In, 1f, x, Weight, 0f, y);
        backend.BiasAdd(y, Bias, rows, Out);
    }

    /// <summary>
    /// Given dy (rows, Out) and the forward input x (rows, In): dW = dy^T x is ASSIGNED (one contribution per step, so
    /// no zeroing pass), dB += column sums of dy (accumulates: the caller zeroes the bias gradients once per step),
    /// dx (rows, In) = dy W is assigned unless dx is the null view (the first layer needs no input gradient).
    /// </summary>
    public void Backward(IComputeBackend backend, DeviceSpan<float> x, DeviceSpan<float> dy, DeviceSpan<float> dx, int rows)
    {
        backend.Gemm(true, false, Out, In, rows, 1f, dy, x, 0f, WeightGrad);
        backend.BiasGradient(dy, BiasGrad, rows, Out);
        if (!dx.IsNull) backend.Gemm(false, false, rows, In, Out, 1f, dy, Weight, 0f, dx);
    }
}
