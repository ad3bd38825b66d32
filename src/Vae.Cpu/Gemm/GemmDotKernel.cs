// Dot-product GEMM for thin products with an untransposed A, the VAE's latent heads (n = 20 against k = 400):
// C (m, n) = alpha * A (m, k) * op(B) (k, n) + beta * C with vectors along k, so A's rows are read where they lie (no
// packing or transposing of the big operand) and every lane is used however narrow n is. op(B)^T (n, k) is B itself
// when transB, else a small transposed copy. Each C element is one dot product: 16 lane sums in k order, then
// Vector512.Sum, then the k remainder in order, so the result does not depend on which thread computes it.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Vae.Cpu.Gemm;

internal static unsafe class GemmDotKernel
{
    /// <summary>Rows of C per tile.</summary>
    public const int Rows = 4;

    /// <summary>Columns of C per tile.</summary>
    public const int Cols = 4;

    /// <summary>Floats per vector.</summary>
    const int Lanes = 16;

    /// <summary>
    /// tile (rows, cols) of c = alpha * a * bt^T + beta * c, rows, cols &lt;= 4: a (rows, k) with row stride lda,
    /// bt (cols, k) with row stride ldbt, c (rows, cols) with row stride ldc. beta = 0 does not read c. Missing rows and
    /// columns of a partial tile repeat the first one and are not stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    public static void Tile(int k, float* a, int lda, float* bt, int ldbt, float* c, int ldc, int rows, int cols, float alpha, float beta)
    {
        float* a0 = a, a1 = rows > 1 ? a + lda : a, a2 = rows > 2 ? a + 2L * lda : a, a3 = rows > 3 ? a + 3L * lda : a;
        float* b0 = bt, b1 = cols > 1 ? bt + ldbt : bt, b2 = cols > 2 ? bt + 2L * ldbt : bt, b3 = cols > 3 ? bt + 3L * ldbt : bt;
        // s{r}{j} holds 16 lane partial sums of C[r, j]
        Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default;
        Vector512<float> s10 = default, s11 = default, s12 = default, s13 = default;
        Vector512<float> s20 = default, s21 = default, s22 = default, s23 = default;
        Vector512<float> s30 = default, s31 = default, s32 = default, s33 = default;
        int p = 0;
        for (; p + Lanes <= k; p += Lanes)
        {
            var y0 = Vector512.Load(b0 + p);
            var y1 = Vector512.Load(b1 + p);
            var y2 = Vector512.Load(b2 + p);
            var y3 = Vector512.Load(b3 + p);
            var x = Vector512.Load(a0 + p);
            s00 = Vector512.FusedMultiplyAdd(x, y0, s00); s01 = Vector512.FusedMultiplyAdd(x, y1, s01);
            s02 = Vector512.FusedMultiplyAdd(x, y2, s02); s03 = Vector512.FusedMultiplyAdd(x, y3, s03);
            x = Vector512.Load(a1 + p);
            s10 = Vector512.FusedMultiplyAdd(x, y0, s10); s11 = Vector512.FusedMultiplyAdd(x, y1, s11);
            s12 = Vector512.FusedMultiplyAdd(x, y2, s12); s13 = Vector512.FusedMultiplyAdd(x, y3, s13);
            x = Vector512.Load(a2 + p);
            s20 = Vector512.FusedMultiplyAdd(x, y0, s20); s21 = Vector512.FusedMultiplyAdd(x, y1, s21);
            s22 = Vector512.FusedMultiplyAdd(x, y2, s22); s23 = Vector512.FusedMultiplyAdd(x, y3, s23);
            x = Vector512.Load(a3 + p);
            s30 = Vector512.FusedMultiplyAdd(x, y0, s30); s31 = Vector512.FusedMultiplyAdd(x, y1, s31);
            s32 = Vector512.FusedMultiplyAdd(x, y2, s32); s33 = Vector512.FusedMultiplyAdd(x, y3, s33);
        }
        // reduce the 16 vectors at once: lane 4 r + j of the result is the sum of s{r}{j}'s lanes (pairs of 256-bit
        // halves, then of 128-bit quarters, then of 64-bit and 32-bit pairs within each quarter), so quarter r is row r
        var u0 = QuarterPairs(HalfPairs(s00, s10), HalfPairs(s20, s30));
        var u1 = QuarterPairs(HalfPairs(s01, s11), HalfPairs(s21, s31));
        var u2 = QuarterPairs(HalfPairs(s02, s12), HalfPairs(s22, s32));
        var u3 = QuarterPairs(HalfPairs(s03, s13), HalfPairs(s23, s33));
        var totals = PairPairs(PairPairs64(u0, u1), PairPairs64(u2, u3));
        if (rows == Rows && cols == Cols && p == k)
        {
            var scaled = totals * Vector512.Create(alpha);
            if (beta == 0f)
            {
                scaled.GetLower().GetLower().Store(c);
                scaled.GetLower().GetUpper().Store(c + ldc);
                scaled.GetUpper().GetLower().Store(c + 2L * ldc);
                scaled.GetUpper().GetUpper().Store(c + 3L * ldc);
            }
            else
            {
                var betaV = Vector128.Create(beta);
                Vector128.FusedMultiplyAdd(betaV, Vector128.Load(c), scaled.GetLower().GetLower()).Store(c);
                Vector128.FusedMultiplyAdd(betaV, Vector128.Load(c + ldc), scaled.GetLower().GetUpper()).Store(c + ldc);
                Vector128.FusedMultiplyAdd(betaV, Vector128.Load(c + 2L * ldc), scaled.GetUpper().GetLower()).Store(c + 2L * ldc);
                Vector128.FusedMultiplyAdd(betaV, Vector128.Load(c + 3L * ldc), scaled.GetUpper().GetUpper()).Store(c + 3L * ldc);
            }
            return;
        }
        float* sums = stackalloc float[Lanes];
        totals.Store(sums);
        for (int r = 0; r < rows; r++)
        {
            float* ar = a + (long)r * lda;
            for (int j = 0; j < cols; j++)
            {
                float* bj = bt + (long)j * ldbt;
                float sum = sums[4 * r + j];
                for (int q = p; q < k; q++) sum = MathF.FusedMultiplyAdd(ar[q], bj[q], sum);
                float* cij = c + (long)r * ldc + j;
                *cij = beta == 0f ? alpha * sum : MathF.FusedMultiplyAdd(beta, *cij, alpha * sum);
            }
        }
    }

    /// <summary>First level for pairs: 128-bit quarters (x0 + x2, x1 + x3, y0 + y2, y1 + y3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> HalfPairs(Vector512<float> x, Vector512<float> y) =>
        Avx512F.Shuffle4x128(x, y, 0b01_00_01_00) + Avx512F.Shuffle4x128(x, y, 0b11_10_11_10);

    /// <summary>Second level: 128-bit quarters (z0 + z1, z2 + z3, w0 + w1, w2 + w3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> QuarterPairs(Vector512<float> z, Vector512<float> w) =>
        Avx512F.Shuffle4x128(z, w, 0b10_00_10_00) + Avx512F.Shuffle4x128(z, w, 0b11_01_11_01);

    /// <summary>64-bit level: within each quarter, (u[0] + u[2], u[1] + u[3], t[0] + t[2], t[1] + t[3]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> PairPairs64(Vector512<float> u, Vector512<float> t) =>
        Avx512F.UnpackLow(u.AsDouble(), t.AsDouble()).AsSingle() + Avx512F.UnpackHigh(u.AsDouble(), t.AsDouble()).AsSingle();

    /// <summary>32-bit level: within each quarter, (q[0] + q[1], q[2] + q[3], s[0] + s[1], s[2] + s[3]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> PairPairs(Vector512<float> q, Vector512<float> s) =>
        Avx512F.Shuffle(q, s, 0b10_00_10_00) + Avx512F.Shuffle(q, s, 0b11_01_11_01);
}
