// RandomNormal: the standard normal stream of Vae.Random.PhiloxNormal, bit for bit. Whole Philox blocks are
// generated 16 at a time with AVX-512 (PhiloxNormalVector) or one at a time otherwise; a leading or trailing partial
// block uses PhiloxNormal.Sample. Large outputs are split over the pool by block ranges.
using Vae.Cpu.Operators;
using Vae.Cpu.Threading;
using Vae.Random;

namespace Vae.Cpu;

public sealed unsafe partial class CpuBackend
{
    /// <summary>Blocks (4 normals each) per piece of pool work.</summary>
    const int NormalBlockGrain = 1024;

    /// <summary>Work units per normal (Philox rounds, log, sqrt, sine and cosine), for the parallel threshold.</summary>
    const int NormalCost = 16;

    public void RandomNormal(DeviceSpan<float> output, ulong seed, ulong offset)
    {
        BackendChecks.RandomNormal(this, output, seed, offset);
        int length = output.Length;
        float* destination = Ptr(output);
        // output[i] is normal number offset + i; indices wrap modulo 2^64 like PhiloxNormal.Sample's.
        int lead = (int)Math.Min((ulong)length, (4 - (offset & 3)) & 3);
        for (int i = 0; i < lead; i++) destination[i] = PhiloxNormal.Sample(seed, offset + (ulong)i);
        int blocks = (length - lead) / 4;
        ulong firstBlock = (offset + (ulong)lead) >> 2;
        var kernel = new NormalBlocksKernel(destination + lead, seed, firstBlock);
        RangeWork.Run(Pool, kernel, blocks, NormalBlockGrain, (long)blocks * 4 * NormalCost);
        for (int i = lead + blocks * 4; i < length; i++) destination[i] = PhiloxNormal.Sample(seed, offset + (ulong)i);
    }

    /// <summary>output[4 j .. 4 j + 4) = the normals of block firstBlock + j (modulo 2^62), for j in [start, start + count).</summary>
    readonly struct NormalBlocksKernel(float* output, ulong seed, ulong firstBlock) : IRangeKernel
    {
        public void Execute(int start, int count)
        {
            int j = start, end = start + count;
            if (PhiloxNormalVector.IsSupported)
            {
                for (; j + 16 <= end; j += 16) PhiloxNormalVector.Sample16Blocks(seed, firstBlock + (ulong)j, output + 4L * j);
            }
            for (; j < end; j++)
            {
                PhiloxNormal.SampleBlock(seed, (firstBlock + (ulong)j) & PhiloxNormalVector.BlockMask, new Span<float>(output + 4L * j, 4));
            }
        }
    }
}
