// An image classification dataset held in memory as float pixels in [0, 1] plus byte labels, and the loader that
// reads the train or test split of an MNIST-style folder of IDX files (Fashion-MNIST by default, MNIST works too).
using System.Numerics;

namespace Vae.Data;

/// <summary>
/// <see cref="Count"/> grayscale images of <see cref="Height"/> x <see cref="Width"/> pixels and their labels.
/// </summary>
public sealed class ImageDataset
{
    /// <param name="name">Shown in logs and messages, e.g. "fashion-mnist train".</param>
    /// <param name="height">Image height in pixels.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="images">labels.Length x (height * width) pixels, row-major per image, each in [0, 1].</param>
    /// <param name="labels">One class index per image.</param>
    public ImageDataset(string name, int height, int width, float[] images, byte[] labels)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        long pixels = (long)height * width;
        if ((long)labels.Length * pixels != images.Length)
            throw new ArgumentException(
                $"Dataset '{name}': {labels.Length} labels of {height} x {width} images need {(long)labels.Length * pixels} pixels; found {images.Length}.",
                nameof(images));
        Name = name;
        Height = height;
        Width = width;
        Images = images;
        Labels = labels;
        int classes = 0;
        foreach (byte label in labels) classes = Math.Max(classes, label + 1);
        Classes = classes;
    }

    public string Name { get; }

    /// <summary>The number of images (and labels).</summary>
    public int Count => Labels.Length;

    public int Height { get; }

    public int Width { get; }

    /// <summary>Pixels per image: Height * Width.</summary>
    public int Pixels => Height * Width;

    /// <summary>Count x Pixels floats: image i occupies [i * Pixels, (i + 1) * Pixels), rows top to bottom.</summary>
    public float[] Images { get; }

    /// <summary>Count class indices.</summary>
    public byte[] Labels { get; }

    /// <summary>The largest label + 1 (0 for an empty dataset).</summary>
    public int Classes { get; }
}

public static class ImageDatasets
{
    /// <summary>Where Debian's dataset-fashion-mnist package puts the IDX files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    const string InstallHint =
        "install the Fashion-MNIST IDX files with `apt-get install dataset-fashion-mnist` (Debian) or pass --data DIR " +
        "pointing at a folder with the four IDX files (MNIST works too)";

    /// <summary>
    /// Loads the training split (train-images-idx3-ubyte, train-labels-idx1-ubyte) or the test split (t10k-...) of
    /// the IDX files in <paramref name="directory"/>. Each file may be gzip-compressed and named with or without
    /// ".gz"; the "-images.idx3-ubyte" spelling of some mirrors is accepted too. Pixels are scaled byte / 255f.
    /// </summary>
    /// <exception cref="FileNotFoundException">The folder or one of the two files is missing.</exception>
    /// <exception cref="InvalidDataException">A file is corrupt, or the two files do not describe the same images.</exception>
    public static ImageDataset Load(string directory, bool train)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory))
            throw new FileNotFoundException($"Dataset folder not found: {directory}. To get the data, {InstallHint}.", directory);

        string prefix = train ? "train" : "t10k";
        string imagesPath = Find(directory, prefix, "images", 3);
        string labelsPath = Find(directory, prefix, "labels", 1);

        IdxArray images = IdxFile.Read(imagesPath);
        IdxArray labels = IdxFile.Read(labelsPath);
        if (images.Dimensions.Length != 3)
            throw new InvalidDataException(
                $"{imagesPath}: expected a 3-D image array (count x height x width), found {images.Dimensions.Length}-D ({string.Join(" x ", images.Dimensions)}). {IdxFile.Hint}");
        if (labels.Dimensions.Length != 1)
            throw new InvalidDataException(
                $"{labelsPath}: expected a 1-D label array, found {labels.Dimensions.Length}-D ({string.Join(" x ", labels.Dimensions)}). {IdxFile.Hint}");
        if (labels.Count != images.Count)
            throw new InvalidDataException(
                $"{imagesPath} holds {images.Count} images but {labelsPath} holds {labels.Count} labels; expected the same count. {IdxFile.Hint}");

        var pixels = GC.AllocateUninitializedArray<float>(images.Data.Length);
        ScaleToUnit(images.Data, pixels);
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory))) + (train ? " train" : " test");
        return new ImageDataset(name, images.Dimensions[1], images.Dimensions[2], pixels, labels.Data);
    }

    static string Find(string directory, string prefix, string kind, int rank)
    {
        string[] candidates =
        [
            $"{prefix}-{kind}-idx{rank}-ubyte",
            $"{prefix}-{kind}-idx{rank}-ubyte.gz",
            $"{prefix}-{kind}.idx{rank}-ubyte",
            $"{prefix}-{kind}.idx{rank}-ubyte.gz",
        ];
        foreach (string candidate in candidates)
        {
            string path = Path.Combine(directory, candidate);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException(
            $"Dataset folder {directory} has no {prefix}-{kind}-idx{rank}-ubyte file (looked for {string.Join(", ", candidates)}). To get the data, {InstallHint}.",
            Path.Combine(directory, candidates[0]));
    }

    /// <summary>destination[i] = source[i] / 255f, exactly as the scalar division rounds.</summary>
    internal static void ScaleToUnit(ReadOnlySpan<byte> source, Span<float> destination)
    {
        var divisor = new Vector<float>(255f);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= source.Length - Vector<byte>.Count; i += Vector<byte>.Count)
            {
                Vector.Widen(new Vector<byte>(source[i..]), out Vector<ushort> low, out Vector<ushort> high);
                Vector.Widen(low, out Vector<uint> q0, out Vector<uint> q1);
                Vector.Widen(high, out Vector<uint> q2, out Vector<uint> q3);
                int n = Vector<float>.Count;
                (Vector.ConvertToSingle(Vector.AsVectorInt32(q0)) / divisor).CopyTo(destination[i..]);
                (Vector.ConvertToSingle(Vector.AsVectorInt32(q1)) / divisor).CopyTo(destination[(i + n)..]);
                (Vector.ConvertToSingle(Vector.AsVectorInt32(q2)) / divisor).CopyTo(destination[(i + 2 * n)..]);
                (Vector.ConvertToSingle(Vector.AsVectorInt32(q3)) / divisor).CopyTo(destination[(i + 3 * n)..]);
            }
        }
        for (; i < source.Length; i++) destination[i] = source[i] / 255f;
    }
}
