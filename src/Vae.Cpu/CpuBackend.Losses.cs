// Loss forwards and backwards: BCE with logits, squared error, Gaussian NLL, softmax cross-entropy with an ignore
// index, KL to a standard normal and KL between diagonal Gaussians. A forward computes each row's sum (in double)
// inside one piece of work, then total[0] adds the rows in order. Backwards are flat elementwise maps.
using System.Numerics.Tensors;
using Vae.Cpu.Operators;
using Vae.Cpu.Threading;

namespace Vae.Cpu;

public sealed unsafe partial class CpuBackend
{
    static readonly double LogTwoPi = Math.Log(2 * Math.PI);

    public void BceWithLogitsForward(DeviceSpan<float> logits, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        CheckLossInputs(perSample, total, rows, cols, logits, targets, nameof(logits), nameof(targets));
        // logits, targets are (rows, cols); perSample[r] = sum over the row of max(l, 0) - l t + log1p(exp(-|l|))
        var kernel = new RowSumKernel<BceWithLogitsOperator>(default, Ptr(logits), Ptr(targets), Ptr(perSample), cols, 1d, 0d);
        RangeWork.RunRows(Pool, kernel, rows, cols, RangeWork.DoubleTranscendentalCost);
        WriteTotal(perSample, total, rows);
    }

    public void BceWithLogitsBackward(DeviceSpan<float> logits, DeviceSpan<float> targets, DeviceSpan<float> dLogits, int rows, int cols, float scale)
    {
        CheckGradient(dLogits, logits, rows, cols, nameof(dLogits), nameof(logits));
        CheckGradient(dLogits, targets, rows, cols, nameof(dLogits), nameof(targets));
        var kernel = new BinaryMapKernel<BceWithLogitsGradientOperator>(new(scale), Ptr(logits), Ptr(targets), Ptr(dLogits));
        RangeWork.RunElements(Pool, kernel, rows * cols, RangeWork.TranscendentalCost);
    }

    public void MseForward(DeviceSpan<float> prediction, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        CheckLossInputs(perSample, total, rows, cols, prediction, targets, nameof(prediction), nameof(targets));
        var kernel = new RowSumKernel<SquaredErrorOperator>(default, Ptr(prediction), Ptr(targets), Ptr(perSample), cols, 1d, 0d);
        RangeWork.RunRows(Pool, kernel, rows, cols, RangeWork.SimpleCost);
        WriteTotal(perSample, total, rows);
    }

    public void MseBackward(DeviceSpan<float> prediction, DeviceSpan<float> targets, DeviceSpan<float> dPrediction, int rows, int cols, float scale)
    {
        CheckGradient(dPrediction, prediction, rows, cols, nameof(dPrediction), nameof(prediction));
        CheckGradient(dPrediction, targets, rows, cols, nameof(dPrediction), nameof(targets));
        var kernel = new BinaryMapKernel<SquaredErrorGradientOperator>(new(scale), Ptr(prediction), Ptr(targets), Ptr(dPrediction));
        RangeWork.RunElements(Pool, kernel, rows * cols, RangeWork.SimpleCost);
    }

    public void GaussianNllForward(DeviceSpan<float> mean, DeviceSpan<float> logVar, DeviceSpan<float> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        CheckLossInputs(perSample, total, rows, cols, mean, logVar, nameof(mean), nameof(logVar));
        CheckLossInput(perSample, rows, cols, targets, nameof(targets));
        // row = 0.5 * (cols log(2 pi) + sum of (logVar + (target - mean)^2 exp(-logVar)))
        var kernel = new TernaryRowSumKernel<GaussianNllOperator>(default, Ptr(mean), Ptr(logVar), Ptr(targets), Ptr(perSample), cols, 0.5, cols * LogTwoPi);
        RangeWork.RunRows(Pool, kernel, rows, cols, RangeWork.TranscendentalCost);
        WriteTotal(perSample, total, rows);
    }

    public void GaussianNllBackward(DeviceSpan<float> mean, DeviceSpan<float> logVar, DeviceSpan<float> targets, DeviceSpan<float> dMean, DeviceSpan<float> dLogVar, int rows, int cols, float scale)
    {
        CheckGradient(dMean, mean, rows, cols, nameof(dMean), nameof(mean));
        CheckGradient(dMean, logVar, rows, cols, nameof(dMean), nameof(logVar));
        CheckGradient(dMean, targets, rows, cols, nameof(dMean), nameof(targets));
        CheckGradient(dLogVar, mean, rows, cols, nameof(dLogVar), nameof(mean));
        CheckGradient(dLogVar, logVar, rows, cols, nameof(dLogVar), nameof(logVar));
        CheckGradient(dLogVar, targets, rows, cols, nameof(dLogVar), nameof(targets));
        int n = rows * cols;
        BackendChecks.NoOverlap(dMean.Slice(0, n), dLogVar.Slice(0, n), nameof(dMean), nameof(dLogVar));
        var kernel = new TernaryPairMapKernel<GaussianNllGradientOperator>(new(scale), Ptr(mean), Ptr(logVar), Ptr(targets), Ptr(dMean), Ptr(dLogVar));
        RangeWork.RunElements(Pool, kernel, n, RangeWork.TranscendentalCost);
    }

    public void CrossEntropyForward(DeviceSpan<float> logits, DeviceSpan<int> targets, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int classes, int ignoreIndex)
    {
        BackendChecks.LossForward(this, perSample, total, rows, classes);
        BackendChecks.Matrix(this, logits, rows, classes);
        BackendChecks.Matrix(this, targets, rows, 1);
        BackendChecks.NoOverlap(perSample.Slice(0, rows), logits.Slice(0, rows * classes), nameof(perSample), nameof(logits));
        CheckCrossEntropyTargets(Ptr(targets), rows, classes, ignoreIndex);
        var kernel = new CrossEntropyKernel(Ptr(logits), Ptr(targets), Ptr(perSample), null, classes, ignoreIndex, 0f);
        RangeWork.RunRows(Pool, kernel, rows, classes, RangeWork.TranscendentalCost);
        WriteTotal(perSample, total, rows);
    }

    public void CrossEntropyBackward(DeviceSpan<float> logits, DeviceSpan<int> targets, DeviceSpan<float> dLogits, int rows, int classes, int ignoreIndex, float scale)
    {
        BackendChecks.NonNegative(rows); BackendChecks.NonNegative(classes);
        BackendChecks.Matrix(this, logits, rows, classes);
        BackendChecks.Matrix(this, targets, rows, 1);
        BackendChecks.Matrix(this, dLogits, rows, classes);
        int n = rows * classes;
        BackendChecks.IdenticalOrDisjoint(logits.Slice(0, n), dLogits.Slice(0, n), nameof(logits), nameof(dLogits));
        CheckCrossEntropyTargets(Ptr(targets), rows, classes, ignoreIndex);
        var kernel = new CrossEntropyKernel(Ptr(logits), Ptr(targets), null, Ptr(dLogits), classes, ignoreIndex, scale);
        RangeWork.RunRows(Pool, kernel, rows, classes, RangeWork.DoubleTranscendentalCost);
    }

    public void KlStandardNormalForward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        CheckLossInputs(perSample, total, rows, cols, mu, logVar, nameof(mu), nameof(logVar));
        // row = -0.5 * sum of (1 + logVar - mu^2 - exp(logVar))
        var kernel = new RowSumKernel<KlStandardNormalOperator>(default, Ptr(mu), Ptr(logVar), Ptr(perSample), cols, -0.5, 0d);
        RangeWork.RunRows(Pool, kernel, rows, cols, RangeWork.TranscendentalCost);
        WriteTotal(perSample, total, rows);
    }

    public void KlStandardNormalBackward(DeviceSpan<float> mu, DeviceSpan<float> logVar, DeviceSpan<float> dMu, DeviceSpan<float> dLogVar, int rows, int cols, float scale)
    {
        CheckGradient(dMu, mu, rows, cols, nameof(dMu), nameof(mu));
        CheckGradient(dMu, logVar, rows, cols, nameof(dMu), nameof(logVar));
        CheckGradient(dLogVar, mu, rows, cols, nameof(dLogVar), nameof(mu));
        CheckGradient(dLogVar, logVar, rows, cols, nameof(dLogVar), nameof(logVar));
        int n = rows * cols;
        BackendChecks.NoOverlap(dMu.Slice(0, n), dLogVar.Slice(0, n), nameof(dMu), nameof(dLogVar));
        var kernel = new QuaternaryPairMapKernel<KlStandardNormalGradientOperator>(new(scale), Ptr(mu), Ptr(logVar), Ptr(dMu), Ptr(dLogVar), Ptr(dMu), Ptr(dLogVar));
        RangeWork.RunElements(Pool, kernel, n, RangeWork.TranscendentalCost);
    }

    public void KlGaussianForward(DeviceSpan<float> muQ, DeviceSpan<float> logVarQ, DeviceSpan<float> muP, DeviceSpan<float> logVarP, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        CheckLossInputs(perSample, total, rows, cols, muQ, logVarQ, nameof(muQ), nameof(logVarQ));
        CheckLossInputs(perSample, total, rows, cols, muP, logVarP, nameof(muP), nameof(logVarP));
        // row = 0.5 * sum of (logVarP - logVarQ + (exp(logVarQ) + (muQ - muP)^2) exp(-logVarP) - 1)
        var kernel = new QuaternaryRowSumKernel<KlGaussianOperator>(default, Ptr(muQ), Ptr(logVarQ), Ptr(muP), Ptr(logVarP), Ptr(perSample), cols, 0.5);
        RangeWork.RunRows(Pool, kernel, rows, cols, RangeWork.DoubleTranscendentalCost);
        WriteTotal(perSample, total, rows);
    }

    public void KlGaussianBackward(DeviceSpan<float> muQ, DeviceSpan<float> logVarQ, DeviceSpan<float> muP, DeviceSpan<float> logVarP,
        DeviceSpan<float> dMuQ, DeviceSpan<float> dLogVarQ, DeviceSpan<float> dMuP, DeviceSpan<float> dLogVarP, int rows, int cols, float scale)
    {
        CheckKlGaussianGradient(dMuQ, muQ, logVarQ, muP, logVarP, rows, cols, nameof(dMuQ));
        CheckKlGaussianGradient(dLogVarQ, muQ, logVarQ, muP, logVarP, rows, cols, nameof(dLogVarQ));
        CheckKlGaussianGradient(dMuP, muQ, logVarQ, muP, logVarP, rows, cols, nameof(dMuP));
        CheckKlGaussianGradient(dLogVarP, muQ, logVarQ, muP, logVarP, rows, cols, nameof(dLogVarP));
        int n = rows * cols;
        DeviceSpan<float> a = dMuQ.Slice(0, n), b = dLogVarQ.Slice(0, n), c = dMuP.Slice(0, n), d = dLogVarP.Slice(0, n);
        BackendChecks.NoOverlap(a, b, nameof(dMuQ), nameof(dLogVarQ));
        BackendChecks.NoOverlap(a, c, nameof(dMuQ), nameof(dMuP));
        BackendChecks.NoOverlap(a, d, nameof(dMuQ), nameof(dLogVarP));
        BackendChecks.NoOverlap(b, c, nameof(dLogVarQ), nameof(dMuP));
        BackendChecks.NoOverlap(b, d, nameof(dLogVarQ), nameof(dLogVarP));
        BackendChecks.NoOverlap(c, d, nameof(dMuP), nameof(dLogVarP));
        var kernel = new KlGaussianGradientKernel(new(scale), Ptr(muQ), Ptr(logVarQ), Ptr(muP), Ptr(logVarP), Ptr(dMuQ), Ptr(dLogVarQ), Ptr(dMuP), Ptr(dLogVarP));
        RangeWork.RunElements(Pool, kernel, n, RangeWork.DoubleTranscendentalCost);
    }

    // ------------------------------------------------------------------------------------------------ checks and totals

    /// <summary>LossForward's checks, plus: both inputs are (rows, cols) and perSample overlaps neither.</summary>
    void CheckLossInputs(DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols,
        DeviceSpan<float> first, DeviceSpan<float> second, string firstName, string secondName)
    {
        BackendChecks.LossForward(this, perSample, total, rows, cols);
        CheckLossInput(perSample, rows, cols, first, firstName);
        CheckLossInput(perSample, rows, cols, second, secondName);
    }

    void CheckLossInput(DeviceSpan<float> perSample, int rows, int cols, DeviceSpan<float> input, string name)
    {
        BackendChecks.Matrix(this, input, rows, cols, name);
        BackendChecks.NoOverlap(perSample.Slice(0, rows), input.Slice(0, rows * cols), nameof(perSample), name);
    }

    /// <summary>gradient and input are (rows, cols), and the gradient's elements are identical to or disjoint from the input's.</summary>
    void CheckGradient(DeviceSpan<float> gradient, DeviceSpan<float> input, int rows, int cols, string gradientName, string inputName)
    {
        BackendChecks.Matrix(this, gradient, rows, cols, gradientName);
        BackendChecks.Matrix(this, input, rows, cols, inputName);
        int n = rows * cols;
        BackendChecks.IdenticalOrDisjoint(gradient.Slice(0, n), input.Slice(0, n), gradientName, inputName);
    }

    void CheckKlGaussianGradient(DeviceSpan<float> gradient, DeviceSpan<float> muQ, DeviceSpan<float> logVarQ, DeviceSpan<float> muP, DeviceSpan<float> logVarP,
        int rows, int cols, string gradientName)
    {
        CheckGradient(gradient, muQ, rows, cols, gradientName, nameof(muQ));
        CheckGradient(gradient, logVarQ, rows, cols, gradientName, nameof(logVarQ));
        CheckGradient(gradient, muP, rows, cols, gradientName, nameof(muP));
        CheckGradient(gradient, logVarP, rows, cols, gradientName, nameof(logVarP));
    }

    /// <summary>Every target is a class index in [0, classes) or the ignore index; throws before anything is written.</summary>
    static void CheckCrossEntropyTargets(int* targets, int rows, int classes, int ignoreIndex)
    {
        for (int r = 0; r < rows; r++) BackendChecks.CrossEntropyTarget(targets[r], r, classes, ignoreIndex);
    }

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
