// Loss forwards and backwards on the GPU (kernels: kernels/losses.ptx): BCE with logits, squared error, Gaussian NLL,
// softmax cross-entropy with an ignore index, KL to a standard normal and KL between diagonal Gaussians. A forward is
// one warp per row (8 rows per 256-thread block) summing the row in double in a fixed order, then total[0] is a second
// one-block launch adding perSample in a fixed tree. Backwards are flat elementwise kernels, except cross-entropy's,
// which is one warp per row, and the free-bits KL backward, which first takes each column's mean KL with one warp per
// column (RowsPerBlock columns per block), then runs a masked elementwise backward. Class targets are not checked on
// the host (that would mean a download): a target that is neither a class nor the ignore index gives NaN for its row.
using Vae.Cuda.Device;

namespace Vae.Cuda;

public sealed partial class CudaBackend
{
    /// <summary>Rows handled by one block of the one-warp-per-row kernels.</summary>
    const int RowsPerBlock = BlockSize / 32;

    public void BceWithLogitsForward(DeviceSpan<float> logits, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        BackendChecks.BceWithLogitsForward(this, logits, targets, perSample, total, rows, cols);
        // logits, targets are (rows, cols); perSample[r] = sum over the row of max(l, 0) - l t + log1p(exp(-|l|))
        if (rows > 0)
        {
            Arg(logits); Arg(targets); Arg(perSample); Arg(rows); Arg(cols);
            Launch("losses_bce_with_logits_forward", Blocks(rows, RowsPerBlock), new LaunchDims(BlockSize));
        }
        WriteTotal(perSample, total, rows);
    }

    public void BceWithLogitsBackward(DeviceSpan<float> logits, DeviceSpan<float> targets, DeviceSpan<float> dLogits, int rows, int cols, float scale)
    {
        BackendChecks.BceWithLogitsBackward(this, logits, targets, dLogits, rows, cols, scale);
        int n = rows * cols;
        if (n == 0) return;
        Arg(logits); Arg(targets); Arg(dLogits); Arg(n); Arg(scale);
        Launch("losses_bce_with_logits_backward", Blocks(n), new LaunchDims(BlockSize));
    }

    public void MseForward(DeviceSpan<float> prediction, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        BackendChecks.MseForward(this, prediction, targets, perSample, total, rows, cols);
        if (rows > 0)
        {
            Arg(prediction); Arg(targets); Arg(perSample); Arg(rows); Arg(cols);
            Launch("losses_mse_forward", Blocks(rows, RowsPerBlock), new LaunchDims(BlockSize));
        }
        WriteTotal(perSample, total, rows);
    }

    public void MseBackward(DeviceSpan<float> prediction, DeviceSpan<float> targets, DeviceSpan<float> dPrediction, int rows, int cols, float scale)
    {
        BackendChecks.MseBackward(this, prediction, targets, dPrediction, rows, cols, scale);
        int n = rows * cols;
        if (n == 0) return;
        Arg(prediction); Arg(targets); Arg(dPrediction); Arg(n); Arg(scale);
        Launch("losses_mse_backward", Blocks(n), new LaunchDims(BlockSize));
    }

    public void GaussianNllForward(DeviceSpan<float> mean, DeviceSpan<float> logVar, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        BackendChecks.GaussianNllForward(this, mean, logVar, targets, perSample, total, rows, cols);
        // row = 0.5 * (cols log(2 pi) + sum of (logVar + (target - mean)^2 exp(-logVar)))
        if (rows > 0)
        {
            Arg(mean); Arg(logVar); Arg(targets); Arg(perSample); Arg(rows); Arg(cols);
            Launch("losses_gaussian_nll_forward", Blocks(rows, RowsPerBlock), new LaunchDims(BlockSize));
        }
        WriteTotal(perSample, total, rows);
    }

    public void GaussianNllBackward(DeviceSpan<float> mean, DeviceSpan<float> logVar, DeviceSpan<float> targets, DeviceSpan<float> dMean, DeviceSpan<float> dLogVar, int rows, int cols, float scale)
    {
        BackendChecks.GaussianNllBackward(this, mean, logVar, targets, dMean, dLogVar, rows, cols, scale);
        int n = rows * cols;
        if (n == 0) return;
        Arg(mean); Arg(logVar); Arg(targets); Arg(dMean); Arg(dLogVar); Arg(n); Arg(scale);
        Launch("losses_gaussian_nll_backward", Blocks(n), new LaunchDims(BlockSize));
    }

    public void CrossEntropyForward(DeviceSpan<float> logits, DeviceSpan<int> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int classes, int ignoreIndex)
    {
        BackendChecks.CrossEntropyForward(this, logits, targets, perSample, total, rows, classes, ignoreIndex);
        if (rows > 0)
        {
            Arg(logits); Arg(targets); Arg(perSample); Arg(rows); Arg(classes); Arg(ignoreIndex);
            Launch("losses_cross_entropy_forward", Blocks(rows, RowsPerBlock), new LaunchDims(BlockSize));
        }
        WriteTotal(perSample, total, rows);
    }

    public void CrossEntropyBackward(DeviceSpan<float> logits, DeviceSpan<int> targets, DeviceSpan<float> dLogits, int rows, int classes, int ignoreIndex, float scale)
    {
        BackendChecks.CrossEntropyBackward(this, logits, targets, dLogits, rows, classes, ignoreIndex, scale);
        if (rows == 0 || classes == 0) return;
        Arg(logits); Arg(targets); Arg(dLogits); Arg(rows); Arg(classes); Arg(ignoreIndex); Arg(scale);
        Launch("losses_cross_entropy_backward", Blocks(rows, RowsPerBlock), new LaunchDims(BlockSize));
    }

    public void KlStandardNormalForward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        BackendChecks.KlStandardNormalForward(this, mu, logVar, perSample, total, rows, cols);
        // row = -0.5 * sum of (1 + logVar - mu^2 - exp(logVar))
        if (rows > 0)
        {
            Arg(mu); Arg(logVar); Arg(perSample); Arg(rows); Arg(cols);
            Launch("losses_kl_standard_normal_forward", Blocks(rows, RowsPerBlock), new LaunchDims(BlockSize));
        }
        WriteTotal(perSample, total, rows);
    }

    public void KlStandardNormalBackward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> dMu, DeviceSpan<float> dLogVar, int rows, int cols, float scale)
    {
        BackendChecks.KlStandardNormalBackward(this, mu, logVar, dMu, dLogVar, rows, cols, scale);
        int n = rows * cols;
        if (n == 0) return;
        Arg(mu); Arg(logVar); Arg(dMu); Arg(dLogVar); Arg(n); Arg(scale);
        Launch("losses_kl_standard_normal_backward", Blocks(n), new LaunchDims(BlockSize));
    }

    public void KlFreeBitsBackward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> dMu, DeviceSpan<float> dLogVar,
        DeviceSpan<float> perDimension, int rows, int cols, float scale, float freeBits)
    {
        BackendChecks.KlFreeBitsBackward(this, mu, logVar, dMu, dLogVar, perDimension, rows, cols, scale, freeBits);
        if (cols == 0) return;
        // Pass 1, one warp per column: perDimension = the batch-mean KL of each column (0 for no rows).
        Arg(mu); Arg(logVar); Arg(perDimension); Arg(rows); Arg(cols);
        Launch("losses_kl_free_bits_means", Blocks(cols, RowsPerBlock), new LaunchDims(BlockSize));
        int n = rows * cols;
        if (n == 0) return;
        // Pass 2, elementwise: the KL backward in the columns above the floor.
        Arg(mu); Arg(logVar); Arg(dMu); Arg(dLogVar); Arg(perDimension); Arg(n); Arg(cols); Arg(scale); Arg(freeBits);
        Launch("losses_kl_free_bits_backward", Blocks(n), new LaunchDims(BlockSize));
    }

    public void KlGaussianForward(DeviceSpan<float> muQ, DeviceSpan<float> logVarQ, DeviceSpan<float> muP, DeviceSpan<float> logVarP, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        BackendChecks.KlGaussianForward(this, muQ, logVarQ, muP, logVarP, perSample, total, rows, cols);
        // row = 0.5 * sum of (logVarP - logVarQ + (exp(logVarQ) + (muQ - muP)^2) exp(-logVarP) - 1)
        if (rows > 0)
        {
            Arg(muQ); Arg(logVarQ); Arg(muP); Arg(logVarP); Arg(perSample); Arg(rows); Arg(cols);
            Launch("losses_kl_gaussian_forward", Blocks(rows, RowsPerBlock), new LaunchDims(BlockSize));
        }
        WriteTotal(perSample, total, rows);
    }

    public void KlGaussianBackward(DeviceSpan<float> muQ, DeviceSpan<float> logVarQ, DeviceSpan<float> muP, DeviceSpan<float> logVarP,
        DeviceSpan<float> dMuQ, DeviceSpan<float> dLogVarQ, DeviceSpan<float> dMuP, DeviceSpan<float> dLogVarP, int rows, int cols, float scale)
    {
        BackendChecks.KlGaussianBackward(this, muQ, logVarQ, muP, logVarP, dMuQ, dLogVarQ, dMuP, dLogVarP, rows, cols, scale);
        int n = rows * cols;
        if (n == 0) return;
        Arg(muQ); Arg(logVarQ); Arg(muP); Arg(logVarP); Arg(dMuQ); Arg(dLogVarQ); Arg(dMuP); Arg(dLogVarP); Arg(n); Arg(scale);
        Launch("losses_kl_gaussian_backward", Blocks(n), new LaunchDims(BlockSize));
    }

    // ------------------------------------------------------------------------------------------------ totals

    /// <summary>total[0] = sum of perSample[0..rows) in a fixed order, in double (when total is not the null view; 0 for no rows).</summary>
    void WriteTotal(DeviceSpan<float> perSample, DeviceSpan<float> total, int rows)
    {
        if (total.IsNull) return;
        Arg(perSample); Arg(total); Arg(rows);
        Launch("losses_total", new LaunchDims(1), new LaunchDims(BlockSize));
    }
}
