// Per-row primitives: SoftmaxRows (each row's softmax and, optionally, its log-sum-exp), ScaleRows (each row times
// its own factor) and ArgMaxRows (the column of each row's largest element). A row is handled inside one piece of work:
// the softmax takes the row maximum, writes the numerators exp(x - max) while summing them in double, then multiplies
// the row by 1 / sum; the arg-max takes the row maximum, then searches the row for its first occurrence. Rows are
// spread over the pool in pieces that depend only on the shape.
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
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

    public void ArgMaxRows(DeviceSpan<float> x, DeviceSpan<int> indices, int rows, int cols)
    {
        BackendChecks.ArgMaxRows(this, x, indices, rows, cols);
        // Two vector passes over the row (the maximum, then the search), each about one simple operation per element.
        RangeWork.RunRows(Pool, new ArgMaxRowsKernel(Ptr(x), Ptr(indices), cols), rows, cols, 2 * RangeWork.SimpleCost);
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

    /// <summary>
    /// Rows [start, start + count) (cols &gt; 0): indices[r] = the first column of row r that holds its maximum. The maximum
    /// comes from TensorPrimitives.Max, which returns NaN when the row holds one, so a NaN row gives its first NaN. The
    /// search compares with ==, under which -0 and +0 are equal, so zeros of either sign tie as torch.argmax has them.
    /// (TensorPrimitives.IndexOfMax is not used: it ranks +0 above -0, so [-0, +0] would give 1 where torch gives 0.)
    /// </summary>
    readonly struct ArgMaxRowsKernel(float* x, int* indices, int cols) : IRangeKernel
    {
        public void Execute(int start, int count)
        {
            for (int r = start; r < start + count; r++)
            {
                float* row = x + (long)r * cols;
                float max = TensorPrimitives.Max(new ReadOnlySpan<float>(row, cols));
                indices[r] = float.IsNaN(max) ? FirstNaN(row, cols) : FirstEqual(row, cols, max);
            }
        }

        /// <summary>The first i with row[i] == value; value is one of the row's elements (not NaN), so there is one.</summary>
        static int FirstEqual(float* row, int cols, float value)
        {
            int i = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                var target = Vector512.Create(value);
                for (; i <= cols - Vector512<float>.Count; i += Vector512<float>.Count)
                {
                    ulong hits = Vector512.Equals(Vector512.Load(row + i), target).ExtractMostSignificantBits();
                    if (hits != 0) return i + BitOperations.TrailingZeroCount(hits);
                }
            }
            if (Vector256.IsHardwareAccelerated)
            {
                var target = Vector256.Create(value);
                for (; i <= cols - Vector256<float>.Count; i += Vector256<float>.Count)
                {
                    uint hits = Vector256.Equals(Vector256.Load(row + i), target).ExtractMostSignificantBits();
                    if (hits != 0) return i + BitOperations.TrailingZeroCount(hits);
                }
            }
            for (; i < cols - 1; i++)
            {
                if (row[i] == value) return i;
            }
            return cols - 1;   // the last element: the maximum was not found before it, so it is there
        }

        /// <summary>The first i with row[i] NaN; the row holds one (its maximum is NaN).</summary>
        static int FirstNaN(float* row, int cols)
        {
            int i = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; i <= cols - Vector512<float>.Count; i += Vector512<float>.Count)
                {
                    var v = Vector512.Load(row + i);
                    ulong hits = ~Vector512.Equals(v, v).ExtractMostSignificantBits() & 0xFFFF;   // NaN is the one value unequal to itself
                    if (hits != 0) return i + BitOperations.TrailingZeroCount(hits);
                }
            }
            if (Vector256.IsHardwareAccelerated)
            {
                for (; i <= cols - Vector256<float>.Count; i += Vector256<float>.Count)
                {
                    var v = Vector256.Load(row + i);
                    uint hits = ~Vector256.Equals(v, v).ExtractMostSignificantBits() & 0xFF;
                    if (hits != 0) return i + BitOperations.TrailingZeroCount(hits);
                }
            }
            for (; i < cols - 1; i++)
            {
                if (float.IsNaN(row[i])) return i;
            }
            return cols - 1;   // the last element: no NaN before it, and the row holds one
        }
    }
}
