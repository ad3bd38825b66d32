// The reconstruction term of the VAE family, from the decoder's logits: Bernoulli (binary cross-entropy from the
// logits) or squared error of sigmoid(logits), summed over the pixels of each image; and its gradient with respect to
// the logits. The one place every model (and every importance-weight evaluator) computes it.
namespace Vae.Models;

public static class ReconstructionTerm
{
    /// <summary>
    /// perSample (rows) = each image's reconstruction nats, total[0] = their sum. logits, prediction and targets are
    /// (rows, cols); MSE reads prediction, which must hold sigmoid(logits).
    /// </summary>
    public static void Forward(IComputeBackend backend, ReconstructionLoss loss, DeviceSpan<float> logits, DeviceSpan<float> prediction,
        DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (loss == ReconstructionLoss.Bce) backend.BceWithLogitsForward(logits, targets, perSample, total, rows, cols);
        else backend.MseForward(prediction, targets, perSample, total, rows, cols);
    }

    /// <summary>dLogits (rows, cols) = scale times the gradient of the summed term with respect to the logits (assigned).</summary>
    public static void Backward(IComputeBackend backend, ReconstructionLoss loss, DeviceSpan<float> logits, DeviceSpan<float> prediction,
        DeviceSpan<float> targets, DeviceSpan<float> dLogits, int rows, int cols, float scale)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (loss == ReconstructionLoss.Bce)
        {
            backend.BceWithLogitsBackward(logits, targets, dLogits, rows, cols, scale);
            return;
        }
        backend.MseBackward(prediction, targets, dLogits, rows, cols, scale);
        var d = dLogits.Slice(0, rows * cols);
        backend.ActivationBackward(Activation.Sigmoid, default, prediction.Slice(0, rows * cols), d, d);
    }

    /// <summary>prediction (rows, cols) = sigmoid(logits): the decoded images' pixel probabilities (and what MSE reads).</summary>
    public static void Probabilities(IComputeBackend backend, DeviceSpan<float> logits, DeviceSpan<float> prediction, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(backend);
        int n = rows * cols;
        backend.ActivationForward(Activation.Sigmoid, logits.Slice(0, n), prediction.Slice(0, n));
    }
}
