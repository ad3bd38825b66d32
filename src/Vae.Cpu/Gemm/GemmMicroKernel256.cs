// Fallback inner kernels of the packed GEMM for machines without hardware Vector512 (AVX2 x64, or any other CPU,
// where Vector256 operations are still correct if emulated): 6 x 16 tiles with 12 Vector256 accumulators, which fit
// the 16 ymm registers of AVX2 together with the B row and the broadcast A value.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Vae.Cpu.Gemm;

internal static unsafe class GemmMicroKernel256
{
    /// <summary>Rows of C per tile.</summary>
    public const int MR = 6;

    /// <summary>Columns of C per full tile: two Vector256.</summary>
    public const int NR = 16;

    /// <summary>Floats per vector.</summary>
    public const int Lanes = 8;

    /// <summary>Same contract as <see cref="GemmMicroKernel.Tile"/> with MR = 6, NR = 16 and width = 8 * ceil(cols / 8).</summary>
    public static void Tile(int kc, float* apanel, float* bpanel, int bStride, float* c, int ldc, int rows, int cols, GemmStore store, float beta, bool transposedC)
    {
        if (cols > Lanes) Kernel6x16(kc, apanel, bpanel, bStride, c, ldc, rows, cols, store, beta, transposedC);
        else Kernel6x8(kc, apanel, bpanel, bStride, c, ldc, rows, cols, store, beta, transposedC);
    }

    /// <summary>Columns the kernel for a panel of <paramref name="cols"/> (&lt;= NR) columns computes, padding included.</summary>
    public static int ComputedCols(int cols) => cols > Lanes ? 2 * Lanes : Lanes;

    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    static void Kernel6x16(int kc, float* a, float* b, int bStride, float* c, int ldc, int rows, int cols, GemmStore store, float beta, bool transposedC)
    {
        // c{r}{v} holds C[i0 + r, j0 + 8 v .. j0 + 8 v + 8]
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        nint step = bStride;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + Lanes);
            var ai = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(ai, b0, c00); c01 = Vector256.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(ai, b0, c10); c11 = Vector256.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(ai, b0, c20); c21 = Vector256.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(ai, b0, c30); c31 = Vector256.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(ai, b0, c40); c41 = Vector256.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(ai, b0, c50); c51 = Vector256.FusedMultiplyAdd(ai, b1, c51);
            a += MR;
            b += step;
        }
        if (!transposedC && rows == MR && cols == 2 * Lanes)
        {
            var betaV = Vector256.Create(beta);
            Store(c, c00, store, betaV); Store(c + Lanes, c01, store, betaV); c += ldc;
            Store(c, c10, store, betaV); Store(c + Lanes, c11, store, betaV); c += ldc;
            Store(c, c20, store, betaV); Store(c + Lanes, c21, store, betaV); c += ldc;
            Store(c, c30, store, betaV); Store(c + Lanes, c31, store, betaV); c += ldc;
            Store(c, c40, store, betaV); Store(c + Lanes, c41, store, betaV); c += ldc;
            Store(c, c50, store, betaV); Store(c + Lanes, c51, store, betaV);
            return;
        }
        // edge or transposed tile: park the accumulators in a (MR, 16) buffer, then copy the valid part (no call while they are live)
        float* t = stackalloc float[MR * 2 * Lanes];
        c00.Store(t); c01.Store(t + 8); c10.Store(t + 16); c11.Store(t + 24); c20.Store(t + 32); c21.Store(t + 40);
        c30.Store(t + 48); c31.Store(t + 56); c40.Store(t + 64); c41.Store(t + 72); c50.Store(t + 80); c51.Store(t + 88);
        GemmTileStore.Store(t, 2 * Lanes, c, ldc, rows, cols, store, beta, transposedC);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    static void Kernel6x8(int kc, float* a, float* b, int bStride, float* c, int ldc, int rows, int cols, GemmStore store, float beta, bool transposedC)
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        nint step = bStride;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            c0 = Vector256.FusedMultiplyAdd(Vector256.Create(a[0]), b0, c0);
            c1 = Vector256.FusedMultiplyAdd(Vector256.Create(a[1]), b0, c1);
            c2 = Vector256.FusedMultiplyAdd(Vector256.Create(a[2]), b0, c2);
            c3 = Vector256.FusedMultiplyAdd(Vector256.Create(a[3]), b0, c3);
            c4 = Vector256.FusedMultiplyAdd(Vector256.Create(a[4]), b0, c4);
            c5 = Vector256.FusedMultiplyAdd(Vector256.Create(a[5]), b0, c5);
            a += MR;
            b += step;
        }
        if (!transposedC && rows == MR && cols == Lanes)
        {
            var betaV = Vector256.Create(beta);
            Store(c, c0, store, betaV); Store(c + ldc, c1, store, betaV); Store(c + 2 * ldc, c2, store, betaV);
            c += 3 * ldc;
            Store(c, c3, store, betaV); Store(c + ldc, c4, store, betaV); Store(c + 2 * ldc, c5, store, betaV);
            return;
        }
        float* t = stackalloc float[MR * Lanes];
        c0.Store(t); c1.Store(t + 8); c2.Store(t + 16); c3.Store(t + 24); c4.Store(t + 32); c5.Store(t + 40);
        GemmTileStore.Store(t, Lanes, c, ldc, rows, cols, store, beta, transposedC);
    }

    /// <summary>One full vector of a tile written back: c = x, c += x or c = beta * c + x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* c, Vector256<float> x, GemmStore store, Vector256<float> beta)
    {
        if (store == GemmStore.Accumulate) (Vector256.Load(c) + x).Store(c);
        else if (store == GemmStore.Overwrite) x.Store(c);
        else Vector256.FusedMultiplyAdd(Vector256.Load(c), beta, x).Store(c);
    }
}
