// Packing for the packed GEMM: copies op(A) into MR-row panels and op(B) into NR-column panels laid out in the order
// the micro-kernel reads them (k-major, contiguous), zero-padding partial panels. Packing absorbs the transposes, so
// one micro-kernel serves all four (transA, transB) combinations; alpha is folded into the A panels.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Vae.Cpu.Gemm;

internal static unsafe class GemmPacking
{
    /// <summary>
    /// Packs rows [i0, i0 + rows) of alpha * op(A) into the panel dst (k, mr): dst[p * mr + r] = alpha * op(A)[i0 + r, p],
    /// zero for r &gt;= rows. op(A) is (m, k): a is (m, k) with row stride lda, or (k, m) with row stride lda when transA.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA(float* a, int lda, bool transA, int i0, int rows, int k, int mr, float alpha, float* dst)
    {
        if (!transA)
        {
            // panel row r is a's row i0 + r: transpose 8 x 8 blocks
            float* src = a + (long)i0 * lda;
            int p = 0;
            if (mr == 8 && rows == 8 && Avx.IsSupported)
            {
                for (; p + 8 <= k; p += 8) Transpose8x8(src + p, lda, dst + (long)p * 8, 8, alpha);
            }
            for (; p < k; p++)
            {
                float* d = dst + (long)p * mr;
                for (int r = 0; r < rows; r++) d[r] = alpha * src[(long)r * lda + p];
                for (int r = rows; r < mr; r++) d[r] = 0f;
            }
        }
        else
        {
            // op(A)[i0 + r, p] = a[p * lda + i0 + r]: each panel row is a contiguous run of a's row p
            float* src = a + i0;
            if (mr == 8 && rows == 8 && Vector256.IsHardwareAccelerated)
            {
                var scale = Vector256.Create(alpha);
                for (int p = 0; p < k; p++) (Vector256.Load(src + (long)p * lda) * scale).Store(dst + (long)p * 8);
                return;
            }
            for (int p = 0; p < k; p++)
            {
                float* s = src + (long)p * lda;
                float* d = dst + (long)p * mr;
                for (int r = 0; r < rows; r++) d[r] = alpha * s[r];
                for (int r = rows; r < mr; r++) d[r] = 0f;
            }
        }
    }

    /// <summary>
    /// Packs columns [j0, j0 + cols) of op(B) into the panel dst (k, width): dst[p * width + j] = op(B)[p, j0 + j],
    /// zero for j &gt;= cols. op(B) is (k, n): b is (k, n) with row stride ldb, or (n, k) with row stride ldb when transB.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB(float* b, int ldb, bool transB, int j0, int cols, int k, int width, float* dst)
    {
        if (!transB)
        {
            // panel row p is a slice of b's row p
            float* src = b + j0;
            for (int p = 0; p < k; p++) CopyRow(src + (long)p * ldb, dst + (long)p * width, cols, width);
            return;
        }

        // op(B)[p, j0 + j] = b[(j0 + j) * ldb + p]: transpose 8 x 8 blocks of b's rows j0 + j
        int j = 0;
        if (Avx.IsSupported)
        {
            for (; j + 8 <= cols; j += 8)
            {
                float* src = b + (long)(j0 + j) * ldb;
                int p = 0;
                for (; p + 8 <= k; p += 8) Transpose8x8(src + p, ldb, dst + (long)p * width + j, width, 1f);
                for (; p < k; p++)
                {
                    for (int jj = 0; jj < 8; jj++) dst[(long)p * width + j + jj] = src[(long)jj * ldb + p];
                }
            }
        }
        for (; j < cols; j++)
        {
            float* src = b + (long)(j0 + j) * ldb;
            for (int p = 0; p < k; p++) dst[(long)p * width + j] = src[p];
        }
        if (cols < width)
        {
            for (int p = 0; p < k; p++) new Span<float>(dst + (long)p * width + cols, width - cols).Clear();
        }
    }

    /// <summary>d[0, cols) = s[0, cols) and d[cols, width) = 0, with whole vectors where possible.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void CopyRow(float* s, float* d, int cols, int width)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j + 16 <= cols; j += 16) Vector512.Load(s + j).Store(d + j);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 8 <= cols; j += 8) Vector256.Load(s + j).Store(d + j);
        }
        for (; j < cols; j++) d[j] = s[j];
        for (; j < width; j++) d[j] = 0f;
    }

    /// <summary>
    /// d (8, 8) with row stride dstStride = scale * transpose of s (8, 8) with row stride srcStride:
    /// d[c * dstStride + r] = scale * s[r * srcStride + c].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8(float* s, int srcStride, float* d, int dstStride, float scale)
    {
        // rows r0..r7 = s0..s7; after unpack, shuffle and lane permute, o{c} holds column c
        var r0 = Avx.LoadVector256(s);
        var r1 = Avx.LoadVector256(s + srcStride);
        var r2 = Avx.LoadVector256(s + 2L * srcStride);
        var r3 = Avx.LoadVector256(s + 3L * srcStride);
        var r4 = Avx.LoadVector256(s + 4L * srcStride);
        var r5 = Avx.LoadVector256(s + 5L * srcStride);
        var r6 = Avx.LoadVector256(s + 6L * srcStride);
        var r7 = Avx.LoadVector256(s + 7L * srcStride);

        var t0 = Avx.UnpackLow(r0, r1);    // r0[0] r1[0] r0[1] r1[1] | r0[4] r1[4] r0[5] r1[5]
        var t1 = Avx.UnpackHigh(r0, r1);   // r0[2] r1[2] r0[3] r1[3] | r0[6] r1[6] r0[7] r1[7]
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);

        var u0 = Avx.Shuffle(t0, t2, 0x44);   // r0..r3 [0] | r0..r3 [4]
        var u1 = Avx.Shuffle(t0, t2, 0xEE);   // r0..r3 [1] | r0..r3 [5]
        var u2 = Avx.Shuffle(t1, t3, 0x44);   // r0..r3 [2] | r0..r3 [6]
        var u3 = Avx.Shuffle(t1, t3, 0xEE);   // r0..r3 [3] | r0..r3 [7]
        var u4 = Avx.Shuffle(t4, t6, 0x44);   // r4..r7 [0] | r4..r7 [4]
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);

        var k = Vector256.Create(scale);
        (Avx.Permute2x128(u0, u4, 0x20) * k).Store(d);
        (Avx.Permute2x128(u1, u5, 0x20) * k).Store(d + dstStride);
        (Avx.Permute2x128(u2, u6, 0x20) * k).Store(d + 2L * dstStride);
        (Avx.Permute2x128(u3, u7, 0x20) * k).Store(d + 3L * dstStride);
        (Avx.Permute2x128(u0, u4, 0x31) * k).Store(d + 4L * dstStride);
        (Avx.Permute2x128(u1, u5, 0x31) * k).Store(d + 5L * dstStride);
        (Avx.Permute2x128(u2, u6, 0x31) * k).Store(d + 6L * dstStride);
        (Avx.Permute2x128(u3, u7, 0x31) * k).Store(d + 7L * dstStride);
    }
}
