// Per-row primitives: SoftmaxRows (each row's softmax and, optionally, its log-sum-exp) and ScaleRows (each row times
// its own factor). A row is handled inside one piece of work: the softmax takes the row maximum, writes the numerators
// exp(x - max) while summing them in double, then multiplies the row by 1 / sum. Rows are spread over the pool in
// pieces that depend only on the shape.
using System.Numerics.Tensors;
using Vae.Cpu.Operators;
using Vae.Cpu.Threading;

namespace Vae.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void SoftmaxRows(DeviceSpan<float> x, DeviceSpan<float> y, DeviceSpan<float> logSumExp, int rows, int cols)
    {
        BackendChecks.SoftmaxRows(this, x, y, logSumExp, rows, cols);
        var kernel = new SoftmaxRowsKernel(Ptr(x), Ptr(y), logSumExp.IsNull ? null : Ptr(logSumExp), cols);
        RangeWork.RunRows(Pool, kernel, rows, Math.Max(cols, 1), RangeWork.TranscendentalCost);
    }

    public void ScaleRows(DeviceSpan<float> x, DeviceSpan<float> rowScale, DeviceSpan<float> y, int rows, int cols)
    {
        BackendChecks.ScaleRows(this, x, rowScale, y, rows, cols);
        if (cols == 0) return;
        RangeWork.RunRows(Pool, new ScaleRowsKernel(Ptr(x), Ptr(rowScale), Ptr(y), cols), rows, cols, RangeWork.SimpleCost);
    }

    /// <summary>
    /// Rows [start, start + count): y = exp(x - max) * (1 / sum), sum of the float numerators in double; logSumExp (if not
    /// null) = max + log(sum). NaN in a row makes the maximum NaN (TensorPrimitives.Max propagates it), and +inf or an
    /// all -inf row make x - max NaN somewhere, so such rows come out NaN throughout, as the interface says.
    /// </summary>
    readonly struct SoftmaxRowsKernel(float* x, float* y, float* logSumExp, int cols) : IRangeKernel
    {
        public void Execute(int start, int count)
        {
            for (int r = start; r < start + count; r++)
            {
                if (cols == 0)
                {
                    if (logSumExp != null) logSumExp[r] = float.NegativeInfinity;
                    continue;
                }
                float* row = x + (long)r * cols;
                float* output = y + (long)r * cols;
                float max = TensorPrimitives.Max(new ReadOnlySpan<float>(row, cols));
                double sum = VectorLoops.MapAndSum(new ShiftedExpOperator(max), row, output, cols);   // row may be output itself
                var values = new Span<float>(output, cols);
                TensorPrimitives.Multiply(values, (float)(1 / sum), values);
                if (logSumExp != null) logSumExp[r] = (float)(max + Math.Log(sum));
            }
        }
    }

    /// <summary>Rows [start, start + count): y row r = rowScale[r] * x row r.</summary>
    readonly struct ScaleRowsKernel(float* x, float* rowScale, float* y, int cols) : IRangeKernel
    {
        public void Execute(int start, int count)
        {
            for (int r = start; r < start + count; r++)
            {
                long o = (long)r * cols;
                TensorPrimitives.Multiply(new ReadOnlySpan<float>(x + o, cols), rowScale[r], new Span<float>(y + o, cols));
            }
        }
    }
}
