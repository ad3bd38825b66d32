// End-to-end runs of the `vae` tool on a tiny IDX dataset (8x8 images of four prototype shapes plus noise): `train`
// writes the checkpoint, pictures, loss curve and history and prints plain progress lines when redirected; a run
// stopped after one epoch and resumed is bit-identical to an uninterrupted one; an existing run is never overwritten
// by accident; `eval`, `sample`, `reconstruct` and `interpolate` work on the trained checkpoint and refuse bad input.
using System.Globalization;
using System.Text.Json;
using Vae.Checkpoints;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Cli;

/// <summary>A tiny dataset (gzip files, a plain copy, and an 8x10 variant) and one 2-epoch training run on it, shared by the tests.</summary>
public sealed class TrainedRunFixture : RunFixture
{
    public const int TrainImages = 256, TestImages = 64, Side = 8;

    /// <summary>The settings of every run here, apart from --data, --epochs and --out.</summary>
    public static readonly string[] Settings = ["--batch", "32", "--hidden", "16", "--latent", "3"];

    public TrainedRunFixture() : base(Settings, "O1", gzip: true) =>
        PlainData = TinyIdxDataset.Write(File("data-plain"), TrainImages, TestImages, Side, Side, gzip: false, seed: 5);

    /// <summary>The same images as <see cref="RunFixture.Data"/> in plain (not gzip) files.</summary>
    public TinyIdxDataset PlainData { get; }

    public static IEnumerable<string> TrainArgs(string data, int epochs, string output) =>
        ["train", "--data", data, "--epochs", epochs.ToString(CultureInfo.InvariantCulture), .. Settings, "--out", output];
}

public sealed class CliTrainedRunTests(TrainedRunFixture run) : IClassFixture<TrainedRunFixture>
{
    /// <summary>Width or height of a grid of `tiles` tiles of `side` pixels, drawn 2x with 2 pixels of border (as the tool writes them).</summary>
    static int GridSize(int tiles, int side) => tiles * (2 * side + 2) + 2;

    static DecodedPng ReadPng(string path)
    {
        Assert.True(File.Exists(path), $"{path} was not written");
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.AsSpan().StartsWith(PngDecoder.Signature), $"{path} does not start with the PNG signature");
        return PngDecoder.Decode(bytes);
    }

    static void AssertPngSize(string path, int width, int height)
    {
        var png = ReadPng(path);
        Assert.True(png.Width == width && png.Height == height, $"{path}: expected {width} x {height}, found {png.Width} x {png.Height}");
    }

    [Fact]
    public void TrainWritesCheckpointPicturesAndHistory()
    {
        var written = Directory.GetFiles(run.Run).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(RunFixture.OutputFiles.Order(StringComparer.Ordinal), written);

        AssertPngSize(Path.Combine(run.Run, "samples.png"), GridSize(8, 8), GridSize(8, 8));                    // 64 samples, 8 columns
        AssertPngSize(Path.Combine(run.Run, "reconstructions.png"), GridSize(8, 8), GridSize(4, 8));            // 16 inputs over 16 outputs
        var labels = run.Data.TestLabels;
        int strips = Enumerable.Range(0, TrainedRunFixture.TestImages / 2).Count(p => labels[2 * p] != labels[2 * p + 1]);
        AssertPngSize(Path.Combine(run.Run, "interpolations.png"), GridSize(10, 8), GridSize(Math.Min(strips, 8), 8));

        string svg = File.ReadAllText(Path.Combine(run.Run, "loss.svg"));
        Assert.Contains("<svg", svg, StringComparison.Ordinal);
        Assert.EndsWith("</svg>", svg.TrimEnd(), StringComparison.Ordinal);

        var history = File.ReadAllLines(Path.Combine(run.Run, "history.csv"));
        Assert.Equal("epoch,train_loss,train_recon,train_kl,test_loss,test_recon,test_kl,seconds", history[0]);
        Assert.Equal(3, history.Length);
        for (int epoch = 1; epoch <= 2; epoch++)
        {
            var fields = history[epoch].Split(',');
            Assert.Equal(8, fields.Length);
            Assert.Equal(epoch.ToString(CultureInfo.InvariantCulture), fields[0]);
            foreach (var field in fields[1..])
                Assert.True(double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) && double.IsFinite(x), history[epoch]);
        }

        var checkpoint = SafeTensorsFile.Read(run.Checkpoint);
        Assert.Equal("2", checkpoint.Metadata["epoch"]);
        Assert.Equal((2 * TrainedRunFixture.TrainImages / 32).ToString(CultureInfo.InvariantCulture), checkpoint.Metadata["step"]);
        Assert.Contains(run.Checkpoint, run.Training.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void RedirectedProgressIsPlainLines()
    {
        var r = run.Training;
        Assert.True(r.Stderr.Length == 0, r.ToString());
        Assert.DoesNotContain('\r', r.Stdout);
        // 8 batches of 32 per epoch: a progress line at each quarter of the epoch (but not the end), then the epoch summary
        for (int epoch = 1; epoch <= 2; epoch++)
        {
            foreach (int images in new[] { 64, 128, 192 })
                Assert.True(r.StdoutLines.Count(l => l.StartsWith($"epoch {epoch}/2: {images}/256 images, loss ", StringComparison.Ordinal)) == 1, r.ToString());
            Assert.True(r.StdoutLines.Count(l => l.StartsWith($"epoch   {epoch}  train ", StringComparison.Ordinal)) == 1, r.ToString());
        }
        Assert.Contains(r.StdoutLines, l => l.StartsWith("test: loss ", StringComparison.Ordinal));
    }

    [Fact]
    public void ForcedOneEpochRunResumedToTwoEpochsIsBitIdenticalToTheUninterruptedRun()
    {
        // O2 starts as a copy of the finished 2-epoch run: --force must really start over
        string o2 = run.File("O2-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(o2);
        foreach (var file in Directory.GetFiles(run.Run)) File.Copy(file, Path.Combine(o2, Path.GetFileName(file)));

        var first = VaeProcess.Run(run.Folder, [.. TrainedRunFixture.TrainArgs(run.Data.Folder, 1, o2), "--force"]);
        Assert.True(first.ExitCode == 0, first.ToString());
        string checkpoint = Path.Combine(o2, "vae.safetensors");
        Assert.Equal("1", SafeTensorsFile.Read(checkpoint).Metadata["epoch"]);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(o2, "history.csv")).Length);

        var resumed = VaeProcess.Run(run.Folder, "train", "--data", run.Data.Folder, "--epochs", "2", "--out", o2, "--resume");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("resuming after epoch 1 (step 8)", resumed.Stdout, StringComparison.Ordinal);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(o2, "history.csv")).Length);

        var expected = SafeTensorsFile.Read(run.Checkpoint);
        var actual = SafeTensorsFile.Read(checkpoint);
        Assert.Equal(expected.Tensors.Select(t => t.Name), actual.Tensors.Select(t => t.Name));
        Assert.Contains(expected.Tensors, t => t.Name.StartsWith("optim.v.", StringComparison.Ordinal));
        for (int i = 0; i < expected.Tensors.Count; i++)
        {
            var e = expected.Tensors[i];
            var a = actual.Tensors[i];
            Assert.Equal(e.Type, a.Type);
            Assert.Equal(e.Shape, a.Shape);
            Assert.True(e.Data.AsSpan().SequenceEqual(a.Data), $"tensor {e.Name} differs between the uninterrupted and the resumed run");
        }

        Assert.Equal(expected.Metadata.Keys.Order(StringComparer.Ordinal), actual.Metadata.Keys.Order(StringComparer.Ordinal));
        foreach (var key in new[] { "step", "epoch", "rng_offset", "seed", "config", "training" })
            Assert.Equal(expected.Metadata[key], actual.Metadata[key]);
        Assert.Equal("2", actual.Metadata["epoch"]);
        Assert.Equal(HistoryWithoutSeconds(expected.Metadata["history"]), HistoryWithoutSeconds(actual.Metadata["history"]));
    }

    /// <summary>The history metadata as "key=value" lines per epoch, leaving out the wall-clock seconds.</summary>
    static List<string> HistoryWithoutSeconds(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var lines = new List<string>();
        foreach (var epoch in doc.RootElement.EnumerateArray())
            lines.Add(string.Join(' ', epoch.EnumerateObject().Where(p => p.Name != "seconds").Select(p => $"{p.Name}={p.Value.GetRawText()}")));
        Assert.Equal(2, lines.Count);
        return lines;
    }

    [Fact]
    public void TrainingIntoAnExistingRunNeedsResumeOrForce()
    {
        byte[] before = File.ReadAllBytes(run.Checkpoint);
        var r = VaeProcess.Run(run.Folder, [.. TrainedRunFixture.TrainArgs(run.Data.Folder, 2, run.Run)]);
        CliAssert.UsageError(r, run.Checkpoint, "already exists", "--resume", "--force");
        Assert.Equal(before, File.ReadAllBytes(run.Checkpoint));
    }

    [Fact]
    public void ResumingAFinishedRunTrainsNothing()
    {
        byte[] before = File.ReadAllBytes(run.Checkpoint);
        var r = VaeProcess.Run(run.Folder, "train", "--data", run.Data.Folder, "--epochs", "2", "--out", run.Run, "--resume");
        CliAssert.Succeeded(r);
        Assert.Contains("nothing to train", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(r.StdoutLines, l => l.StartsWith("epoch ", StringComparison.Ordinal));
        Assert.Equal(before, File.ReadAllBytes(run.Checkpoint));
    }

    [Fact]
    public void EvalJsonIsOneObjectWithConsistentMetrics()
    {
        var r = VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.Checkpoint, "--data", run.Data.Folder, "--json");
        CliAssert.Succeeded(r);
        Assert.Single(r.StdoutLines);
        using var doc = JsonDocument.Parse(r.Stdout);
        var o = doc.RootElement;
        double loss = o.GetProperty("test_loss").GetDouble(), recon = o.GetProperty("recon").GetDouble(), kl = o.GetProperty("kl").GetDouble();
        Assert.True(double.IsFinite(loss) && double.IsFinite(recon) && double.IsFinite(kl), r.Stdout);
        Assert.True(recon > 0 && kl >= 0, r.Stdout);
        Assert.True(Math.Abs(loss - (recon + kl)) <= 1e-6 * Math.Abs(loss), $"test_loss should be recon + kl (beta 1): {r.Stdout}");
        Assert.Equal(TrainedRunFixture.TestImages, o.GetProperty("images").GetInt32());
        Assert.InRange(o.GetProperty("active_units").GetInt32(), 0, 3);
        double variance = o.GetProperty("latent_variance").GetDouble();
        Assert.True(double.IsFinite(variance) && variance >= 0, r.Stdout);
        Assert.InRange(o.GetProperty("mean_abs_latent_correlation").GetDouble(), 0.0, 1.0);
        Assert.Equal(2, o.GetProperty("epoch").GetInt32());

        // the same images from plain (not gzip-compressed) IDX files give the same numbers
        var plain = VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.Checkpoint, "--data", run.PlainData.Folder, "--json");
        CliAssert.Succeeded(plain);
        Assert.Equal(r.Stdout, plain.Stdout);

        // the text form reports the same test loss
        var text = VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.Checkpoint, "--data", run.Data.Folder);
        CliAssert.Succeeded(text);
        var line = text.StdoutLines.Single(l => l.TrimStart().StartsWith("test_loss ", StringComparison.Ordinal));
        double printed = double.Parse(line.TrimStart().Split(' ')[1], CultureInfo.InvariantCulture);
        Assert.True(Math.Abs(printed - loss) <= 0.0005 + 1e-9, $"text form {line} vs JSON {loss}");
    }

    [Fact]
    public void EvalOnImagesOfAnotherSizeIsRefused()
    {
        var r = VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.Checkpoint, "--data", run.WideData.Folder);
        CliAssert.InputError(r, "8x10 = 80 pixels", "takes 64");
    }

    [Fact]
    public void TruncatedCheckpointIsRefused()
    {
        string path = run.File("truncated-" + Guid.NewGuid().ToString("N") + ".safetensors");
        byte[] whole = File.ReadAllBytes(run.Checkpoint);
        File.WriteAllBytes(path, whole[..(whole.Length / 2)]);
        var r = VaeProcess.Run(run.Folder, "eval", "--checkpoint", path, "--data", run.Data.Folder);
        CliAssert.InputError(r, path, "truncated");
    }

    [Fact]
    public void PictureFileIsNotACheckpoint()
    {
        string picture = Path.Combine(run.Run, "samples.png");
        var r = VaeProcess.Run(run.Folder, "eval", "--checkpoint", picture, "--data", run.Data.Folder);
        CliAssert.InputError(r, picture);
    }

    [Fact]
    public void SampleWritesAGridOfTheRequestedShape()
    {
        string output = run.File("samples-" + Guid.NewGuid().ToString("N") + ".png");
        var r = VaeProcess.Run(run.Folder, "sample", "--checkpoint", run.Checkpoint, "--count", "10", "--columns", "5", "--out", output);
        CliAssert.Succeeded(r);
        Assert.Contains(output, r.Stdout, StringComparison.Ordinal);
        AssertPngSize(output, GridSize(5, 8), GridSize(2, 8));
    }

    [Fact]
    public void ReconstructWritesInputsAboveOutputs()
    {
        string output = run.File("reconstructions-" + Guid.NewGuid().ToString("N") + ".png");
        var r = VaeProcess.Run(run.Folder, "reconstruct", "--checkpoint", run.Checkpoint, "--data", run.Data.Folder,
            "--first", "60", "--count", "4", "--columns", "4", "--out", output);
        CliAssert.Succeeded(r);
        var png = ReadPng(output);
        Assert.Equal((GridSize(4, 8), GridSize(2, 8)), (png.Width, png.Height));
        // the top row holds test images 60..63 as they are (drawn 2x, grey levels rounded from byte / 255)
        var images = ReadTestImages(run.PlainData);
        for (int tile = 0; tile < 4; tile++)
            for (int y = 0; y < 8; y++)
                for (int x = 0; x < 8; x++)
                {
                    int px = 2 + tile * 18 + 2 * x, py = 2 + 2 * y;
                    Assert.Equal(images[((60 + tile) * 8 + y) * 8 + x], png.Samples[py * png.Width + px]);
                }

        var outside = VaeProcess.Run(run.Folder, "reconstruct", "--checkpoint", run.Checkpoint, "--data", run.Data.Folder,
            "--first", "62", "--count", "4", "--out", output + ".2.png");
        CliAssert.UsageError(outside, "62..65", "64 images");
        Assert.False(File.Exists(output + ".2.png"));
    }

    /// <summary>The test images' bytes of a plain IDX set (after the 16-byte header).</summary>
    static byte[] ReadTestImages(TinyIdxDataset data) => File.ReadAllBytes(data.TestImagesPath)[16..];

    [Fact]
    public void InterpolateWritesOneStripAndRefusesImagesOutsideTheTestSet()
    {
        string output = run.File("interpolation-" + Guid.NewGuid().ToString("N") + ".png");
        var r = VaeProcess.Run(run.Folder, "interpolate", "--checkpoint", run.Checkpoint, "--data", run.Data.Folder,
            "--from", "0", "--to", "3", "--steps", "6", "--out", output);
        CliAssert.Succeeded(r);
        AssertPngSize(output, GridSize(6, 8), GridSize(1, 8));

        string outsidePng = output + ".2.png";
        var outside = VaeProcess.Run(run.Folder, "interpolate", "--checkpoint", run.Checkpoint, "--data", run.Data.Folder,
            "--from", "64", "--to", "3", "--out", outsidePng);
        CliAssert.UsageError(outside, "64", "outside", "64 images");
        Assert.False(File.Exists(outsidePng));
    }

    [Fact]
    public void NonSquareImagesTrainButCannotBeSampledWithoutAShape()
    {
        string output = run.File("wide-" + Guid.NewGuid().ToString("N"));
        var train = VaeProcess.Run(run.Folder, [.. TrainedRunFixture.TrainArgs(run.WideData.Folder, 1, output)]);
        Assert.True(train.ExitCode == 0, train.ToString());
        // training knows the test images' shape, so its pictures keep 8 x 10 tiles
        AssertPngSize(Path.Combine(output, "samples.png"), 8 * 22 + 2, GridSize(8, 8));
        AssertPngSize(Path.Combine(output, "reconstructions.png"), 8 * 22 + 2, GridSize(4, 8));   // 16 inputs over 16 outputs

        string samples = output + ".png";
        var r = VaeProcess.Run(run.Folder, "sample", "--checkpoint", Path.Combine(output, "vae.safetensors"), "--out", samples);
        CliAssert.UsageError(r, "80 outputs are not a square image");
        Assert.False(File.Exists(samples));
    }
}

/// <summary>`vae train --kl-warmup/--kl-cycle`: the schedule in steps lands in the checkpoint; bad combinations are usage errors.</summary>
public sealed class CliKlScheduleTests(TrainedRunFixture run) : IClassFixture<TrainedRunFixture>
{
    [Fact]
    public void KlWarmupInEpochsIsRecordedInStepsInTheCheckpoint()
    {
        string output = run.File("warm-" + Guid.NewGuid().ToString("N"));
        var r = VaeProcess.Run(run.Folder, [.. TrainedRunFixture.TrainArgs(run.Data.Folder, 1, output), "--kl-warmup", "0.5"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("KL weight schedule: linear warm-up over 4 steps", r.Stdout, StringComparison.Ordinal); // 8 steps per epoch
        var options = Vae.Checkpoints.Checkpoint.Read(Path.Combine(output, "vae.safetensors")).Options!;
        Assert.Equal(Vae.Training.KlSchedule.Linear(4), options.KlSchedule);
    }

    [Theory]
    [InlineData("--kl-warmup 2 --kl-cycle 3", "different schedules")]
    [InlineData("--kl-cycle 2 --kl-capacity 5", "different schedules")]
    [InlineData("--kl-capacity-epochs 2", "give --kl-capacity too")]
    [InlineData("--kl-ramp 0.3", "give --kl-cycle too")]
    public void ConflictingScheduleFlagsAreUsageErrors(string flags, string message)
    {
        string output = run.File("bad-" + Guid.NewGuid().ToString("N"));
        var r = VaeProcess.Run(run.Folder, [.. TrainedRunFixture.TrainArgs(run.Data.Folder, 1, output), .. flags.Split(' ')]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.Stderr, StringComparison.Ordinal);
    }
}
