// ImageDatasets.Load: picks the train or test files of a folder (plain, .gz, or the ".idx3-ubyte" mirror naming),
// scales pixels byte / 255f, rejects mismatched shapes and missing files with a message saying what to do, and loads
// the installed Fashion-MNIST with its published facts (first labels 9 0 0 3 0 2 7 2 5 5, balanced classes, mean 0.2860).
using Vae.Data;
using Vae.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using static Vae.Tests.Data.IdxFileTests;

namespace Vae.Tests.Data;

public sealed class ImageDatasetTests(ITestOutputHelper output) : IDisposable
{
    readonly ScratchDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    const string InstallHint = "apt-get install dataset-fashion-mnist";

    /// <summary>Writes images (count x height x width) and labels as IDX files named with the given prefix and suffixes.</summary>
    void WriteSplit(string prefix, byte[] pixels, int count, int height, int width, byte[] labels,
        string imagesSuffix = "-images-idx3-ubyte", string labelsSuffix = "-labels-idx1-ubyte", bool gzip = false)
    {
        byte[] images = IdxBytes(0x08, [count, height, width], pixels);
        byte[] labelFile = IdxBytes(0x08, [labels.Length], labels);
        File.WriteAllBytes(_folder.File(prefix + imagesSuffix + (gzip ? ".gz" : "")), gzip ? Gzip(images) : images);
        File.WriteAllBytes(_folder.File(prefix + labelsSuffix + (gzip ? ".gz" : "")), gzip ? Gzip(labelFile) : labelFile);
    }

    static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new System.Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Loads_the_requested_split_and_scales_every_byte_value_exactly(bool gzip)
    {
        // 3 x 11 x 13 = 429 pixels: every byte value, and a length that leaves a remainder for any vector width.
        byte[] trainPixels = Bytes(3 * 11 * 13, seed: 1);
        for (int v = 0; v < 256; v++) trainPixels[v + 100] = (byte)v;
        WriteSplit("train", trainPixels, 3, 11, 13, [4, 0, 7], gzip: gzip);
        byte[] testPixels = Bytes(2 * 5 * 4, seed: 2);
        WriteSplit("t10k", testPixels, 2, 5, 4, [1, 2], gzip: !gzip);

        ImageDataset train = ImageDatasets.Load(_folder.Path, train: true);
        ImageDataset test = ImageDatasets.Load(_folder.Path, train: false);

        Assert.Equal((3, 11, 13, 143, 8), (train.Count, train.Height, train.Width, train.Pixels, train.Classes));
        Assert.Equal(new byte[] { 4, 0, 7 }, train.Labels);
        Assert.Equal(trainPixels.Select(b => b / 255f), train.Images);
        Assert.EndsWith(" train", train.Name, StringComparison.Ordinal);
        Assert.Equal((2, 5, 4, 3), (test.Count, test.Height, test.Width, test.Classes));
        Assert.Equal(testPixels.Select(b => b / 255f), test.Images);
        Assert.EndsWith(" test", test.Name, StringComparison.Ordinal);
    }

    [Fact]
    public void Accepts_the_dotted_file_names_of_some_MNIST_mirrors()
    {
        byte[] pixels = Bytes(2 * 3 * 3, seed: 3);
        WriteSplit("t10k", pixels, 2, 3, 3, [0, 1], imagesSuffix: "-images.idx3-ubyte", labelsSuffix: "-labels.idx1-ubyte");
        ImageDataset test = ImageDatasets.Load(_folder.Path, train: false);
        Assert.Equal(pixels.Select(b => b / 255f), test.Images);
    }

    [Fact]
    public void A_missing_folder_names_it_and_says_how_to_get_the_data()
    {
        string missing = Path.Combine(_folder.Path, "no-such-folder");
        var error = Assert.Throws<FileNotFoundException>(() => ImageDatasets.Load(missing, train: true));
        Assert.Contains(missing, error.Message);
        Assert.Contains(InstallHint, error.Message);
        Assert.Contains("--data DIR", error.Message);
    }

    [Fact]
    public void A_missing_file_names_the_folder_and_the_file_and_says_how_to_get_the_data()
    {
        WriteSplit("train", new byte[4], 1, 2, 2, [0]);
        File.Delete(_folder.File("train-labels-idx1-ubyte"));
        var error = Assert.Throws<FileNotFoundException>(() => ImageDatasets.Load(_folder.Path, train: true));
        Assert.Contains(_folder.Path, error.Message);
        Assert.Contains("train-labels-idx1-ubyte", error.Message);
        Assert.Contains(InstallHint, error.Message);

        // The test split is looked for under its own names.
        var testError = Assert.Throws<FileNotFoundException>(() => ImageDatasets.Load(_folder.Path, train: false));
        Assert.Contains("t10k-images-idx3-ubyte", testError.Message);
    }

    [Fact]
    public void Images_that_are_not_three_dimensional_are_rejected()
    {
        File.WriteAllBytes(_folder.File("train-images-idx3-ubyte"), IdxBytes(0x08, [2, 9], new byte[18]));
        File.WriteAllBytes(_folder.File("train-labels-idx1-ubyte"), IdxBytes(0x08, [2], [0, 1]));
        var error = Assert.Throws<InvalidDataException>(() => ImageDatasets.Load(_folder.Path, train: true));
        Assert.Contains("train-images-idx3-ubyte", error.Message);
        Assert.Contains("expected a 3-D image array", error.Message);
        Assert.Contains("found 2-D (2 x 9)", error.Message);
    }

    [Fact]
    public void Labels_that_are_not_one_dimensional_are_rejected()
    {
        File.WriteAllBytes(_folder.File("train-images-idx3-ubyte"), IdxBytes(0x08, [2, 3, 3], new byte[18]));
        File.WriteAllBytes(_folder.File("train-labels-idx1-ubyte"), IdxBytes(0x08, [2, 1], [0, 1]));
        var error = Assert.Throws<InvalidDataException>(() => ImageDatasets.Load(_folder.Path, train: true));
        Assert.Contains("train-labels-idx1-ubyte", error.Message);
        Assert.Contains("expected a 1-D label array, found 2-D (2 x 1)", error.Message);
    }

    [Fact]
    public void Different_image_and_label_counts_are_rejected()
    {
        WriteSplit("train", new byte[3 * 4], 3, 2, 2, [0, 1]);
        var error = Assert.Throws<InvalidDataException>(() => ImageDatasets.Load(_folder.Path, train: true));
        Assert.Contains("3 images", error.Message);
        Assert.Contains("2 labels", error.Message);
        Assert.Contains("train-images-idx3-ubyte", error.Message);
        Assert.Contains("train-labels-idx1-ubyte", error.Message);
    }

    [Fact]
    public void A_corrupt_file_in_the_folder_surfaces_as_InvalidDataException_naming_it()
    {
        WriteSplit("train", new byte[8], 2, 2, 2, [0, 1]);
        byte[] labels = File.ReadAllBytes(_folder.File("train-labels-idx1-ubyte"));
        File.WriteAllBytes(_folder.File("train-labels-idx1-ubyte"), labels[..^1]);
        var error = Assert.Throws<InvalidDataException>(() => ImageDatasets.Load(_folder.Path, train: true));
        Assert.Contains("train-labels-idx1-ubyte", error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void The_constructor_checks_that_images_match_labels_and_size()
    {
        var error = Assert.Throws<ArgumentException>(() => new ImageDataset("d", 2, 3, new float[11], new byte[2]));
        Assert.Contains("need 12 pixels; found 11", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageDataset("d", 0, 3, [], []));
        var dataset = new ImageDataset("d", 2, 3, new float[12], [1, 5]);
        Assert.Equal((2, 6, 6), (dataset.Count, dataset.Pixels, dataset.Classes));
        Assert.Equal(0, new ImageDataset("empty", 2, 2, [], []).Classes);
    }

    [Fact]
    public void The_installed_Fashion_MNIST_loads_with_its_published_facts()
    {
        string directory = ImageDatasets.DefaultDirectory;
        if (!Directory.Exists(directory))
        {
            output.WriteLine($"Skipped: {directory} is not installed (apt-get install dataset-fashion-mnist).");
            return;
        }

        ImageDataset train = ImageDatasets.Load(directory, train: true);
        ImageDataset test = ImageDatasets.Load(directory, train: false);

        Assert.Equal((60000, 28, 28, 784, 10), (train.Count, train.Height, train.Width, train.Pixels, train.Classes));
        Assert.Equal((10000, 28, 28, 10), (test.Count, test.Height, test.Width, test.Classes));
        Assert.Equal(60000 * 784, train.Images.Length);
        Assert.Equal(10000 * 784, test.Images.Length);

        // First labels: ankle boot, T-shirt, T-shirt, dress, ... (train); ankle boot, pullover, trouser, ... (test).
        Assert.Equal(new byte[] { 9, 0, 0, 3, 0, 2, 7, 2, 5, 5 }, train.Labels[..10]);
        Assert.Equal(new byte[] { 9, 2, 1, 1, 6, 1, 4, 6, 5, 7 }, test.Labels[..10]);
        // Balanced: 6000 training and 1000 test images per class.
        Assert.All(train.Labels.CountBy(l => l), pair => Assert.Equal(6000, pair.Value));
        Assert.All(test.Labels.CountBy(l => l), pair => Assert.Equal(1000, pair.Value));

        float min = train.Images.Min(), max = train.Images.Max();
        Assert.Equal((0f, 1f), (min, max));
        // The commonly quoted normalisation mean of Fashion-MNIST's training pixels is 0.2860.
        double mean = train.Images.Average(v => (double)v);
        Assert.InRange(mean, 0.28595, 0.28605);

        // Every pixel is exactly its byte / 255f.
        string rawPath = Path.Combine(directory, "t10k-images-idx3-ubyte.gz");
        IdxArray raw = IdxFile.Read(File.Exists(rawPath) ? rawPath : rawPath[..^3]);
        for (int i = 0; i < raw.Data.Length; i++)
        {
            if (test.Images[i] != raw.Data[i] / 255f) Assert.Fail($"pixel {i}: {test.Images[i]} != {raw.Data[i]} / 255f");
        }
        output.WriteLine($"train mean pixel {mean:F6}");
    }
}
