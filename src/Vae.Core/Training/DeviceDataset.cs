// A dataset's images (and, for conditional models, its labels as one-hot rows) uploaded once to the backend, so a
// batch is one index upload and one GatherRows per tensor: no per-step host copy of pixels, and the same code path
// on the GPU.
namespace Vae.Training;

public sealed class DeviceDataset : IDisposable
{
    readonly DeviceBuffer buffer;
    readonly DeviceBuffer? labelBuffer;

    /// <summary>Uploads <paramref name="images"/> (count, pixels), values in [0, 1].</summary>
    public DeviceDataset(IComputeBackend backend, ReadOnlySpan<float> images, int count, int pixels)
        : this(backend, images, count, pixels, default, 0) { }

    /// <summary>
    /// Uploads <paramref name="images"/> (count, pixels) and, when <paramref name="classes"/> &gt; 0, the labels
    /// (count, each in [0, classes)) as one-hot rows (count, classes) for conditional models.
    /// </summary>
    public DeviceDataset(IComputeBackend backend, ReadOnlySpan<float> images, int count, int pixels, ReadOnlySpan<byte> labels, int classes)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pixels, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(classes);
        if (images.Length != (long)count * pixels)
            throw new ArgumentException($"Expected {count} images of {pixels} pixels ({(long)count * pixels} floats), got {images.Length}.", nameof(images));
        if (classes > 0)
        {
            if (labels.Length != count)
                throw new ArgumentException($"Expected {count} labels (one per image), got {labels.Length}.", nameof(labels));
            for (int i = 0; i < count; i++)
                if (labels[i] >= classes)
                    throw new ArgumentException($"Label {labels[i]} of image {i} is outside the {classes} classes [0, {classes - 1}]; is this the dataset the model was built for?", nameof(labels));
        }
        Count = count;
        Pixels = pixels;
        Classes = classes;
        buffer = backend.Allocate((long)images.Length * sizeof(float));
        Images = buffer.AsSpan<float>().Slice(0, images.Length);
        backend.Upload(images, Images);
        if (classes > 0)
        {
            var oneHot = new float[(long)count * classes];
            for (int i = 0; i < count; i++) oneHot[(long)i * classes + labels[i]] = 1f;
            labelBuffer = backend.Allocate(oneHot.LongLength * sizeof(float));
            OneHotLabels = labelBuffer.AsSpan<float>().Slice(0, oneHot.Length);
            backend.Upload<float>(oneHot, OneHotLabels);
        }
    }

    public int Count { get; }
    public int Pixels { get; }
    /// <summary>Classes of the one-hot labels; 0 when the labels were not uploaded.</summary>
    public int Classes { get; }
    /// <summary>(Count, Pixels) in [0, 1].</summary>
    public DeviceSpan<float> Images { get; }
    /// <summary>(Count, Classes) one-hot labels; empty when Classes is 0.</summary>
    public DeviceSpan<float> OneHotLabels { get; }

    public void Dispose()
    {
        buffer.Dispose();
        labelBuffer?.Dispose();
    }
}
