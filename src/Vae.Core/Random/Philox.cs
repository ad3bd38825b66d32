// Philox4x32-10 (Salmon et al., SC11 "Parallel Random Numbers: As Easy as 1, 2, 3"), the counter-based
// generator behind IComputeBackend.RandomNormal. Pure integer arithmetic: identical on every backend.
using System.Runtime.CompilerServices;

namespace Vae.Random;

public static class Philox
{
    public const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57;   // round multipliers
    public const uint W0 = 0x9E3779B9, W1 = 0xBB67AE85;   // Weyl key increments

    /// <summary>Ten rounds of Philox4x32 on counter (c0..c3) with key (k0, k1); the result replaces the counter.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Philox4x32x10(ref uint c0, ref uint c1, ref uint c2, ref uint c3, uint k0, uint k1)
    {
        for (int round = 0; round < 10; round++)
        {
            ulong p0 = (ulong)M0 * c0;
            ulong p1 = (ulong)M1 * c2;
            uint n0 = (uint)(p1 >> 32) ^ c1 ^ k0;
            uint n1 = (uint)p1;
            uint n2 = (uint)(p0 >> 32) ^ c3 ^ k1;
            uint n3 = (uint)p0;
            c0 = n0; c1 = n1; c2 = n2; c3 = n3;
            k0 += W0;
            k1 += W1;
        }
    }
}
