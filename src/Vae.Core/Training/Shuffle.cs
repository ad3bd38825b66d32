// Seeded epoch permutations: Fisher-Yates driven by Philox4x32-10 with counter (i, epoch) and key seed, so the order
// of epoch e depends only on (seed, e) and a resumed run sees the same batches as an uninterrupted one.
using Vae.Random;

namespace Vae.Training;

public static class Shuffle
{
    /// <summary>Fills <paramref name="order"/> with a permutation of 0..order.Length-1 for (seed, epoch).</summary>
    public static void Permutation(Span<int> order, ulong seed, int epoch)
    {
        for (int i = 0; i < order.Length; i++) order[i] = i;
        for (int i = order.Length - 1; i > 0; i--)
        {
            uint c0 = (uint)i, c1 = (uint)epoch, c2 = 0x5407_F1E5, c3 = 0;
            Philox.Philox4x32x10(ref c0, ref c1, ref c2, ref c3, (uint)seed, (uint)(seed >> 32));
            int j = (int)(((ulong)c0 * (ulong)(i + 1)) >> 32);   // uniform in [0, i] up to 2^-32 bias
            (order[i], order[j]) = (order[j], order[i]);
        }
    }
}
