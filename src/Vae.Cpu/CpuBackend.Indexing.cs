// Row indexing: GatherRows (embedding lookup), ScatterAddRows (its gradient), NearestCode (vector quantization) and
// EmaCodebook (the EMA quantizer's codebook from its statistics). Indices are validated on the host before anything is
// written.
using System.Numerics.Tensors;
using Vae.Cpu.Operators;
using Vae.Cpu.Threading;

namespace Vae.Cpu;

public sealed unsafe partial class CpuBackend
{
    /// <summary>Columns per ScatterAddRows piece: each column stripe adds all rows in index order.</summary>
    const int ScatterStripe = 256;

    public void GatherRows(DeviceSpan<float> table, DeviceSpan<int> indices, DeviceSpan<float> output, int tableRows, int count, int cols)
    {
        BackendChecks.GatherRows(this, table, indices, output, tableRows, count, cols);
        BackendChecks.IndexInRange(Span(indices, count), tableRows);
        RangeWork.RunRows(Pool, new GatherKernel(Ptr(table), Ptr(indices), Ptr(output), cols), count, cols, RangeWork.SimpleCost);
    }

    public void ScatterAddRows(DeviceSpan<float> dOutput, DeviceSpan<int> indices, DeviceSpan<float> dTable, int tableRows, int count, int cols)
    {
        BackendChecks.ScatterAddRows(this, dOutput, indices, dTable, tableRows, count, cols);
        BackendChecks.IndexInRange(Span(indices, count), tableRows);
        // Repeated indices add up in index order: each column stripe is one piece that walks all rows in order.
        int stripes = (cols + ScatterStripe - 1) / ScatterStripe;
        RangeWork.Run(Pool, new ScatterAddKernel(Ptr(dOutput), Ptr(indices), Ptr(dTable), count, cols), stripes, 1, (long)count * cols);
    }

    public void NearestCode(DeviceSpan<float> x, DeviceSpan<float> codebook, DeviceSpan<int> indices, DeviceSpan<float> distances, int rows, int codes, int cols)
    {
        BackendChecks.NearestCode(this, x, codebook, indices, distances, rows, codes, cols);
        // Each row compares against every code: rows * codes * cols squared differences in double (about 2 units each).
        var kernel = new NearestCodeKernel(Ptr(x), Ptr(codebook), Ptr(indices), Ptr(distances), codes, cols);
        int rowsPerPiece = Math.Max(1, RangeWork.ElementsPerPiece(2) / Math.Max(1, codes * cols));
        RangeWork.Run(Pool, kernel, rows, rowsPerPiece, 2L * rows * codes * cols);
    }

    public void EmaCodebook(DeviceSpan<float> clusterSize, DeviceSpan<float> embedSum, DeviceSpan<float> codebook, int codes, int cols, float epsilon)
    {
        BackendChecks.EmaCodebook(this, clusterSize, embedSum, codebook, codes, cols, epsilon);
        // n in index order on this thread (codes values), then rows in parallel: one double divide per element.
        float* sizes = Ptr(clusterSize);
        double n = 0;
        for (int k = 0; k < codes; k++) n += sizes[k];
        var kernel = new EmaCodebookKernel(sizes, Ptr(embedSum), Ptr(codebook), cols, n, n + codes * (double)epsilon, epsilon);
        RangeWork.RunRows(Pool, kernel, codes, cols, RangeWork.TranscendentalCost);
    }

    /// <summary>output (count, cols) row i = table row indices[i].</summary>
    readonly struct GatherKernel(float* table, int* indices, float* output, int cols) : IRangeKernel
    {
        public void Execute(int start, int count)
        {
            for (int i = start; i < start + count; i++)
            {
                new ReadOnlySpan<float>(table + (long)indices[i] * cols, cols).CopyTo(new Span<float>(output + (long)i * cols, cols));
            }
        }
    }

    /// <summary>dTable row indices[i] += dOutput row i for every i in order, over the column stripes [start, start + count).</summary>
    readonly struct ScatterAddKernel(float* dOutput, int* indices, float* dTable, int rows, int cols) : IRangeKernel
    {
        public void Execute(int start, int count)
        {
            int first = start * ScatterStripe;
            int width = Math.Min(cols, (start + count) * ScatterStripe) - first;
            for (int i = 0; i < rows; i++)
            {
                var target = new Span<float>(dTable + (long)indices[i] * cols + first, width);
                TensorPrimitives.Add(target, new ReadOnlySpan<float>(dOutput + (long)i * cols + first, width), target);
            }
        }
    }

    /// <summary>indices[r], distances[r] = argmin and min over codes of the squared distance (double) from x row r; lowest index on ties.</summary>
    readonly struct NearestCodeKernel(float* x, float* codebook, int* indices, float* distances, int codes, int cols) : IRangeKernel
    {
        public void Execute(int start, int count)
        {
            for (int r = start; r < start + count; r++)
            {
                float* row = x + (long)r * cols;
                int best = 0;
                double bestDistance = VectorLoops.SquaredDistance(row, codebook, cols);
                for (int k = 1; k < codes; k++)
                {
                    double distance = VectorLoops.SquaredDistance(row, codebook + (long)k * cols, cols);
                    if (distance < bestDistance)
                    {
                        best = k;
                        bestDistance = distance;
                    }
                }
                indices[r] = best;
                distances[r] = (float)bestDistance;
            }
        }
    }

    /// <summary>Codebook rows [start, start + count) = embedSum rows / ((clusterSize + epsilon) / smoothedTotal * n), in double.</summary>
    readonly struct EmaCodebookKernel(float* clusterSize, float* embedSum, float* codebook, int cols, double n, double smoothedTotal, double epsilon) : IRangeKernel
    {
        public void Execute(int start, int count)
        {
            for (int k = start; k < start + count; k++)
            {
                double smoothed = (clusterSize[k] + epsilon) / smoothedTotal * n;
                long o = (long)k * cols;
                for (int c = 0; c < cols; c++) codebook[o + c] = (float)(embedSum[o + c] / smoothed);
            }
        }
    }
}
