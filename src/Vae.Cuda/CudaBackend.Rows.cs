// Per-row launchers (kernels: kernels/rows.ptx): SoftmaxRows, one warp per row (RowsPerBlock rows per 256-thread
// block, the layout of the cross-entropy kernels) with an optional log-sum-exp per row; ScaleRows, a flat
// grid-stride loop over the elements that finds each element's row by division; ArgMaxRows, one warp per row like
// SoftmaxRows.
using Vae.Cuda.Device;

namespace Vae.Cuda;

public sealed partial class CudaBackend
{
    public void SoftmaxRows(DeviceSpan<float> x, DeviceSpan<float> y, DeviceSpan<float> logSumExp, int rows, int cols)
    {
        BackendChecks.SoftmaxRows(this, x, y, logSumExp, rows, cols);
        if (rows == 0) return;
        Arg(x); Arg(y); Arg(logSumExp); Arg(rows); Arg(cols);   // the null logSumExp goes in as address 0: not written
        Launch("rows_softmax", Blocks(rows, RowsPerBlock), new LaunchDims(BlockSize));
    }

    public void ScaleRows(DeviceSpan<float> x, DeviceSpan<float> rowScale, DeviceSpan<float> y, int rows, int cols)
    {
        BackendChecks.ScaleRows(this, x, rowScale, y, rows, cols);
        int n = rows * cols;
        if (n == 0) return;
        Arg(x); Arg(rowScale); Arg(y); Arg(n); Arg(cols);
        Launch("rows_scale", StrideGrid(n), new LaunchDims(BlockSize));
    }

    public void ArgMaxRows(DeviceSpan<float> x, DeviceSpan<int> indices, int rows, int cols)
    {
        BackendChecks.ArgMaxRows(this, x, indices, rows, cols);
        if (rows == 0) return;
        Arg(x); Arg(indices); Arg(rows); Arg(cols);
        Launch("rows_argmax", Blocks(rows, RowsPerBlock), new LaunchDims(BlockSize));
    }
}
