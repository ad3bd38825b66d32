// Write-back of an edge tile (fewer rows or columns than the micro-kernel's tile): the kernel parks its accumulators
// in a small buffer and this copies the valid part into C, so the kernel itself makes no call while they are live.
using System.Runtime.Intrinsics;

namespace Vae.Cpu.Gemm;

internal static unsafe class GemmTileStore
{
    /// <summary>
    /// For r &lt; rows, j &lt; cols: c[r * ldc + j] = x, += x, or = beta * c + x as <paramref name="store"/> says,
    /// where x = tile[r * tileStride + j]. Overwrite does not read c.
    /// </summary>
    public static void Store(float* tile, int tileStride, float* c, int ldc, int rows, int cols, GemmStore store, float beta)
    {
        for (int r = 0; r < rows; r++)
        {
            float* x = tile + r * tileStride;
            float* d = c + (long)r * ldc;
            int j = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var betaV = Vector256.Create(beta);
                for (; j + 8 <= cols; j += 8)
                {
                    var v = Vector256.Load(x + j);
                    if (store == GemmStore.Accumulate) v += Vector256.Load(d + j);
                    else if (store == GemmStore.ScaleAndAdd) v = Vector256.FusedMultiplyAdd(Vector256.Load(d + j), betaV, v);
                    v.Store(d + j);
                }
            }
            for (; j < cols; j++)
            {
                d[j] = store switch
                {
                    GemmStore.Overwrite => x[j],
                    GemmStore.Accumulate => d[j] + x[j],
                    _ => MathF.FusedMultiplyAdd(d[j], beta, x[j]),
                };
            }
        }
    }
}
