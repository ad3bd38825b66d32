// Elementwise primitives: Copy, Fill, Scale, Axpy, Concat, Split and Sum, plus the fixed-order chunked reduction
// that Sum and GlobalNorm share. Large inputs are split over the pool in pieces that depend only on the length.
using System.Numerics.Tensors;
using Vae.Cpu.Operators;
using Vae.Cpu.Threading;

namespace Vae.Cpu;

public sealed unsafe partial class CpuBackend
{
    /// <summary>Elements per reduction chunk; each chunk's partial sum is a double.</summary>
    const int ReductionChunk = 4096;

    /// <summary>At most this many partial sums (stack space); chunks are grouped when there would be more.</summary>
    const int MaxReductionGroups = 1024;

    public void Copy(DeviceSpan<float> source, DeviceSpan<float> destination)
    {
        BackendChecks.Copy(this, source, destination);
        if (source == destination) return;
        RangeWork.RunElements(Pool, new CopyKernel(Ptr(source), Ptr(destination)), source.Length, RangeWork.SimpleCost);
    }

    public void Fill(DeviceSpan<float> x, float value)
    {
        BackendChecks.Fill(this, x, value);
        RangeWork.RunElements(Pool, new FillKernel(Ptr(x), value), x.Length, RangeWork.SimpleCost);
    }

    public void Scale(DeviceSpan<float> x, float alpha)
    {
        BackendChecks.Scale(this, x, alpha);
        RangeWork.RunElements(Pool, new ScaleKernel(Ptr(x), alpha), x.Length, RangeWork.SimpleCost);
    }

    public void Axpy(float alpha, DeviceSpan<float> x, DeviceSpan<float> y)
    {
        BackendChecks.Axpy(this, alpha, x, y);
        RangeWork.RunElements(Pool, new AxpyKernel(alpha, Ptr(x), Ptr(y)), x.Length, RangeWork.SimpleCost);
    }

    public void Concat(DeviceSpan<float> a, DeviceSpan<float> b, DeviceSpan<float> output, int rows, int colsA, int colsB)
    {
        BackendChecks.Concat(this, a, b, output, rows, colsA, colsB);
        // output is (rows, colsA + colsB): row r = [a row r | b row r]
        RangeWork.RunRows(Pool, new InterleaveKernel(Ptr(output), Ptr(a), Ptr(b), colsA, colsB, split: false), rows, colsA + colsB, RangeWork.SimpleCost);
    }

    public void Split(DeviceSpan<float> input, DeviceSpan<float> a, DeviceSpan<float> b, int rows, int colsA, int colsB)
    {
        BackendChecks.Split(this, input, a, b, rows, colsA, colsB);
        RangeWork.RunRows(Pool, new InterleaveKernel(Ptr(input), Ptr(a), Ptr(b), colsA, colsB, split: true), rows, colsA + colsB, RangeWork.SimpleCost);
    }

    public void Sum(DeviceSpan<float> x, DeviceSpan<float> result)
    {
        BackendChecks.Sum(this, x, result);
        *Ptr(result) = (float)SumInFixedOrder(Ptr(x), x.Length, squares: false);
    }

    /// <summary>
    /// Sum of x (or of x^2) in double, independent of the thread count: partial sums of fixed 4096-element chunks
    /// (consecutive chunks grouped so that there are at most 1024 groups), added in chunk order.
    /// </summary>
    double SumInFixedOrder(float* x, int length, bool squares)
    {
        if (length == 0) return 0d;
        int chunks = (length + ReductionChunk - 1) / ReductionChunk;
        int chunksPerGroup = (chunks + MaxReductionGroups - 1) / MaxReductionGroups;
        int groups = (chunks + chunksPerGroup - 1) / chunksPerGroup;
        double* partials = stackalloc double[groups];
        var kernel = new ChunkSumKernel(x, length, chunksPerGroup, partials, squares);
        RangeWork.Run(Pool, kernel, groups, Math.Max(1, RangeWork.ElementsPerPiece(RangeWork.SimpleCost) / (chunksPerGroup * ReductionChunk)), length);
        double total = 0d;
        for (int g = 0; g < groups; g++) total += partials[g];
        return total;
    }

    // ------------------------------------------------------------------------------------------------ kernels

    readonly struct CopyKernel(float* source, float* destination) : IRangeKernel
    {
        public void Execute(int start, int count) =>
            new ReadOnlySpan<float>(source + start, count).CopyTo(new Span<float>(destination + start, count));
    }

    readonly struct FillKernel(float* x, float value) : IRangeKernel
    {
        public void Execute(int start, int count) => new Span<float>(x + start, count).Fill(value);
    }

    readonly struct ScaleKernel(float* x, float alpha) : IRangeKernel
    {
        public void Execute(int start, int count)
        {
            var span = new Span<float>(x + start, count);
            TensorPrimitives.Multiply(span, alpha, span);
        }
    }

    /// <summary>y += alpha x, fused.</summary>
    readonly struct AxpyKernel(float alpha, float* x, float* y) : IRangeKernel
    {
        public void Execute(int start, int count)
        {
            var ySpan = new Span<float>(y + start, count);
            TensorPrimitives.FusedMultiplyAdd(new ReadOnlySpan<float>(x + start, count), alpha, ySpan, ySpan);
        }
    }

    /// <summary>Concat (wide row r = [a row r | b row r]) or, with split, its inverse. wide is (rows, colsA + colsB).</summary>
    readonly struct InterleaveKernel(float* wide, float* a, float* b, int colsA, int colsB, bool split) : IRangeKernel
    {
        public void Execute(int start, int count)
        {
            int cols = colsA + colsB;
            for (int r = start; r < start + count; r++)
            {
                var wideRow = new Span<float>(wide + (long)r * cols, cols);
                var aRow = new Span<float>(a + (long)r * colsA, colsA);
                var bRow = new Span<float>(b + (long)r * colsB, colsB);
                if (split)
                {
                    wideRow[..colsA].CopyTo(aRow);
                    wideRow[colsA..].CopyTo(bRow);
                }
                else
                {
                    aRow.CopyTo(wideRow);
                    bRow.CopyTo(wideRow[colsA..]);
                }
            }
        }
    }

    /// <summary>partials[g] = sum over the chunks of group g, in chunk order, of the chunk's sum (or sum of squares).</summary>
    readonly struct ChunkSumKernel(float* x, int length, int chunksPerGroup, double* partials, bool squares) : IRangeKernel
    {
        public void Execute(int start, int count)
        {
            for (int g = start; g < start + count; g++)
            {
                double sum = 0d;
                long first = (long)g * chunksPerGroup * ReductionChunk;
                long end = Math.Min(length, first + (long)chunksPerGroup * ReductionChunk);
                for (long c = first; c < end; c += ReductionChunk)
                {
                    int n = (int)Math.Min(ReductionChunk, end - c);
                    sum += squares ? VectorLoops.SumOfSquares(x + c, n) : VectorLoops.Sum(new IdentityOperator(), x + c, n);
                }
                partials[g] = sum;
            }
        }
    }
}
