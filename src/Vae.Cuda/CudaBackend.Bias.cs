// Bias launchers: BiasAdd broadcasts a bias row over a batch; BiasGradient accumulates its column sums in a fixed order
// (kernels in kernels/elementwise.ptx). BiasGradient splits tall matrices into row chunks summed by separate blocks,
// whose double partial sums a second launch adds in chunk order; the split depends only on the shape.
using Vae.Cuda.Device;

namespace Vae.Cuda;

public sealed partial class CudaBackend
{
    /// <summary>Columns per BiasGradient block (threadIdx.x) and row lanes per column (threadIdx.y).</summary>
    const int BiasTileColumns = 32, BiasRowLanes = 8;

    /// <summary>Rows per chunk below which BiasGradient does not split the rows further.</summary>
    const int BiasRowsPerChunk = 256;

    /// <summary>BiasGradient splits rows into chunks until about this many blocks (column tiles x chunks) exist.</summary>
    const int BiasTargetBlocks = 1024;

    public void BiasAdd(DeviceSpan<float> x, DeviceSpan<float> bias, int rows, int cols)
    {
        BackendChecks.BiasAdd(this, x, bias, rows, cols);
        int total = rows * cols;
        if (total == 0) return;
        Arg(x); Arg(bias); Arg(total); Arg(cols);
        Launch("elementwise_bias_add", StrideGrid(total), new LaunchDims(BlockSize));
    }

    public void BiasGradient(DeviceSpan<float> dy, DeviceSpan<float> dBias, int rows, int cols)
    {
        BackendChecks.BiasGradient(this, dy, dBias, rows, cols);
        if (rows == 0 || cols == 0) return;
        int tiles = (int)((cols + (long)BiasTileColumns - 1) / BiasTileColumns);
        // chunks <= BiasTargetBlocks / tiles whenever chunks > 1, so chunks * cols doubles fit the reduction scratch.
        int chunks = (int)Math.Min((rows + (long)BiasRowsPerChunk - 1) / BiasRowsPerChunk, Math.Max(1, BiasTargetBlocks / tiles));
        int rowsPerChunk = (int)((rows + (long)chunks - 1) / chunks);
        chunks = (int)((rows + (long)rowsPerChunk - 1) / rowsPerChunk);
        ulong partials = chunks > 1 ? ReductionScratch() : 0;
        Arg(dy); Arg(dBias); Arg(partials); Arg(rows); Arg(cols); Arg(rowsPerChunk);
        Launch("elementwise_bias_gradient_partial", new LaunchDims((uint)tiles, (uint)chunks), new LaunchDims(BiasTileColumns, BiasRowLanes));
        if (chunks == 1) return;
        Arg(partials); Arg(dBias); Arg(cols); Arg(chunks);
        Launch("elementwise_bias_gradient_final", StrideGrid(cols), new LaunchDims(BlockSize));
    }
}
