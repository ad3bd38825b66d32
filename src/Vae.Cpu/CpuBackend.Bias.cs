// Bias primitives: BiasAdd broadcasts a bias row over a batch; BiasGradient accumulates its column sums.
using System.Numerics.Tensors;
using Vae.Cpu.Operators;
using Vae.Cpu.Threading;

namespace Vae.Cpu;

public sealed unsafe partial class CpuBackend
{
    /// <summary>Columns per BiasGradient piece: a stripe of 64 columns is summed over all rows by one thread.</summary>
    const int BiasStripe = 64;

    public void BiasAdd(DeviceSpan<float> x, DeviceSpan<float> bias, int rows, int cols)
    {
        BackendChecks.BiasAdd(this, x, bias, rows, cols);
        RangeWork.RunRows(Pool, new BiasAddKernel(Ptr(x), Ptr(bias), cols), rows, cols, RangeWork.SimpleCost);
    }

    public void BiasGradient(DeviceSpan<float> dy, DeviceSpan<float> dBias, int rows, int cols)
    {
        BackendChecks.BiasGradient(this, dy, dBias, rows, cols);
        // Each column is summed in row order by one thread, so the split over stripes changes nothing.
        int stripes = (cols + BiasStripe - 1) / BiasStripe;
        RangeWork.Run(Pool, new BiasGradientKernel(Ptr(dy), Ptr(dBias), rows, cols), stripes, 1, (long)rows * cols);
    }

    /// <summary>x (rows, cols) row r += bias (cols).</summary>
    readonly struct BiasAddKernel(float* x, float* bias, int cols) : IRangeKernel
    {
        public void Execute(int start, int count)
        {
            var biasRow = new ReadOnlySpan<float>(bias, cols);
            for (int r = start; r < start + count; r++)
            {
                var row = new Span<float>(x + (long)r * cols, cols);
                TensorPrimitives.Add(row, biasRow, row);
            }
        }
    }

    /// <summary>dBias (cols) += column sums of dy (rows, cols) for the column stripes [start, start + count).</summary>
    readonly struct BiasGradientKernel(float* dy, float* dBias, int rows, int cols) : IRangeKernel
    {
        public void Execute(int start, int count)
        {
            int firstColumn = start * BiasStripe;
            int width = Math.Min(cols, (start + count) * BiasStripe) - firstColumn;
            VectorLoops.AddColumnSums(dy + firstColumn, dBias + firstColumn, rows, width, cols);
        }
    }
}
