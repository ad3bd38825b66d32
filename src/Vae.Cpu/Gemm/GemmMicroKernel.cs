// The register-blocked inner kernels of the packed GEMM (AVX-512 path): one MR x NR tile of C from one packed
// A panel and one packed B panel. 24 Vector512 accumulators stay in zmm registers for the whole k loop; each k step
// loads one row of the B panel (3 vectors) and broadcasts MR values of the A panel into 24 independent FMAs.
// Narrower variants (32, 20 and 16 columns) serve the last column panel so that thin matrices (n = 20) waste little.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Vae.Cpu.Gemm;

/// <summary>How a finished tile of C is written back.</summary>
internal enum GemmStore
{
    /// <summary>c = tile; c is not read (beta = 0 on the first k block).</summary>
    Overwrite,
    /// <summary>c += tile (beta = 1, or any later k block).</summary>
    Accumulate,
    /// <summary>c = beta * c + tile (other beta on the first k block).</summary>
    ScaleAndAdd,
}

internal static unsafe class GemmMicroKernel
{
    /// <summary>Rows of C per tile (values of the A panel broadcast per k step).</summary>
    public const int MR = 8;

    /// <summary>Columns of C per full tile: three Vector512.</summary>
    public const int NR = 48;

    /// <summary>Floats per vector.</summary>
    public const int Lanes = 16;

    /// <summary>
    /// tile (rows, cols) of c = apanel * bpanel, written back as <paramref name="store"/> says.
    /// apanel has kc rows, aStride floats apart (MR when packed), with row p holding op(A)[i0 .. i0 + MR, p]; bpanel has kc rows, bStride floats apart, with row p
    /// holding op(B)[p, j0 .. j0 + width], width = 16 * ceil(cols / 16) (48 for a full panel). c points at C[i0, j0], row stride ldc.
    /// Only rows &lt; rows and columns &lt; cols of C are touched; padding in the panels must be zero.
    /// With <paramref name="transposedC"/> the tile is one of C^T: element (r, j) goes to c[j * ldc + r].
    /// </summary>
    public static void Tile(int kc, float* apanel, int aStride, float* bpanel, int bStride, float* c, int ldc, int rows, int cols, GemmStore store, float beta, bool transposedC)
    {
        if (cols > 2 * Lanes) Kernel8x48(kc, apanel, aStride, bpanel, bStride, c, ldc, rows, cols, store, beta, transposedC);
        else if (cols > Lanes + 4 || !Avx512F.IsSupported) Kernel8x32(kc, apanel, aStride, bpanel, bStride, c, ldc, rows, cols, store, beta, transposedC);
        else if (cols > Lanes) Kernel8x20(kc, apanel, aStride, bpanel, bStride, c, ldc, rows, cols, store, beta, transposedC);
        else Kernel8x16(kc, apanel, aStride, bpanel, bStride, c, ldc, rows, cols, store, beta, transposedC);
    }

    /// <summary>Columns the kernel for a panel of <paramref name="cols"/> (&lt;= NR) columns computes, padding included.</summary>
    public static int ComputedCols(int cols) =>
        cols > 2 * Lanes ? 3 * Lanes : cols > Lanes + 4 || !Avx512F.IsSupported ? 2 * Lanes : cols > Lanes ? Lanes + 4 : Lanes;

    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    static void Kernel8x48(int kc, float* a, int aStride, float* b, int bStride, float* c, int ldc, int rows, int cols, GemmStore store, float beta, bool transposedC)
    {
        // c{r}{v} holds C[i0 + r, j0 + 16 v .. j0 + 16 v + 16]
        Vector512<float> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        Vector512<float> c40 = default, c41 = default, c42 = default, c50 = default, c51 = default, c52 = default;
        Vector512<float> c60 = default, c61 = default, c62 = default, c70 = default, c71 = default, c72 = default;
        nint step = bStride, aStep = aStride;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + Lanes);
            var b2 = Vector512.Load(b + 2 * Lanes);
            var ai = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(ai, b0, c00); c01 = Vector512.FusedMultiplyAdd(ai, b1, c01); c02 = Vector512.FusedMultiplyAdd(ai, b2, c02);
            ai = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(ai, b0, c10); c11 = Vector512.FusedMultiplyAdd(ai, b1, c11); c12 = Vector512.FusedMultiplyAdd(ai, b2, c12);
            ai = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(ai, b0, c20); c21 = Vector512.FusedMultiplyAdd(ai, b1, c21); c22 = Vector512.FusedMultiplyAdd(ai, b2, c22);
            ai = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(ai, b0, c30); c31 = Vector512.FusedMultiplyAdd(ai, b1, c31); c32 = Vector512.FusedMultiplyAdd(ai, b2, c32);
            ai = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(ai, b0, c40); c41 = Vector512.FusedMultiplyAdd(ai, b1, c41); c42 = Vector512.FusedMultiplyAdd(ai, b2, c42);
            ai = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(ai, b0, c50); c51 = Vector512.FusedMultiplyAdd(ai, b1, c51); c52 = Vector512.FusedMultiplyAdd(ai, b2, c52);
            ai = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(ai, b0, c60); c61 = Vector512.FusedMultiplyAdd(ai, b1, c61); c62 = Vector512.FusedMultiplyAdd(ai, b2, c62);
            ai = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(ai, b0, c70); c71 = Vector512.FusedMultiplyAdd(ai, b1, c71); c72 = Vector512.FusedMultiplyAdd(ai, b2, c72);
            a += aStep;
            b += step;
        }
        if (!transposedC && rows == MR && cols == 3 * Lanes)
        {
            var betaV = Vector512.Create(beta);
            Store(c, c00, store, betaV); Store(c + Lanes, c01, store, betaV); Store(c + 2 * Lanes, c02, store, betaV); c += ldc;
            Store(c, c10, store, betaV); Store(c + Lanes, c11, store, betaV); Store(c + 2 * Lanes, c12, store, betaV); c += ldc;
            Store(c, c20, store, betaV); Store(c + Lanes, c21, store, betaV); Store(c + 2 * Lanes, c22, store, betaV); c += ldc;
            Store(c, c30, store, betaV); Store(c + Lanes, c31, store, betaV); Store(c + 2 * Lanes, c32, store, betaV); c += ldc;
            Store(c, c40, store, betaV); Store(c + Lanes, c41, store, betaV); Store(c + 2 * Lanes, c42, store, betaV); c += ldc;
            Store(c, c50, store, betaV); Store(c + Lanes, c51, store, betaV); Store(c + 2 * Lanes, c52, store, betaV); c += ldc;
            Store(c, c60, store, betaV); Store(c + Lanes, c61, store, betaV); Store(c + 2 * Lanes, c62, store, betaV); c += ldc;
            Store(c, c70, store, betaV); Store(c + Lanes, c71, store, betaV); Store(c + 2 * Lanes, c72, store, betaV);
            return;
        }
        // edge or transposed tile: park the accumulators in a (MR, 48) buffer, then copy the valid part (no call while they are live)
        float* t = stackalloc float[MR * 3 * Lanes];
        c00.Store(t); c01.Store(t + 16); c02.Store(t + 32); c10.Store(t + 48); c11.Store(t + 64); c12.Store(t + 80);
        c20.Store(t + 96); c21.Store(t + 112); c22.Store(t + 128); c30.Store(t + 144); c31.Store(t + 160); c32.Store(t + 176);
        c40.Store(t + 192); c41.Store(t + 208); c42.Store(t + 224); c50.Store(t + 240); c51.Store(t + 256); c52.Store(t + 272);
        c60.Store(t + 288); c61.Store(t + 304); c62.Store(t + 320); c70.Store(t + 336); c71.Store(t + 352); c72.Store(t + 368);
        GemmTileStore.Store(t, 3 * Lanes, c, ldc, rows, cols, store, beta, transposedC);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    static void Kernel8x32(int kc, float* a, int aStride, float* b, int bStride, float* c, int ldc, int rows, int cols, GemmStore store, float beta, bool transposedC)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        nint step = bStride, aStep = aStride;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + Lanes);
            var ai = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(ai, b0, c00); c01 = Vector512.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(ai, b0, c10); c11 = Vector512.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(ai, b0, c20); c21 = Vector512.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(ai, b0, c30); c31 = Vector512.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(ai, b0, c40); c41 = Vector512.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(ai, b0, c50); c51 = Vector512.FusedMultiplyAdd(ai, b1, c51);
            ai = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(ai, b0, c60); c61 = Vector512.FusedMultiplyAdd(ai, b1, c61);
            ai = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(ai, b0, c70); c71 = Vector512.FusedMultiplyAdd(ai, b1, c71);
            a += aStep;
            b += step;
        }
        if (!transposedC && rows == MR && cols == 2 * Lanes)
        {
            var betaV = Vector512.Create(beta);
            Store(c, c00, store, betaV); Store(c + Lanes, c01, store, betaV); c += ldc;
            Store(c, c10, store, betaV); Store(c + Lanes, c11, store, betaV); c += ldc;
            Store(c, c20, store, betaV); Store(c + Lanes, c21, store, betaV); c += ldc;
            Store(c, c30, store, betaV); Store(c + Lanes, c31, store, betaV); c += ldc;
            Store(c, c40, store, betaV); Store(c + Lanes, c41, store, betaV); c += ldc;
            Store(c, c50, store, betaV); Store(c + Lanes, c51, store, betaV); c += ldc;
            Store(c, c60, store, betaV); Store(c + Lanes, c61, store, betaV); c += ldc;
            Store(c, c70, store, betaV); Store(c + Lanes, c71, store, betaV);
            return;
        }
        float* t = stackalloc float[MR * 2 * Lanes];
        c00.Store(t); c01.Store(t + 16); c10.Store(t + 32); c11.Store(t + 48); c20.Store(t + 64); c21.Store(t + 80);
        c30.Store(t + 96); c31.Store(t + 112); c40.Store(t + 128); c41.Store(t + 144); c50.Store(t + 160); c51.Store(t + 176);
        c60.Store(t + 192); c61.Store(t + 208); c70.Store(t + 224); c71.Store(t + 240);
        GemmTileStore.Store(t, 2 * Lanes, c, ldc, rows, cols, store, beta, transposedC);
    }

    /// <summary>
    /// 8 x (17..20) tiles, the latent width of a VAE: columns 0..15 as in Kernel8x16, and the last 4 columns of all
    /// 8 rows in just two vectors, lane 4 r + j holding C[i0 + r, j0 + 16 + j] (rows 0..3, then 4..7): each is an FMA of
    /// the A values repeated 4 times (one permute of the A row) with the 4 B values repeated 4 times (one broadcast load).
    /// 10 FMAs per k step instead of the 16 of an 8 x 32 tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    static void Kernel8x20(int kc, float* a, int aStride, float* b, int bStride, float* c, int ldc, int rows, int cols, GemmStore store, float beta, bool transposedC)
    {
        var repeatLow = Vector512.Create(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
        var repeatHigh = Vector512.Create(4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7);
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        Vector512<float> tail03 = default, tail47 = default;
        nint step = bStride, aStep = aStride;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var bTail = Avx512F.BroadcastVector128ToVector512(b + Lanes);   // b[16..19] four times
            var aRow = Vector256.Load(a).ToVector512Unsafe();              // a[0..7] in the low half
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a[6]), b0, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a[7]), b0, c7);
            tail03 = Vector512.FusedMultiplyAdd(Avx512F.PermuteVar16x32(aRow, repeatLow), bTail, tail03);
            tail47 = Vector512.FusedMultiplyAdd(Avx512F.PermuteVar16x32(aRow, repeatHigh), bTail, tail47);
            a += aStep;
            b += step;
        }
        if (!transposedC && rows == MR && cols == Lanes + 4)
        {
            // row r: c{r}, then quarter r % 4 of its tail vector
            var betaV = Vector512.Create(beta);
            var betaQ = Vector128.Create(beta);
            long ld = ldc;
            Store(c, c0, store, betaV); Store(c + ld, c1, store, betaV); Store(c + 2 * ld, c2, store, betaV); Store(c + 3 * ld, c3, store, betaV);
            Store(c + 4 * ld, c4, store, betaV); Store(c + 5 * ld, c5, store, betaV); Store(c + 6 * ld, c6, store, betaV); Store(c + 7 * ld, c7, store, betaV);
            float* ct = c + Lanes;
            Store(ct, tail03.GetLower().GetLower(), store, betaQ); Store(ct + ld, tail03.GetLower().GetUpper(), store, betaQ);
            Store(ct + 2 * ld, tail03.GetUpper().GetLower(), store, betaQ); Store(ct + 3 * ld, tail03.GetUpper().GetUpper(), store, betaQ);
            Store(ct + 4 * ld, tail47.GetLower().GetLower(), store, betaQ); Store(ct + 5 * ld, tail47.GetLower().GetUpper(), store, betaQ);
            Store(ct + 6 * ld, tail47.GetUpper().GetLower(), store, betaQ); Store(ct + 7 * ld, tail47.GetUpper().GetUpper(), store, betaQ);
            return;
        }
        // edge or transposed tile: through the (MR, 20) buffer: row r = c{r}, then lanes 4 r % 16 .. + 4 of its tail vector
        const int Stride = Lanes + 4;
        float* t = stackalloc float[MR * Stride];
        float* tails = stackalloc float[2 * Lanes];
        tail03.Store(tails);
        tail47.Store(tails + Lanes);
        c0.Store(t); c1.Store(t + Stride); c2.Store(t + 2 * Stride); c3.Store(t + 3 * Stride);
        c4.Store(t + 4 * Stride); c5.Store(t + 5 * Stride); c6.Store(t + 6 * Stride); c7.Store(t + 7 * Stride);
        for (int r = 0; r < MR; r++) Vector128.Load(tails + 4 * r).Store(t + r * Stride + Lanes);
        GemmTileStore.Store(t, Stride, c, ldc, rows, cols, store, beta, transposedC);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    static void Kernel8x16(int kc, float* a, int aStride, float* b, int bStride, float* c, int ldc, int rows, int cols, GemmStore store, float beta, bool transposedC)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        nint step = bStride, aStep = aStride;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a[6]), b0, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a[7]), b0, c7);
            a += aStep;
            b += step;
        }
        if (!transposedC && rows == MR && cols == Lanes)
        {
            var betaV = Vector512.Create(beta);
            Store(c, c0, store, betaV); Store(c + ldc, c1, store, betaV); Store(c + 2 * ldc, c2, store, betaV); Store(c + 3 * ldc, c3, store, betaV);
            c += 4 * ldc;
            Store(c, c4, store, betaV); Store(c + ldc, c5, store, betaV); Store(c + 2 * ldc, c6, store, betaV); Store(c + 3 * ldc, c7, store, betaV);
            return;
        }
        float* t = stackalloc float[MR * Lanes];
        c0.Store(t); c1.Store(t + 16); c2.Store(t + 32); c3.Store(t + 48); c4.Store(t + 64); c5.Store(t + 80); c6.Store(t + 96); c7.Store(t + 112);
        GemmTileStore.Store(t, Lanes, c, ldc, rows, cols, store, beta, transposedC);
    }

    /// <summary>Four columns of a tile written back: c = x, c += x or c = beta * c + x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* c, Vector128<float> x, GemmStore store, Vector128<float> beta)
    {
        if (store == GemmStore.Accumulate) (Vector128.Load(c) + x).Store(c);
        else if (store == GemmStore.Overwrite) x.Store(c);
        else Vector128.FusedMultiplyAdd(Vector128.Load(c), beta, x).Store(c);
    }

    /// <summary>One full vector of a tile written back: c = x, c += x or c = beta * c + x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* c, Vector512<float> x, GemmStore store, Vector512<float> beta)
    {
        if (store == GemmStore.Accumulate) (Vector512.Load(c) + x).Store(c);
        else if (store == GemmStore.Overwrite) x.Store(c);
        else Vector512.FusedMultiplyAdd(Vector512.Load(c), beta, x).Store(c);
    }
}
