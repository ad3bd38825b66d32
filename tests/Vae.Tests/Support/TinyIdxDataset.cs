// Writes a tiny MNIST-style dataset for the command-line tests: the four IDX files (train-images-idx3-ubyte,
// train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte), plain or gzip-compressed (".gz").
// Each image is one of four prototype shapes (labels 0..3: horizontal bar, vertical bar, frame, filled top-left
// quadrant) plus noise, so a small VAE has structure to learn and every file is reproducible from its seed.
using System.Buffers.Binary;
using System.IO.Compression;

namespace Vae.Tests.Support;

public sealed record TinyIdxDataset(string Folder, int Height, int Width, byte[] TrainLabels, byte[] TestLabels, bool Gzip)
{
    public const int Classes = 4;

    public string TrainImagesPath => FilePath("train-images-idx3-ubyte");
    public string TrainLabelsPath => FilePath("train-labels-idx1-ubyte");
    public string TestImagesPath => FilePath("t10k-images-idx3-ubyte");
    public string TestLabelsPath => FilePath("t10k-labels-idx1-ubyte");

    string FilePath(string name) => Path.Combine(Folder, Gzip ? name + ".gz" : name);

    /// <summary>Creates <paramref name="folder"/> and writes the four files into it.</summary>
    public static TinyIdxDataset Write(string folder, int trainCount = 256, int testCount = 64, int height = 8, int width = 8,
        bool gzip = false, int seed = 1)
    {
        Directory.CreateDirectory(folder);
        var rng = new System.Random(seed);
        var (trainImages, trainLabels) = Images(rng, trainCount, height, width);
        var (testImages, testLabels) = Images(rng, testCount, height, width);
        var set = new TinyIdxDataset(folder, height, width, trainLabels, testLabels, gzip);
        WriteIdx(set.TrainImagesPath, [trainCount, height, width], trainImages, gzip);
        WriteIdx(set.TrainLabelsPath, [trainCount], trainLabels, gzip);
        WriteIdx(set.TestImagesPath, [testCount, height, width], testImages, gzip);
        WriteIdx(set.TestLabelsPath, [testCount], testLabels, gzip);
        return set;
    }

    static (byte[] Images, byte[] Labels) Images(System.Random rng, int count, int height, int width)
    {
        var images = new byte[count * height * width];
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            int label = rng.Next(Classes);
            labels[i] = (byte)label;
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    bool on = label switch
                    {
                        0 => Math.Abs(2 * y - (height - 1)) <= 2,                          // horizontal bar
                        1 => Math.Abs(2 * x - (width - 1)) <= 2,                           // vertical bar
                        2 => y == 0 || x == 0 || y == height - 1 || x == width - 1,        // frame
                        _ => y < height / 2 && x < width / 2,                              // top-left quadrant
                    };
                    int value = (on ? 220 : 20) + rng.Next(-20, 21);
                    images[(i * height + y) * width + x] = (byte)Math.Clamp(value, 0, 255);
                }
        }
        return (images, labels);
    }

    /// <summary>An unsigned-byte IDX file: 00 00 08 rank, big-endian dimensions, then the bytes.</summary>
    static void WriteIdx(string path, int[] dimensions, byte[] data, bool gzip)
    {
        var bytes = new byte[4 + 4 * dimensions.Length + data.Length];
        bytes[2] = 0x08;
        bytes[3] = (byte)dimensions.Length;
        for (int i = 0; i < dimensions.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dimensions[i]);
        data.CopyTo(bytes, 4 + 4 * dimensions.Length);
        if (!gzip)
        {
            File.WriteAllBytes(path, bytes);
            return;
        }
        using var file = File.Create(path);
        using var compressed = new GZipStream(file, CompressionLevel.Fastest);
        compressed.Write(bytes);
    }
}
