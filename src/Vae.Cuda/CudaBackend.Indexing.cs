// Row indexing: GatherRows (embedding lookup), ScatterAddRows (its gradient), NearestCode (vector quantization) and
// EmaCodebook (the EMA quantizer's codebook from its statistics), kernels in kernels/indexing.ptx. Index values stay
// on the device and are not checked on the host; the kernels never touch memory outside the table for an index
// outside [0, tableRows).
using Vae.Cuda.Device;

namespace Vae.Cuda;

public sealed partial class CudaBackend
{
    /// <summary>Rows of NearestCode per block: one warp each.</summary>
    const int NearestCodeRowsPerBlock = BlockSize / 32;

    public void GatherRows(DeviceSpan<float> table, DeviceSpan<int> indices, DeviceSpan<float> output, int tableRows, int count, int cols)
    {
        BackendChecks.GatherRows(this, table, indices, output, tableRows, count, cols);
        int total = count * cols;   // output holds it, so it fits in an int
        if (total == 0) return;
        Arg(table); Arg(indices); Arg(output); Arg(tableRows); Arg(cols); Arg(total);
        Launch("indexing_gather_rows", Blocks(total), new LaunchDims(BlockSize));
    }

    public void ScatterAddRows(DeviceSpan<float> dOutput, DeviceSpan<int> indices, DeviceSpan<float> dTable, int tableRows, int count, int cols)
    {
        BackendChecks.ScatterAddRows(this, dOutput, indices, dTable, tableRows, count, cols);
        if (count == 0 || cols == 0) return;
        // One thread per column walks the rows in index order: repeated indices add up in that order.
        Arg(dOutput); Arg(indices); Arg(dTable); Arg(tableRows); Arg(count); Arg(cols);
        Launch("indexing_scatter_add_rows", Blocks(cols), new LaunchDims(BlockSize));
    }

    public void NearestCode(DeviceSpan<float> x, DeviceSpan<float> codebook, DeviceSpan<int> indices, DeviceSpan<float> distances, int rows, int codes, int cols)
    {
        BackendChecks.NearestCode(this, x, codebook, indices, distances, rows, codes, cols);
        if (rows == 0) return;
        Arg(x); Arg(codebook); Arg(indices); Arg(distances); Arg(rows); Arg(codes); Arg(cols);
        Launch("indexing_nearest_code", Blocks(rows, NearestCodeRowsPerBlock), new LaunchDims(BlockSize));
    }

    public void EmaCodebook(DeviceSpan<float> clusterSize, DeviceSpan<float> embedSum, DeviceSpan<float> codebook, int codes, int cols, float epsilon)
    {
        BackendChecks.EmaCodebook(this, clusterSize, embedSum, codebook, codes, cols, epsilon);
        int total = codes * cols;   // codebook holds it, so it fits in an int
        if (total == 0) return;
        Arg(clusterSize); Arg(embedSum); Arg(codebook); Arg(codes); Arg(cols); Arg(total); Arg(epsilon);
        Launch("indexing_ema_codebook", Blocks(total), new LaunchDims(BlockSize));
    }
}
