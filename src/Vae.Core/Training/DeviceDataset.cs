// A dataset's images uploaded once to the backend, so a batch is one index upload and one GatherRows: no per-step
// host copy of pixels, and the same code path on the GPU.
namespace Vae.Training;

public sealed class DeviceDataset : IDisposable
{
    readonly DeviceBuffer buffer;

    /// <summary>Uploads <paramref name="images"/> (count, pixels), values in [0, 1].</summary>
    public DeviceDataset(IComputeBackend backend, ReadOnlySpan<float> images, int count, int pixels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pixels, 1);
        if (images.Length != (long)count * pixels)
            throw new ArgumentException($"Expected {count} images of {pixels} pixels ({(long)count * pixels} floats), got {images.Length}.", nameof(images));
        Count = count;
        Pixels = pixels;
        buffer = backend.Allocate((long)images.Length * sizeof(float));
        Images = buffer.AsSpan<float>().Slice(0, images.Length);
        backend.Upload(images, Images);
    }

    public int Count { get; }
    public int Pixels { get; }
    /// <summary>(Count, Pixels) in [0, 1].</summary>
    public DeviceSpan<float> Images { get; }

    public void Dispose() => buffer.Dispose();
}
