// RandomNormal: the standard normal stream of Vae.Random.PhiloxNormal, bit for bit (kernels/sampling.ptx,
// sampling_random_normal). One thread per Philox block of four normals; the first and last blocks may be partial.
using Vae.Cuda.Device;

namespace Vae.Cuda;

public sealed partial class CudaBackend
{
    public void RandomNormal(DeviceSpan<float> output, ulong seed, ulong offset)
    {
        BackendChecks.RandomNormal(this, output, seed, offset);
        if (output.Length == 0) return;
        // Blocks from the one holding index offset to the one holding offset + length - 1 (indices modulo 2^64).
        long threads = ((long)(offset & 3) + output.Length + 3) / 4;
        Arg(output); Arg(output.Length); Arg(seed); Arg(offset); Arg((int)threads); Arg(0UL);
        Launch("sampling_random_normal", Blocks(threads), new LaunchDims(BlockSize));
    }

    /// <summary>The device-counter form (graph-capturable): the kernel reads offset[0] and covers the largest thread
    /// count any offset needs; a one-thread kernel then advances offset[0] by the length.</summary>
    public void RandomNormal(DeviceSpan<float> output, ulong seed, DeviceSpan<ulong> offset)
    {
        BackendChecks.RandomNormal(this, output, seed, offset);
        if (output.Length == 0) return;
        long threads = (3L + output.Length + 3) / 4;
        Arg(output); Arg(output.Length); Arg(seed); Arg(0UL); Arg((int)threads); Arg(offset);
        Launch("sampling_random_normal", Blocks(threads), new LaunchDims(BlockSize));
        Arg(offset); Arg(output.Length);
        Launch("sampling_advance_offset", new LaunchDims(1), new LaunchDims(32));
    }
}
