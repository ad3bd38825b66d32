// Vae.Random.PhiloxNormal vectorized over 16 Philox blocks at a time (64 normals) with AVX-512. Bit-identical to the
// scalar specification: the same integer rounds, and the same float operations (add, mul, fma, div, sqrt, exact
// conversions) in the same order, lane by lane.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Vae.Random;

namespace Vae.Cpu.Operators;

internal static unsafe class PhiloxNormalVector
{
    /// <summary>Block numbers are index >> 2 of a 64-bit index, so they wrap modulo 2^62.</summary>
    public const ulong BlockMask = (1UL << 62) - 1;

    const float Ln2Hi = 0.693145752f;      // PhiloxNormal's split of ln 2
    const float Ln2Lo = 1.42860677e-06f;

    public static bool IsSupported => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    /// <summary>
    /// Writes the normals of the 16 blocks firstBlock .. firstBlock + 15 (modulo 2^62) to output[0 .. 64):
    /// output[4 j + lane] = PhiloxNormal.Sample(seed, 4 (firstBlock + j) + lane).
    /// </summary>
    public static void Sample16Blocks(ulong seed, ulong firstBlock, float* output)
    {
        var mask = Vector512.Create(BlockMask);
        var blocksA = (Vector512.Create(firstBlock) + Vector512<ulong>.Indices) & mask;
        var blocksB = (Vector512.Create(firstBlock + 8) + Vector512<ulong>.Indices) & mask;
        Philox(blocksA, (uint)seed, (uint)(seed >> 32), out var a0, out var a1, out var a2, out var a3);
        Philox(blocksB, (uint)seed, (uint)(seed >> 32), out var b0, out var b1, out var b2, out var b3);
        // Lanes 0..7 come from blocks A, 8..15 from blocks B: lane j is block firstBlock + j.
        BoxMuller(Vector512.Narrow(a0, b0), Vector512.Narrow(a1, b1), out var n0, out var n1);
        BoxMuller(Vector512.Narrow(a2, b2), Vector512.Narrow(a3, b3), out var n2, out var n3);
        StoreInterleaved(n0, n1, n2, n3, output);
    }

    /// <summary>Philox4x32-10 of counters (lo32(block), hi32(block), 0, 0) for 8 blocks; 32-bit words in 64-bit lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Philox(Vector512<ulong> blocks, uint key0, uint key1,
        out Vector512<ulong> x0, out Vector512<ulong> x1, out Vector512<ulong> x2, out Vector512<ulong> x3)
    {
        var low = Vector512.Create(0xFFFFFFFFUL);
        var m0 = Vector512.Create((ulong)Vae.Random.Philox.M0).AsUInt32();
        var m1 = Vector512.Create((ulong)Vae.Random.Philox.M1).AsUInt32();
        Vector512<ulong> c0 = blocks & low, c1 = blocks >> 32, c2 = Vector512<ulong>.Zero, c3 = Vector512<ulong>.Zero;
        for (int round = 0; round < 10; round++)
        {
            // vpmuludq multiplies the low 32 bits of each 64-bit lane: the full 64-bit products M0 c0 and M1 c2.
            var p0 = Avx512F.Multiply(c0.AsUInt32(), m0);
            var p1 = Avx512F.Multiply(c2.AsUInt32(), m1);
            var n0 = (p1 >> 32) ^ c1 ^ Vector512.Create((ulong)key0);
            var n1 = p1 & low;
            var n2 = (p0 >> 32) ^ c3 ^ Vector512.Create((ulong)key1);
            var n3 = p0 & low;
            c0 = n0; c1 = n1; c2 = n2; c3 = n3;
            key0 += Vae.Random.Philox.W0;
            key1 += Vae.Random.Philox.W1;
        }
        x0 = c0; x1 = c1; x2 = c2; x3 = c3;
    }

    /// <summary>PhiloxNormal.BoxMuller for 16 pairs (a, c): the cosine and the sine normal.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void BoxMuller(Vector512<uint> a, Vector512<uint> c, out Vector512<float> cosine, out Vector512<float> sine)
    {
        var u1 = Vector512.ConvertToSingle(((a >> 8) + Vector512<uint>.One).AsInt32()) * (1f / 16777216f);
        var r = Vector512.Sqrt(Vector512.Create(-2f) * Log(u1));

        // Quarter turns: k / 2^22 = q + f, q the nearest integer (ties up).
        var k = c >> 8;
        var q = (k + Vector512.Create(1u << 21)) >> 22;
        var rem = k.AsInt32() - (q << 22).AsInt32();
        var t = Vector512.ConvertToSingle(rem) * (1f / 4194304f) * 1.57079637f;
        var t2 = t * t;
        var sp = Vector512.FusedMultiplyAdd(t2, Vector512.Create(2.75573192e-06f), Vector512.Create(-1.98412698e-04f));
        sp = Vector512.FusedMultiplyAdd(t2, sp, Vector512.Create(8.33333333e-03f));
        sp = Vector512.FusedMultiplyAdd(t2, sp, Vector512.Create(-1.66666667e-01f));
        var sin = Vector512.FusedMultiplyAdd(t * t2, sp, t);
        var cp = Vector512.FusedMultiplyAdd(t2, Vector512.Create(-2.75573192e-07f), Vector512.Create(2.48015873e-05f));
        cp = Vector512.FusedMultiplyAdd(t2, cp, Vector512.Create(-1.38888889e-03f));
        cp = Vector512.FusedMultiplyAdd(t2, cp, Vector512.Create(4.16666667e-02f));
        cp = Vector512.FusedMultiplyAdd(t2, cp, Vector512.Create(-0.5f));
        var cos = Vector512.FusedMultiplyAdd(t2, cp, Vector512<float>.One);

        sine = r * Quadrant(q, sin, cos);
        cosine = r * Quadrant(q + Vector512<uint>.One, sin, cos);
    }

    /// <summary>[sin, cos, -sin, -cos][quadrant &amp; 3] per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Quadrant(Vector512<uint> quadrant, Vector512<float> sin, Vector512<float> cos)
    {
        var odd = Vector512.Equals(quadrant & Vector512<uint>.One, Vector512<uint>.One).AsSingle();
        var negate = ((quadrant & Vector512.Create(2u)) << 30).AsSingle();   // the sign bit where bit 1 is set
        return Vector512.ConditionalSelect(odd, cos, sin) ^ negate;
    }

    /// <summary>PhiloxNormal.Log for 16 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Log(Vector512<float> x)
    {
        var bits = x.AsInt32();
        var e = ((bits >> 23) & Vector512.Create(0xFF)) - Vector512.Create(127);
        var m = ((bits & Vector512.Create(0x007FFFFF)) | Vector512.Create(0x3F800000)).AsSingle();
        var high = Vector512.GreaterThan(m, Vector512.Create(1.41421356f));
        m = Vector512.ConditionalSelect(high, m * 0.5f, m);
        e -= high.AsInt32();   // high lanes are -1: e + 1
        var s = (m - Vector512<float>.One) / (m + Vector512<float>.One);
        var s2 = s * s;
        var p = Vector512.FusedMultiplyAdd(s2, Vector512.Create(1f / 11f), Vector512.Create(1f / 9f));
        p = Vector512.FusedMultiplyAdd(s2, p, Vector512.Create(1f / 7f));
        p = Vector512.FusedMultiplyAdd(s2, p, Vector512.Create(1f / 5f));
        p = Vector512.FusedMultiplyAdd(s2, p, Vector512.Create(1f / 3f));
        var s3 = s2 * s;
        var logM = Vector512.FusedMultiplyAdd(s3 * p, Vector512.Create(2f), Vector512.Create(2f) * s);
        var fe = Vector512.ConvertToSingle(e);
        return Vector512.FusedMultiplyAdd(fe, Vector512.Create(Ln2Hi), Vector512.FusedMultiplyAdd(fe, Vector512.Create(Ln2Lo), logM));
    }

    /// <summary>output[4 j + lane] = n_lane[j] for j in [0, 16): a 4 x 16 transpose in two permute stages.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreInterleaved(Vector512<float> n0, Vector512<float> n1, Vector512<float> n2, Vector512<float> n3, float* output)
    {
        var pairsLow = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var pairsHigh = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        // (n0[j], n1[j]) and (n2[j], n3[j]) pairs for j in 0..7 and 8..15, one pair per 64-bit lane.
        var p01Low = Avx512F.PermuteVar16x32x2(n0, pairsLow, n1).AsDouble();
        var p01High = Avx512F.PermuteVar16x32x2(n0, pairsHigh, n1).AsDouble();
        var p23Low = Avx512F.PermuteVar16x32x2(n2, pairsLow, n3).AsDouble();
        var p23High = Avx512F.PermuteVar16x32x2(n2, pairsHigh, n3).AsDouble();
        var first = Vector512.Create(0L, 8, 1, 9, 2, 10, 3, 11);
        var second = Vector512.Create(4L, 12, 5, 13, 6, 14, 7, 15);
        Avx512F.PermuteVar8x64x2(p01Low, first, p23Low).AsSingle().Store(output);
        Avx512F.PermuteVar8x64x2(p01Low, second, p23Low).AsSingle().Store(output + 16);
        Avx512F.PermuteVar8x64x2(p01High, first, p23High).AsSingle().Store(output + 32);
        Avx512F.PermuteVar8x64x2(p01High, second, p23High).AsSingle().Store(output + 48);
    }
}
