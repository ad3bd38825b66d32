// Elementwise launchers: Copy (a device-to-device copy), Fill, Scale, Axpy, Concat, Split and Sum, whose kernels live in
// kernels/elementwise.ptx, plus what the fixed-order reductions (Sum here, BiasGradient in CudaBackend.Bias.cs) share: a
// scratch buffer for per-block partial sums, allocated once on first use and kept, and the capped grid-stride grid.
using Vae.Cuda.Device;

namespace Vae.Cuda;

public sealed unsafe partial class CudaBackend
{
    /// <summary>Most blocks of a grid-stride elementwise launch (each thread then loops over the rest).</summary>
    const int MaxStrideBlocks = 8192;

    /// <summary>Most blocks (so partial sums) of Sum's first pass.</summary>
    const int MaxSumBlocks = 1024;

    /// <summary>Elements per block below which Sum uses fewer blocks (each thread sums at least 4).</summary>
    const int SumElementsPerBlock = BlockSize * 4;

    /// <summary>
    /// Bytes of the reduction scratch: room for MaxSumBlocks doubles (Sum) and for BiasGradient's chunks * cols doubles,
    /// which the chunk choice keeps at most BiasTargetBlocks * BiasTileColumns.
    /// </summary>
    const long ReductionScratchBytes = (long)BiasTargetBlocks * BiasTileColumns * sizeof(double);

    CudaBuffer? _reductionScratch;

    /// <summary>Device address of the reduction scratch (allocated on first use, then reused by every reduction).</summary>
    ulong ReductionScratch()
    {
        _reductionScratch ??= (CudaBuffer)Allocate(ReductionScratchBytes);
        return _reductionScratch.Pointer;
    }

    /// <summary>A grid of BlockSize-thread blocks for a grid-stride loop over <paramref name="count"/> elements.</summary>
    static LaunchDims StrideGrid(long count) =>
        new((uint)Math.Clamp((count + BlockSize - 1) / BlockSize, 1, MaxStrideBlocks));

    public void Copy(DeviceSpan<float> source, DeviceSpan<float> destination)
    {
        BackendChecks.Copy(this, source, destination);
        if (source.Length == 0 || source == destination) return;
        _device.CopyDeviceToDevice(Ptr(destination), Ptr(source), (long)source.Length * sizeof(float));
    }

    public void Fill(DeviceSpan<float> x, float value)
    {
        BackendChecks.Fill(this, x, value);
        if (x.Length == 0) return;
        Arg(x); Arg(x.Length); Arg(BitConverter.SingleToUInt32Bits(value));
        Launch("elementwise_fill", StrideGrid(x.Length), new LaunchDims(BlockSize));
    }

    public void Scale(DeviceSpan<float> x, float alpha)
    {
        BackendChecks.Scale(this, x, alpha);
        if (x.Length == 0) return;
        Arg(x); Arg(x.Length); Arg(alpha);
        Launch("elementwise_scale", StrideGrid(x.Length), new LaunchDims(BlockSize));
    }

    public void Axpy(float alpha, DeviceSpan<float> x, DeviceSpan<float> y)
    {
        BackendChecks.Axpy(this, alpha, x, y);
        if (x.Length == 0) return;
        Arg(x); Arg(y); Arg(x.Length); Arg(alpha);
        Launch("elementwise_axpy", StrideGrid(x.Length), new LaunchDims(BlockSize));
    }

    public void Concat(DeviceSpan<float> a, DeviceSpan<float> b, DeviceSpan<float> output, int rows, int colsA, int colsB)
    {
        BackendChecks.Concat(this, a, b, output, rows, colsA, colsB);
        long total = (long)rows * (colsA + colsB);
        if (total == 0) return;
        Arg(a); Arg(b); Arg(output); Arg(rows); Arg(colsA); Arg(colsB);
        Launch("elementwise_concat", StrideGrid(total), new LaunchDims(BlockSize));
    }

    public void Split(DeviceSpan<float> input, DeviceSpan<float> a, DeviceSpan<float> b, int rows, int colsA, int colsB)
    {
        BackendChecks.Split(this, input, a, b, rows, colsA, colsB);
        long total = (long)rows * (colsA + colsB);
        if (total == 0) return;
        Arg(input); Arg(a); Arg(b); Arg(rows); Arg(colsA); Arg(colsB);
        Launch("elementwise_split", StrideGrid(total), new LaunchDims(BlockSize));
    }

    public void Sum(DeviceSpan<float> x, DeviceSpan<float> result)
    {
        BackendChecks.Sum(this, x, result);
        // The number of blocks depends only on the length, so the order of the additions does too. One block writes
        // result directly (also for an empty x: 0); more write double partial sums that a second launch adds in order.
        int blocks = (int)Math.Clamp((x.Length + (long)SumElementsPerBlock - 1) / SumElementsPerBlock, 1, MaxSumBlocks);
        ulong partials = blocks > 1 ? ReductionScratch() : 0;
        Arg(x); Arg(partials); Arg(result); Arg(x.Length);
        Launch("elementwise_sum_partial", new LaunchDims((uint)blocks), new LaunchDims(BlockSize));
        if (blocks == 1) return;
        Arg(partials); Arg(result); Arg(blocks);
        Launch("elementwise_sum_final", new LaunchDims(1), new LaunchDims(BlockSize));
    }
}
