// The specification of Vae's standard normal stream. Every backend must produce exactly these bits.
//
// Normal number j of stream `seed` (j = offset + i in RandomNormal):
//   block b = j >> 2, lane = j & 3
//   (x0, x1, x2, x3) = Philox4x32-10(counter = (lo32(b), hi32(b), 0, 0), key = (lo32(seed), hi32(seed)))
//   pair p = lane >> 1 uses (a, c) = (x[2p], x[2p + 1])
//   u1 = ((a >> 8) + 1) * 2^-24 in (0, 1]            (exact in float)
//   k  = c >> 8 in [0, 2^24); angle = 2 pi k / 2^24
//   r  = sqrt(-2 * Log(u1))                            (IEEE sqrt, correctly rounded)
//   lane even: r * Cos(angle); lane odd: r * Sin(angle)   (Box-Muller)
// Log, Cos and Sin below use only float add, mul, fma (one rounding), division and integer bit operations, each
// correctly rounded in IEEE 754, so a CUDA kernel written with add.rn/mul.rn/fma.rn/div.rn/sqrt.rn.f32 in the
// same order reproduces them bit for bit. Never let a compiler contract a*b+c into an fma where none is written.
using System.Runtime.CompilerServices;

namespace Vae.Random;

public static class PhiloxNormal
{
    /// <summary>The normal number with index <paramref name="index"/> of stream <paramref name="seed"/>.</summary>
    public static float Sample(ulong seed, ulong index)
    {
        ulong block = index >> 2;
        uint x0 = (uint)block, x1 = (uint)(block >> 32), x2 = 0, x3 = 0;
        Philox.Philox4x32x10(ref x0, ref x1, ref x2, ref x3, (uint)seed, (uint)(seed >> 32));
        int lane = (int)(index & 3);
        return lane switch
        {
            0 => BoxMuller(x0, x1, cosine: true),
            1 => BoxMuller(x0, x1, cosine: false),
            2 => BoxMuller(x2, x3, cosine: true),
            _ => BoxMuller(x2, x3, cosine: false),
        };
    }

    /// <summary>Writes the four normals of block <paramref name="block"/> (indices 4 block .. 4 block + 3).</summary>
    public static void SampleBlock(ulong seed, ulong block, Span<float> four)
    {
        uint x0 = (uint)block, x1 = (uint)(block >> 32), x2 = 0, x3 = 0;
        Philox.Philox4x32x10(ref x0, ref x1, ref x2, ref x3, (uint)seed, (uint)(seed >> 32));
        four[0] = BoxMuller(x0, x1, cosine: true);
        four[1] = BoxMuller(x0, x1, cosine: false);
        four[2] = BoxMuller(x2, x3, cosine: true);
        four[3] = BoxMuller(x2, x3, cosine: false);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float BoxMuller(uint a, uint c, bool cosine)
    {
        float u1 = ((a >> 8) + 1) * (1f / 16777216f);
        float r = MathF.Sqrt(-2f * Log(u1));
        return r * (cosine ? CosTurns(c >> 8) : SinTurns(c >> 8));
    }

    const float Ln2Hi = 0.693145752f;      // 0x3F317200: ln 2 with 12 trailing zero bits, so e * Ln2Hi is exact
    const float Ln2Lo = 1.42860677e-06f;   // ln 2 - Ln2Hi

    /// <summary>Natural log of a positive normal float, ~1 ulp, from the series 2 atanh(s), s = (m - 1) / (m + 1).</summary>
    public static float Log(float x)
    {
        int bits = BitConverter.SingleToInt32Bits(x);
        int e = ((bits >> 23) & 0xFF) - 127;
        float m = BitConverter.Int32BitsToSingle((bits & 0x007FFFFF) | 0x3F800000);   // [1, 2)
        if (m > 1.41421356f) { m *= 0.5f; e += 1; }                                     // [sqrt(1/2), sqrt(2)]
        float s = (m - 1f) / (m + 1f);
        float s2 = s * s;
        float p = MathF.FusedMultiplyAdd(s2, 1f / 11f, 1f / 9f);
        p = MathF.FusedMultiplyAdd(s2, p, 1f / 7f);
        p = MathF.FusedMultiplyAdd(s2, p, 1f / 5f);
        p = MathF.FusedMultiplyAdd(s2, p, 1f / 3f);
        float s3 = s2 * s;
        float logM = MathF.FusedMultiplyAdd(s3 * p, 2f, 2f * s);                        // 2 (s + s^3 p)
        float fe = e;
        return MathF.FusedMultiplyAdd(fe, Ln2Hi, MathF.FusedMultiplyAdd(fe, Ln2Lo, logM));
    }

    /// <summary>cos(2 pi k / 2^24) for k in [0, 2^24).</summary>
    public static float CosTurns(uint k) => SinCosTurns(k, cosine: true);

    /// <summary>sin(2 pi k / 2^24) for k in [0, 2^24).</summary>
    public static float SinTurns(uint k) => SinCosTurns(k, cosine: false);

    static float SinCosTurns(uint k, bool cosine)
    {
        // Quarter turns: k / 2^22 = q + f with q the nearest integer (ties up) and f in [-1/2, 1/2), exactly.
        uint q = (k + (1u << 21)) >> 22;
        int rem = (int)k - (int)(q << 22);                  // [-2^21, 2^21)
        float t = rem * (1f / 4194304f) * 1.57079637f;      // angle within the quadrant, [-pi/4, pi/4)
        float t2 = t * t;
        // Taylor series to t^9 and t^10 (truncation below 2e-9 on [-pi/4, pi/4]).
        float sp = MathF.FusedMultiplyAdd(t2, 2.75573192e-06f, -1.98412698e-04f);
        sp = MathF.FusedMultiplyAdd(t2, sp, 8.33333333e-03f);
        sp = MathF.FusedMultiplyAdd(t2, sp, -1.66666667e-01f);
        float sin = MathF.FusedMultiplyAdd(t * t2, sp, t);
        float cp = MathF.FusedMultiplyAdd(t2, -2.75573192e-07f, 2.48015873e-05f);
        cp = MathF.FusedMultiplyAdd(t2, cp, -1.38888889e-03f);
        cp = MathF.FusedMultiplyAdd(t2, cp, 4.16666667e-02f);
        cp = MathF.FusedMultiplyAdd(t2, cp, -0.5f);
        float cos = MathF.FusedMultiplyAdd(t2, cp, 1f);
        // angle = q * pi/2 + t
        switch ((q + (cosine ? 1u : 0u)) & 3)
        {
            case 0: return sin;
            case 1: return cos;
            case 2: return -sin;
            default: return -cos;
        }
    }
}
