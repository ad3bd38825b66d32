// Write-back of an edge tile (fewer rows or columns than the micro-kernel's tile) or of a tile of C^T (when the GEMM
// runs transposed, see PackedGemm): the kernel parks its accumulators in a small buffer and this copies the valid part
// into C, so the kernel itself makes no call while they are live.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Vae.Cpu.Gemm;

internal static unsafe class GemmTileStore
{
    /// <summary>
    /// For r &lt; rows, j &lt; cols, with x = tile[r * tileStride + j]: c[r * ldc + j], or c[j * ldc + r] when
    /// <paramref name="transposed"/>, becomes x, c + x, or beta * c + x as <paramref name="store"/> says.
    /// Overwrite does not read c.
    /// </summary>
    public static void Store(float* tile, int tileStride, float* c, int ldc, int rows, int cols, GemmStore store, float beta, bool transposed)
    {
        if (transposed) StoreTransposed(tile, tileStride, c, ldc, rows, cols, store, beta);
        else StoreRows(tile, tileStride, c, ldc, rows, cols, store, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void StoreRows(float* tile, int tileStride, float* c, int ldc, int rows, int cols, GemmStore store, float beta)
    {
        for (int r = 0; r < rows; r++)
        {
            float* x = tile + r * tileStride;
            float* d = c + (long)r * ldc;
            int j = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; j + 8 <= cols; j += 8) Store8(d + j, Vector256.Load(x + j), store, beta);
            }
            for (; j < cols; j++) Put(d + j, x[j], store, beta);
        }
    }

    /// <summary>Tile row r is column r of C: 8 x 8 blocks are transposed so that C is written 8 contiguous floats at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    static void StoreTransposed(float* tile, int tileStride, float* c, int ldc, int rows, int cols, GemmStore store, float beta)
    {
        int j = 0;
        if (rows == 8 && Avx.IsSupported)
        {
            float* block = stackalloc float[64];
            for (; j + 8 <= cols; j += 8)
            {
                GemmPacking.Transpose8x8(tile + j, tileStride, block, 8, 1f);   // block row q = tile column j + q = C row j + q
                for (int q = 0; q < 8; q++) Store8(c + (long)(j + q) * ldc, Vector256.Load(block + 8 * q), store, beta);
            }
        }
        for (; j < cols; j++)
        {
            float* d = c + (long)j * ldc;
            for (int r = 0; r < rows; r++) Put(d + r, tile[r * tileStride + j], store, beta);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store8(float* d, Vector256<float> x, GemmStore store, float beta)
    {
        if (store == GemmStore.Accumulate) x += Vector256.Load(d);
        else if (store == GemmStore.ScaleAndAdd) x = Vector256.FusedMultiplyAdd(Vector256.Load(d), Vector256.Create(beta), x);
        x.Store(d);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Put(float* d, float x, GemmStore store, float beta)
    {
        if (store == GemmStore.Accumulate) x += *d;
        else if (store == GemmStore.ScaleAndAdd) x = MathF.FusedMultiplyAdd(*d, beta, x);
        *d = x;
    }
}
