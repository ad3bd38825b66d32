// `vae latent` end to end on tiny trained checkpoints (8x8 images of four prototype shapes, 1 epoch): a 2-D latent
// model gets the scatter plot of its test means and the decoded manifold; a 3-D one gets the PCA and t-SNE maps,
// identical bytes for the same seed; the default output folder is the checkpoint's; bad input gives one clear line.
using Vae.Imaging;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Cli;

/// <summary>A tiny dataset and three 1-epoch runs on it with latent sizes 1, 2 and 3.</summary>
public sealed class LatentRunsFixture : IDisposable
{
    readonly ScratchDirectory _scratch = new();

    public LatentRunsFixture()
    {
        Data = TinyIdxDataset.Write(_scratch.File("data"), 256, 64, 8, 8, gzip: false, seed: 5);
        WideData = TinyIdxDataset.Write(_scratch.File("data-8x10"), 64, 16, 8, 10, gzip: false, seed: 6);
        foreach (int latent in new[] { 1, 2, 3 })
        {
            var r = VaeProcess.Run(Folder, "train", "--data", Data.Folder, "--epochs", "1", "--batch", "32", "--hidden", "16",
                "--latent", latent.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", _scratch.File($"run{latent}"));
            Assert.True(r.ExitCode == 0, r.ToString());
        }
    }

    public string Folder => _scratch.Path;
    public TinyIdxDataset Data { get; }
    public TinyIdxDataset WideData { get; }
    public string Checkpoint(int latent) => Path.Combine(_scratch.File($"run{latent}"), "vae.safetensors");
    public string NewFolder(string name) => _scratch.File(name + "-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => _scratch.Dispose();
}

public sealed class CliLatentTests(LatentRunsFixture runs) : IClassFixture<LatentRunsFixture>
{
    static DecodedPng ReadPng(string path)
    {
        Assert.True(File.Exists(path), $"{path} was not written");
        return PngDecoder.Decode(File.ReadAllBytes(path));
    }

    static int CountColour(DecodedPng png, (byte R, byte G, byte B) colour)
    {
        Assert.Equal(2, png.ColorType);
        int count = 0;
        for (int i = 0; i < png.Samples.Length; i += 3)
            if (png.Samples[i] == colour.R && png.Samples[i + 1] == colour.G && png.Samples[i + 2] == colour.B) count++;
        return count;
    }

    /// <summary>The four classes' colours cover more than their legend swatches (so points were drawn); the other six are absent.</summary>
    static void AssertFourClassesDrawn(DecodedPng png)
    {
        int swatch = ScatterPlot.LegendSwatch(2) * ScatterPlot.LegendSwatch(2);
        for (int c = 0; c < 10; c++)
        {
            int pixels = CountColour(png, ScatterPlot.Palette[c]);
            if (c < TinyIdxDataset.Classes) Assert.True(pixels > swatch, $"class {c}: {pixels} pixels, only the swatch?");
            else Assert.True(pixels == 0, $"class {c} does not exist but has {pixels} pixels");
        }
    }

    static string[] Files(string folder) => Directory.GetFiles(folder).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void A_2d_latent_space_gets_the_scatter_of_its_means_and_the_decoded_manifold()
    {
        string output = runs.NewFolder("latent2");
        var r = VaeProcess.Run(runs.Folder, "latent", "--checkpoint", runs.Checkpoint(2), "--data", runs.Data.Folder, "--out", output);
        CliAssert.Succeeded(r);
        Assert.Equal(["latent-manifold.png", "latent-scatter.png"], Files(output));
        Assert.Contains(r.StdoutLines, l => l.StartsWith("encoded 64 images of data test to their 2-D latent means", StringComparison.Ordinal));
        Assert.Contains($"wrote {Path.Combine(output, "latent-scatter.png")}", r.StdoutLines);
        Assert.DoesNotContain(r.StdoutLines, l => l.StartsWith("t-SNE", StringComparison.Ordinal));

        AssertFourClassesDrawn(ReadPng(Path.Combine(output, "latent-scatter.png")));
        var manifold = ReadPng(Path.Combine(output, "latent-manifold.png"));
        Assert.Equal((20 * 9 + 1, 20 * 9 + 1), (manifold.Width, manifold.Height));   // 20 x 20 tiles of 8 x 8, 1 pixel apart
        Assert.Equal(0, manifold.ColorType);

        string small = runs.NewFolder("latent2-small");
        var r2 = VaeProcess.Run(runs.Folder, "latent", "--checkpoint", runs.Checkpoint(2), "--data", runs.Data.Folder, "--out", small,
            "--grid", "5", "--range", "2", "--points", "40", "--tsne", "--perplexity", "5");
        CliAssert.Succeeded(r2);
        Assert.Equal(["latent-manifold.png", "latent-scatter.png", "latent-tsne.png"], Files(small));
        var five = ReadPng(Path.Combine(small, "latent-manifold.png"));
        Assert.Equal((5 * 9 + 1, 5 * 9 + 1), (five.Width, five.Height));
        Assert.Contains(r2.StdoutLines, l => l.StartsWith("encoded 40 images", StringComparison.Ordinal));
        Assert.Contains(r2.StdoutLines, l => l.StartsWith("t-SNE: 40 points, perplexity 5, 1000 iterations", StringComparison.Ordinal));
    }

    [Fact]
    public void A_larger_latent_space_gets_pca_and_tsne_maps_reproducibly()
    {
        string a = runs.NewFolder("latent3-a"), b = runs.NewFolder("latent3-b");
        string[] args = ["latent", "--checkpoint", runs.Checkpoint(3), "--data", runs.Data.Folder, "--perplexity", "10", "--iterations", "300"];
        var ra = VaeProcess.Run(runs.Folder, [.. args, "--out", a]);
        var rb = VaeProcess.Run(runs.Folder, [.. args, "--out", b]);
        CliAssert.Succeeded(ra);
        CliAssert.Succeeded(rb);
        Assert.Equal(["latent-pca.png", "latent-tsne.png"], Files(a));
        Assert.Contains(ra.StdoutLines, l => l.StartsWith("PCA: the first two axes hold ", StringComparison.Ordinal));
        Assert.Contains(ra.StdoutLines, l => l.StartsWith("t-SNE: 64 points, perplexity 10, 300 iterations in ", StringComparison.Ordinal));
        foreach (var name in new[] { "latent-pca.png", "latent-tsne.png" })
        {
            AssertFourClassesDrawn(ReadPng(Path.Combine(a, name)));
            Assert.Equal(File.ReadAllBytes(Path.Combine(a, name)), File.ReadAllBytes(Path.Combine(b, name)));
        }

        string other = runs.NewFolder("latent3-seed2");
        CliAssert.Succeeded(VaeProcess.Run(runs.Folder, [.. args, "--out", other, "--seed", "2"]));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(a, "latent-tsne.png")), File.ReadAllBytes(Path.Combine(other, "latent-tsne.png")));

        string pcaOnly = runs.NewFolder("latent3-no-tsne");
        var r = VaeProcess.Run(runs.Folder, "latent", "--checkpoint", runs.Checkpoint(3), "--data", runs.Data.Folder, "--no-tsne", "--out", pcaOnly);
        CliAssert.Succeeded(r);
        Assert.Equal(["latent-pca.png"], Files(pcaOnly));
    }

    [Fact]
    public void Without_out_the_maps_go_next_to_the_checkpoint()
    {
        string folder = runs.NewFolder("copy");
        Directory.CreateDirectory(folder);
        string checkpoint = Path.Combine(folder, "model.safetensors");
        File.Copy(runs.Checkpoint(2), checkpoint);
        CliAssert.Succeeded(VaeProcess.Run(runs.Folder, "latent", "--checkpoint", checkpoint, "--data", runs.Data.Folder));
        Assert.Equal(["latent-manifold.png", "latent-scatter.png", "model.safetensors"], Files(folder));
    }

    [Fact]
    public void Bad_input_gives_one_clear_line()
    {
        string output = runs.NewFolder("bad");
        string data = runs.Data.Folder;

        var perplexity = VaeProcess.Run(runs.Folder, "latent", "--checkpoint", runs.Checkpoint(3), "--data", data, "--out", output);
        CliAssert.UsageError(perplexity, "--perplexity 30 needs at least 91 points", "only 64", "at most 21", "--no-tsne");

        var oneD = VaeProcess.Run(runs.Folder, "latent", "--checkpoint", runs.Checkpoint(1), "--data", data, "--out", output);
        CliAssert.InputError(oneD, "latent space has 1 dimension", "at least 2", "--latent 2");

        CliAssert.UsageError(VaeProcess.Run(runs.Folder, "latent", "--checkpoint", runs.Checkpoint(3), "--data", data, "--tsne", "--no-tsne", "--out", output),
            "--tsne and --no-tsne");
        CliAssert.UsageError(VaeProcess.Run(runs.Folder, "latent", "--data", data), "--checkpoint FILE is required");
        CliAssert.UsageError(VaeProcess.Run(runs.Folder, "latent", "--checkpoint", runs.Checkpoint(2), "--points", "0"), "--points must be in");
        CliAssert.UsageError(VaeProcess.Run(runs.Folder, "latent", "--checkpoint", runs.Checkpoint(2), "--tsne-points", "6000"), "--tsne-points must be in");
        CliAssert.UsageError(VaeProcess.Run(runs.Folder, "latent", "--checkpoint", runs.Checkpoint(2), "--colour", "red"), "Unknown option --colour");
        CliAssert.InputError(VaeProcess.Run(runs.Folder, "latent", "--checkpoint", runs.Checkpoint(2), "--data", runs.WideData.Folder, "--out", output),
            "8x10 = 80 pixels", "the model takes 64");
        var missing = VaeProcess.Run(runs.Folder, "latent", "--checkpoint", Path.Combine(output, "none.safetensors"), "--data", data, "--out", output);
        Assert.True(missing.ExitCode == 1 && missing.StderrLines.Length == 1 && missing.Stderr.StartsWith("vae: ", StringComparison.Ordinal), missing.ToString());

        Assert.False(Directory.Exists(output) && Directory.EnumerateFiles(output).Any(), "a failed run wrote files");
    }

    [Fact]
    public void Help_describes_the_command_and_the_general_help_lists_it()
    {
        var r = VaeProcess.Run(runs.Folder, "latent", "--help");
        CliAssert.Succeeded(r);
        Assert.StartsWith("usage: vae latent ", r.Stdout, StringComparison.Ordinal);
        foreach (var option in new[] { "--checkpoint", "--points", "--tsne", "--perplexity", "--grid", "--range", "--seed", "--out" })
            Assert.Contains(option, r.Stdout, StringComparison.Ordinal);

        var general = VaeProcess.Run(runs.Folder, "help");
        Assert.Contains(general.StdoutLines, l => l.StartsWith("  latent ", StringComparison.Ordinal));
    }
}
