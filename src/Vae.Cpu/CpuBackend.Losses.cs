// Loss forwards and backwards: BCE with logits, squared error, Gaussian NLL, softmax cross-entropy with an ignore
// index, KL to a standard normal and KL between diagonal Gaussians, and the free-bits KL backward. A forward computes
// each row's sum (in double) inside one piece of work, then total[0] adds the rows in order. Backwards are flat
// elementwise maps; the free-bits backward first takes each column's mean KL (stripes of columns, rows in order).
using System.Numerics.Tensors;
using Vae.Cpu.Operators;
using Vae.Cpu.Threading;

namespace Vae.Cpu;

public sealed unsafe partial class CpuBackend
{
    static readonly double LogTwoPi = Math.Log(2 * Math.PI);

    public void BceWithLogitsForward(DeviceSpan<float> logits, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        BackendChecks.BceWithLogitsForward(this, logits, targets, perSample, total, rows, cols);
        // logits, targets are (rows, cols); perSample[r] = sum over the row of max(l, 0) - l t + log1p(exp(-|l|))
        var kernel = new RowSumKernel<BceWithLogitsOperator>(default, Ptr(logits), Ptr(targets), Ptr(perSample), cols, 1d, 0d);
        RangeWork.RunRows(Pool, kernel, rows, cols, RangeWork.DoubleTranscendentalCost);
        WriteTotal(perSample, total, rows);
    }

    public void BceWithLogitsBackward(DeviceSpan<float> logits, DeviceSpan<float> targets, DeviceSpan<float> dLogits, int rows, int cols, float scale)
    {
        BackendChecks.BceWithLogitsBackward(this, logits, targets, dLogits, rows, cols, scale);
        var kernel = new BinaryMapKernel<BceWithLogitsGradientOperator>(new(scale), Ptr(logits), Ptr(targets), Ptr(dLogits));
        RangeWork.RunElements(Pool, kernel, rows * cols, RangeWork.TranscendentalCost);
    }

    public void MseForward(DeviceSpan<float> prediction, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        BackendChecks.MseForward(this, prediction, targets, perSample, total, rows, cols);
        var kernel = new RowSumKernel<SquaredErrorOperator>(default, Ptr(prediction), Ptr(targets), Ptr(perSample), cols, 1d, 0d);
        RangeWork.RunRows(Pool, kernel, rows, cols, RangeWork.SimpleCost);
        WriteTotal(perSample, total, rows);
    }

    public void MseBackward(DeviceSpan<float> prediction, DeviceSpan<float> targets, DeviceSpan<float> dPrediction, int rows, int cols, float scale)
    {
        BackendChecks.MseBackward(this, prediction, targets, dPrediction, rows, cols, scale);
        var kernel = new BinaryMapKernel<SquaredErrorGradientOperator>(new(scale), Ptr(prediction), Ptr(targets), Ptr(dPrediction));
        RangeWork.RunElements(Pool, kernel, rows * cols, RangeWork.SimpleCost);
    }

    public void GaussianNllForward(DeviceSpan<float> mean, DeviceSpan<float> logVar, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        BackendChecks.GaussianNllForward(this, mean, logVar, targets, perSample, total, rows, cols);
        // row = 0.5 * (cols log(2 pi) + sum of (logVar + (target - mean)^2 exp(-logVar)))
        var kernel = new TernaryRowSumKernel<GaussianNllOperator>(default, Ptr(mean), Ptr(logVar), Ptr(targets), Ptr(perSample), cols, 0.5, cols * LogTwoPi);
        RangeWork.RunRows(Pool, kernel, rows, cols, RangeWork.TranscendentalCost);
        WriteTotal(perSample, total, rows);
    }

    public void GaussianNllBackward(DeviceSpan<float> mean, DeviceSpan<float> logVar, DeviceSpan<float> targets, DeviceSpan<float> dMean, DeviceSpan<float> dLogVar, int rows, int cols, float scale)
    {
        BackendChecks.GaussianNllBackward(this, mean, logVar, targets, dMean, dLogVar, rows, cols, scale);
        int n = rows * cols;
        var kernel = new TernaryPairMapKernel<GaussianNllGradientOperator>(new(scale), Ptr(mean), Ptr(logVar), Ptr(targets), Ptr(dMean), Ptr(dLogVar));
        RangeWork.RunElements(Pool, kernel, n, RangeWork.TranscendentalCost);
    }

    public void CrossEntropyForward(DeviceSpan<float> logits, DeviceSpan<int> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int classes, int ignoreIndex)
    {
        BackendChecks.CrossEntropyForward(this, logits, targets, perSample, total, rows, classes, ignoreIndex);
        BackendChecks.CrossEntropyTarget(Span(targets, rows), classes, ignoreIndex);
        var kernel = new CrossEntropyKernel(Ptr(logits), Ptr(targets), Ptr(perSample), null, classes, ignoreIndex, 0f);
        RangeWork.RunRows(Pool, kernel, rows, classes, RangeWork.TranscendentalCost);
        WriteTotal(perSample, total, rows);
    }

    public void CrossEntropyBackward(DeviceSpan<float> logits, DeviceSpan<int> targets, DeviceSpan<float> dLogits, int rows, int classes, int ignoreIndex, float scale)
    {
        BackendChecks.CrossEntropyBackward(this, logits, targets, dLogits, rows, classes, ignoreIndex, scale);
        BackendChecks.CrossEntropyTarget(Span(targets, rows), classes, ignoreIndex);
        var kernel = new CrossEntropyKernel(Ptr(logits), Ptr(targets), null, Ptr(dLogits), classes, ignoreIndex, scale);
        RangeWork.RunRows(Pool, kernel, rows, classes, RangeWork.DoubleTranscendentalCost);
    }

    public void KlStandardNormalForward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        BackendChecks.KlStandardNormalForward(this, mu, logVar, perSample, total, rows, cols);
        // row = -0.5 * sum of (1 + logVar - mu^2 - exp(logVar))
        var kernel = new RowSumKernel<KlStandardNormalOperator>(default, Ptr(mu), Ptr(logVar), Ptr(perSample), cols, -0.5, 0d);
        RangeWork.RunRows(Pool, kernel, rows, cols, RangeWork.TranscendentalCost);
        WriteTotal(perSample, total, rows);
    }

    public void KlStandardNormalBackward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> dMu, DeviceSpan<float> dLogVar, int rows, int cols, float scale)
    {
        BackendChecks.KlStandardNormalBackward(this, mu, logVar, dMu, dLogVar, rows, cols, scale);
        int n = rows * cols;
        var kernel = new QuaternaryPairMapKernel<KlStandardNormalGradientOperator>(new(scale), Ptr(mu), Ptr(logVar), Ptr(dMu), Ptr(dLogVar), Ptr(dMu), Ptr(dLogVar));
        RangeWork.RunElements(Pool, kernel, n, RangeWork.TranscendentalCost);
    }

    /// <summary>Columns one piece of the free-bits column means handles (its double accumulators live on the stack).</summary>
    const int FreeBitsStripe = 64;

    public void KlFreeBitsBackward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> dMu, DeviceSpan<float> dLogVar,
        DeviceSpan<float> perDimension, int rows, int cols, float scale, float freeBits)
    {
        BackendChecks.KlFreeBitsBackward(this, mu, logVar, dMu, dLogVar, perDimension, rows, cols, scale, freeBits);
        if (cols == 0) return;
        // perDimension[c] = -0.5 / rows * sum over rows (in order, in double) of (1 + logVar - mu^2 - exp(logVar)).
        float* means = Ptr(perDimension);
        int stripes = (cols + FreeBitsStripe - 1) / FreeBitsStripe;
        long stripeWork = Math.Max(1L, (long)rows * FreeBitsStripe * RangeWork.TranscendentalCost);
        int grain = (int)Math.Max(1L, RangeWork.ElementsPerPiece(RangeWork.SimpleCost) / stripeWork);   // stripes per piece of work
        var columnMeans = new KlColumnMeanKernel(Ptr(mu), Ptr(logVar), means, rows, cols);
        RangeWork.Run(Pool, columnMeans, stripes, grain, (long)rows * cols * RangeWork.TranscendentalCost);
        if (rows == 0) return;

        int active = 0;
        for (int c = 0; c < cols; c++)
            if (means[c] > freeBits) active++;
        if (active == 0) return;
        if (active == cols)
        {
            // Every dimension is above its floor: the plain KL backward.
            var all = new QuaternaryPairMapKernel<KlStandardNormalGradientOperator>(new(scale), Ptr(mu), Ptr(logVar), Ptr(dMu), Ptr(dLogVar), Ptr(dMu), Ptr(dLogVar));
            RangeWork.RunElements(Pool, all, rows * cols, RangeWork.TranscendentalCost);
            return;
        }
        var masked = new KlFreeBitsGradientKernel(new(scale), Ptr(mu), Ptr(logVar), Ptr(dMu), Ptr(dLogVar), means, cols, freeBits);
        RangeWork.RunRows(Pool, masked, rows, cols, RangeWork.TranscendentalCost);
    }

    public void KlGaussianForward(DeviceSpan<float> muQ, DeviceSpan<float> logVarQ, DeviceSpan<float> muP, DeviceSpan<float> logVarP, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        BackendChecks.KlGaussianForward(this, muQ, logVarQ, muP, logVarP, perSample, total, rows, cols);
        // row = 0.5 * sum of (logVarP - logVarQ + (exp(logVarQ) + (muQ - muP)^2) exp(-logVarP) - 1)
        var kernel = new QuaternaryRowSumKernel<KlGaussianOperator>(default, Ptr(muQ), Ptr(logVarQ), Ptr(muP), Ptr(logVarP), Ptr(perSample), cols, 0.5);
        RangeWork.RunRows(Pool, kernel, rows, cols, RangeWork.DoubleTranscendentalCost);
        WriteTotal(perSample, total, rows);
    }

    public void KlGaussianBackward(DeviceSpan<float> muQ, DeviceSpan<float> logVarQ, DeviceSpan<float> muP, DeviceSpan<float> logVarP,
        DeviceSpan<float> dMuQ, DeviceSpan<float> dLogVarQ, DeviceSpan<float> dMuP, DeviceSpan<float> dLogVarP, int rows, int cols, float scale)
    {
        BackendChecks.KlGaussianBackward(this, muQ, logVarQ, muP, logVarP, dMuQ, dLogVarQ, dMuP, dLogVarP, rows, cols, scale);
        int n = rows * cols;
        var kernel = new KlGaussianGradientKernel(new(scale), Ptr(muQ), Ptr(logVarQ), Ptr(muP), Ptr(logVarP), Ptr(dMuQ), Ptr(dLogVarQ), Ptr(dMuP), Ptr(dLogVarP));
        RangeWork.RunElements(Pool, kernel, n, RangeWork.DoubleTranscendentalCost);
    }

    // ------------------------------------------------------------------------------------------------ totals

    /// <summary>total[0] = sum of perSample[0..rows) in row order, in double (when total is not the null view).</summary>
    static void WriteTotal(DeviceSpan<float> perSample, DeviceSpan<float> total, int rows)
    {
        if (total.IsNull) return;
        float* values = Ptr(perSample);
        double sum = 0d;
        for (int r = 0; r < rows; r++) sum += values[r];
        *Ptr(total) = (float)sum;
    }

    // ------------------------------------------------------------------------------------------------ kernels

    /// <summary>perSample[r] = factor * (offset + sum over the row of op(x, y)); x, y are (rows, cols).</summary>
    readonly struct RowSumKernel<TOp>(TOp op, float* x, float* y, float* perSample, int cols, double factor, double offset) : IRangeKernel
        where TOp : unmanaged, IBinaryOperator
    {
        public void Execute(int start, int count)
        {
            for (int r = start; r < start + count; r++)
            {
                long o = (long)r * cols;
                perSample[r] = (float)(factor * (offset + VectorLoops.Sum(op, x + o, y + o, cols)));
            }
        }
    }

    /// <summary>perSample[r] = factor * (offset + sum over the row of op(x, y, z)); x, y, z are (rows, cols).</summary>
    readonly struct TernaryRowSumKernel<TOp>(TOp op, float* x, float* y, float* z, float* perSample, int cols, double factor, double offset) : IRangeKernel
        where TOp : unmanaged, ITernaryOperator
    {
        public void Execute(int start, int count)
        {
            for (int r = start; r < start + count; r++)
            {
                long o = (long)r * cols;
                perSample[r] = (float)(factor * (offset + VectorLoops.Sum(op, x + o, y + o, z + o, cols)));
            }
        }
    }

    /// <summary>perSample[r] = factor * sum over the row of op(x, y, z, w); all (rows, cols).</summary>
    readonly struct QuaternaryRowSumKernel<TOp>(TOp op, float* x, float* y, float* z, float* w, float* perSample, int cols, double factor) : IRangeKernel
        where TOp : unmanaged, IQuaternaryOperator
    {
        public void Execute(int start, int count)
        {
            for (int r = start; r < start + count; r++)
            {
                long o = (long)r * cols;
                perSample[r] = (float)(factor * VectorLoops.Sum(op, x + o, y + o, z + o, w + o, cols));
            }
        }
    }

    /// <summary>result[i] = op(x[i], y[i]) over [start, start + count).</summary>
    readonly struct BinaryMapKernel<TOp>(TOp op, float* x, float* y, float* result) : IRangeKernel where TOp : unmanaged, IBinaryOperator
    {
        public void Execute(int start, int count) => VectorLoops.Map(op, x + start, y + start, result + start, count);
    }

    /// <summary>(first[i], second[i]) = op(x[i], y[i], z[i]) over [start, start + count).</summary>
    readonly struct TernaryPairMapKernel<TOp>(TOp op, float* x, float* y, float* z, float* first, float* second) : IRangeKernel
        where TOp : unmanaged, ITernaryPairOperator
    {
        public void Execute(int start, int count) => VectorLoops.MapPair(op, x + start, y + start, z + start, first + start, second + start, count);
    }

    /// <summary>(first[i], second[i]) = op(x[i], y[i], z[i], w[i]) over [start, start + count).</summary>
    readonly struct QuaternaryPairMapKernel<TOp>(TOp op, float* x, float* y, float* z, float* w, float* first, float* second) : IRangeKernel
        where TOp : unmanaged, IQuaternaryPairOperator
    {
        public void Execute(int start, int count) =>
            VectorLoops.MapPair(op, x + start, y + start, z + start, w + start, first + start, second + start, count);
    }

    /// <summary>
    /// perDimension[c] for the columns of stripes [start, start + count) (FreeBitsStripe columns each): the KL terms of a
    /// column, each combined in double from the float inputs and a float exp, added in row order in double, times -0.5 / rows.
    /// </summary>
    readonly struct KlColumnMeanKernel(float* mu, float* logVar, float* perDimension, int rows, int cols) : IRangeKernel
    {
        public void Execute(int start, int count)
        {
            double* sums = stackalloc double[FreeBitsStripe];
            for (int stripe = start; stripe < start + count; stripe++)
            {
                int first = stripe * FreeBitsStripe, width = Math.Min(FreeBitsStripe, cols - first);
                for (int k = 0; k < width; k++) sums[k] = 0;
                for (int r = 0; r < rows; r++)
                {
                    long o = (long)r * cols + first;
                    for (int k = 0; k < width; k++)
                    {
                        float m = mu[o + k], lv = logVar[o + k];
                        sums[k] += 1.0 + lv - (double)m * m - MathF.Exp(lv);
                    }
                }
                for (int k = 0; k < width; k++) perDimension[first + k] = rows == 0 ? 0f : (float)(-0.5 * sums[k] / rows);
            }
        }
    }

    /// <summary>
    /// Rows [start, start + count): the KL standard-normal gradient accumulated into the columns whose perDimension &gt; freeBits,
    /// one vector map per run of consecutive such columns.
    /// </summary>
    readonly struct KlFreeBitsGradientKernel(KlStandardNormalGradientOperator op, float* mu, float* logVar, float* dMu, float* dLogVar,
        float* perDimension, int cols, float freeBits) : IRangeKernel
    {
        public void Execute(int start, int count)
        {
            for (int r = start; r < start + count; r++)
            {
                long o = (long)r * cols;
                int c = 0;
                while (c < cols)
                {
                    if (!(perDimension[c] > freeBits)) { c++; continue; }
                    int end = c + 1;
                    while (end < cols && perDimension[end] > freeBits) end++;
                    long i = o + c;
                    VectorLoops.MapPair(op, mu + i, logVar + i, dMu + i, dLogVar + i, dMu + i, dLogVar + i, end - c);
                    c = end;
                }
            }
        }
    }

    readonly struct KlGaussianGradientKernel(KlGaussianGradientOperator op, float* muQ, float* logVarQ, float* muP, float* logVarP,
        float* dMuQ, float* dLogVarQ, float* dMuP, float* dLogVarP) : IRangeKernel
    {
        public void Execute(int start, int count) => VectorLoops.AccumulateGradients(op, muQ + start, logVarQ + start, muP + start, logVarP + start,
            dMuQ + start, dLogVarQ + start, dMuP + start, dLogVarP + start, count);
    }

    /// <summary>
    /// Softmax cross-entropy per row of logits (rows, classes). Forward (perSample not null): perSample[r] = logsumexp - logit
    /// of the target. Backward (dLogits not null): dLogits row = scale * (softmax - onehot). Ignored rows give 0.
    /// </summary>
    readonly struct CrossEntropyKernel(float* logits, int* targets, float* perSample, float* dLogits, int classes, int ignoreIndex, float scale) : IRangeKernel
    {
        public void Execute(int start, int count)
        {
            for (int r = start; r < start + count; r++)
            {
                int target = targets[r];
                float* row = logits + (long)r * classes;
                if (target == ignoreIndex)
                {
                    if (perSample != null) perSample[r] = 0f;
                    else new Span<float>(dLogits + (long)r * classes, classes).Clear();
                    continue;
                }
                float max = TensorPrimitives.Max(new ReadOnlySpan<float>(row, classes));
                if (perSample != null)
                {
                    double sum = VectorLoops.Sum(new ShiftedExpOperator(max), row, classes);
                    perSample[r] = (float)(max + Math.Log(sum) - row[target]);
                }
                else
                {
                    // Softmax numerators written once, then scaled by scale / sum (the row may be dLogits itself).
                    var gradient = new Span<float>(dLogits + (long)r * classes, classes);
                    double sum = VectorLoops.MapAndSum(new ShiftedExpOperator(max), row, dLogits + (long)r * classes, classes);
                    TensorPrimitives.Multiply(gradient, (float)(scale / sum), gradient);
                    gradient[target] -= scale;
                }
            }
        }
    }
}
