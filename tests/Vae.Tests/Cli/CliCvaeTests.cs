// The conditional VAE end to end through the real `vae` tool: `train --model cvae` on a tiny labelled IDX set writes
// a cvae checkpoint and a class-per-row sample grid; `sample --label K` draws exactly what the library draws for class
// K and, without --label, one row per class; `eval --json` adds the class consistency (equal to the library's) and the
// importance-sampled -log p(x | y); reconstruct and interpolate take the test labels. Errors: a label outside the
// classes or --count without --label (usage, exit 2), --label on an unconditional checkpoint, a dataset with more
// classes than the model (bad input, exit 1), and resuming a run with another --model (usage).
using System.Buffers.Binary;
using Vae.Analysis;
using Vae.Checkpoints;
using Vae.Cpu;
using Vae.Data;
using Vae.Imaging;
using Vae.Models;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Cli;

public sealed class CvaeRunFixture : IDisposable
{
    public const int Side = 8;
    public static readonly string[] Settings = ["--batch", "32", "--hidden", "16", "--latent", "3"];
    readonly ScratchDirectory scratch = new();

    public CvaeRunFixture()
    {
        Data = TinyIdxDataset.Write(scratch.File("data"), 256, 64, Side, Side, gzip: false, seed: 7);
        ThreeClassData = WithLabelsBelow3(TinyIdxDataset.Write(scratch.File("data3"), 128, 32, Side, Side, gzip: false, seed: 8));
        Run = scratch.File("cvae");
        Training = VaeProcess.Run(Folder, ["train", "--model", "cvae", "--data", Data.Folder, "--epochs", "3", .. Settings, "--out", Run]);
        Assert.True(Training.ExitCode == 0, Training.ToString());
        PlainRun = scratch.File("vae");
        var plain = VaeProcess.Run(Folder, ["train", "--data", Data.Folder, "--epochs", "1", .. Settings, "--out", PlainRun]);
        Assert.True(plain.ExitCode == 0, plain.ToString());
    }

    public string Folder => scratch.Path;
    public TinyIdxDataset Data { get; }
    /// <summary>A set whose labels are only 0, 1 and 2.</summary>
    public TinyIdxDataset ThreeClassData { get; }
    public string Run { get; }
    public string Checkpoint => Path.Combine(Run, "vae.safetensors");
    public VaeRunResult Training { get; }
    /// <summary>An unconditional VAE trained on the same data.</summary>
    public string PlainRun { get; }
    public string PlainCheckpoint => Path.Combine(PlainRun, "vae.safetensors");
    public string File(string name) => scratch.File(name);

    /// <summary>Rewrites both label files with label % 3 (plain IDX: 00 00 08 01, the count big-endian, then the bytes).</summary>
    static TinyIdxDataset WithLabelsBelow3(TinyIdxDataset set)
    {
        foreach (var (path, labels) in new[] { (set.TrainLabelsPath, set.TrainLabels), (set.TestLabelsPath, set.TestLabels) })
        {
            var bytes = new byte[8 + labels.Length];
            bytes[2] = 0x08;
            bytes[3] = 1;
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), labels.Length);
            for (int i = 0; i < labels.Length; i++) bytes[8 + i] = (byte)(labels[i] % 3);
            System.IO.File.WriteAllBytes(path, bytes);
        }
        return set;
    }

    public void Dispose() => scratch.Dispose();
}

public sealed class CliCvaeTests(CvaeRunFixture run) : IClassFixture<CvaeRunFixture>
{
    const int Classes = TinyIdxDataset.Classes;

    static int GridSize(int tiles, int side) => tiles * (2 * side + 2) + 2;

    static DecodedPng ReadPng(string path)
    {
        Assert.True(File.Exists(path), $"{path} was not written");
        return PngDecoder.Decode(File.ReadAllBytes(path));
    }

    [Fact]
    public void Train_writes_a_cvae_checkpoint_and_one_sample_row_per_class()
    {
        Assert.Contains("training cvae 64-16-3 (4 classes) bce beta=1", run.Training.Stdout, StringComparison.Ordinal);
        var checkpoint = Checkpoint.Read(run.Checkpoint);
        Assert.Equal(new CvaeConfig(64, [16], 3, Classes), checkpoint.Config);
        Assert.Equal(3, checkpoint.State.Epoch);
        var samples = ReadPng(Path.Combine(run.Run, "samples.png"));
        Assert.Equal((GridSize(10, CvaeRunFixture.Side), GridSize(Classes, CvaeRunFixture.Side)), (samples.Width, samples.Height));
        foreach (var name in new[] { "reconstructions.png", "interpolations.png", "loss.svg", "history.csv" })
            Assert.True(File.Exists(Path.Combine(run.Run, name)), name);
    }

    [Fact]
    public void Sample_with_a_label_draws_what_the_library_draws_for_that_class()
    {
        string output = run.File("label2.png"), expected = run.File("label2-expected.png"), other = run.File("label0.png");
        CliAssert.Succeeded(VaeProcess.Run(run.Folder, "sample", "--checkpoint", run.Checkpoint, "--label", "2", "--count", "6", "--columns", "3", "--out", output));
        CliAssert.Succeeded(VaeProcess.Run(run.Folder, "sample", "--checkpoint", run.Checkpoint, "--label", "0", "--count", "6", "--columns", "3", "--out", other));

        var checkpoint = Checkpoint.Read(run.Checkpoint);
        using var backend = new CpuBackend();
        using var model = checkpoint.Config.Create(backend, 6);
        checkpoint.LoadInto(model, withOptimizerState: false);
        ImageGrid.WriteGrid(expected, model.Sample(6, 1, [2, 2, 2, 2, 2, 2]), 6, 8, 8, 3, padding: 2, scale: 2);
        var got = ReadPng(output);
        Assert.Equal((GridSize(3, 8), GridSize(2, 8)), (got.Width, got.Height));
        Assert.Equal(ReadPng(expected).Samples, got.Samples);
        Assert.NotEqual(got.Samples, ReadPng(other).Samples);

        // Without --label: one row of --columns samples per class.
        string grid = run.File("grid.png");
        CliAssert.Succeeded(VaeProcess.Run(run.Folder, "sample", "--checkpoint", run.Checkpoint, "--columns", "5", "--out", grid));
        var all = ReadPng(grid);
        Assert.Equal((GridSize(5, 8), GridSize(Classes, 8)), (all.Width, all.Height));
    }

    [Fact]
    public void Eval_json_reports_class_consistency_and_the_conditional_likelihood()
    {
        var o = CliAssert.Json(VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.Checkpoint, "--data", run.Data.Folder, "--nll", "20", "--json"));
        Assert.Equal("cvae", o.GetProperty("model").GetString());
        double samples = o.GetProperty("class_consistency_samples").GetDouble(), real = o.GetProperty("class_consistency_real").GetDouble();
        Assert.Equal(100, o.GetProperty("class_consistency_samples_per_class").GetInt32());
        Assert.InRange(samples, 0, 1);
        Assert.InRange(real, 0, 1);
        Assert.True(o.GetProperty("nll").GetDouble() < o.GetProperty("test_loss").GetDouble(), o.ToString());

        // The library's measurement of the same checkpoint and test set.
        var checkpoint = Checkpoint.Read(run.Checkpoint);
        using var backend = new CpuBackend();
        using var model = checkpoint.Config.Create(backend, 500);
        checkpoint.LoadInto(model, withOptimizerState: false);
        var expected = ClassConsistency.Measure(model, ImageDatasets.Load(run.Data.Folder, train: false), 100, 1);
        Assert.Equal(expected.Samples, samples);
        Assert.Equal(expected.Real, real);
        Assert.Equal(1.0, real);   // the tiny set's four shapes are far apart

        var text = VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.Checkpoint, "--data", run.Data.Folder);
        CliAssert.Succeeded(text);
        Assert.Contains(text.StdoutLines, l => l.TrimStart().StartsWith("class consistency (nearest class mean): samples ", StringComparison.Ordinal));
        // An unconditional checkpoint has no such fields.
        Assert.False(CliAssert.Json(VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.PlainCheckpoint, "--data", run.Data.Folder, "--json")).TryGetProperty("class_consistency_samples", out _));
    }

    [Fact]
    public void Reconstruct_and_interpolate_use_the_test_labels()
    {
        string reconstructions = run.File("r.png"), interpolation = run.File("i.png");
        CliAssert.Succeeded(VaeProcess.Run(run.Folder, "reconstruct", "--checkpoint", run.Checkpoint, "--data", run.Data.Folder, "--count", "8", "--out", reconstructions));
        CliAssert.Succeeded(VaeProcess.Run(run.Folder, "interpolate", "--checkpoint", run.Checkpoint, "--data", run.Data.Folder, "--from", "0", "--to", "1", "--steps", "5", "--out", interpolation));
        Assert.Equal((GridSize(8, 8), GridSize(2, 8)), (ReadPng(reconstructions).Width, ReadPng(reconstructions).Height));
        Assert.Equal((GridSize(5, 8), GridSize(1, 8)), (ReadPng(interpolation).Width, ReadPng(interpolation).Height));
    }

    [Theory]
    [InlineData("4", "--label 4: the checkpoint's model has 4 classes, so the label must be in [0, 3]")]
    [InlineData("-1", "--label must be in [0, ")]
    public void A_label_outside_the_classes_is_a_usage_error(string label, string message)
    {
        CliAssert.UsageError(VaeProcess.Run(run.Folder, "sample", "--checkpoint", run.Checkpoint, "--label", label, "--out", run.File("x.png")), message);
        Assert.False(File.Exists(run.File("x.png")));
    }

    [Fact]
    public void Count_without_a_label_on_a_conditional_checkpoint_is_a_usage_error()
    {
        CliAssert.UsageError(VaeProcess.Run(run.Folder, "sample", "--checkpoint", run.Checkpoint, "--count", "5", "--out", run.File("y.png")), "--count", "--label K");
    }

    [Fact]
    public void A_label_on_an_unconditional_checkpoint_is_bad_input()
    {
        CliAssert.InputError(VaeProcess.Run(run.Folder, "sample", "--checkpoint", run.PlainCheckpoint, "--label", "1", "--out", run.File("z.png")),
            run.PlainCheckpoint, "unconditional 'vae' model", "train --model cvae");
    }

    [Fact]
    public void A_dataset_with_more_classes_than_the_model_is_bad_input()
    {
        string small = run.File("cvae3-" + Guid.NewGuid().ToString("N"));
        var trained = VaeProcess.Run(run.Folder, ["train", "--model", "cvae", "--data", run.ThreeClassData.Folder, "--epochs", "1", .. CvaeRunFixture.Settings, "--out", small]);
        CliAssert.Succeeded(trained);
        string checkpoint = Path.Combine(small, "vae.safetensors");
        Assert.Equal(3, ((CvaeConfig)Checkpoint.Read(checkpoint).Config).Classes);

        CliAssert.InputError(VaeProcess.Run(run.Folder, "eval", "--checkpoint", checkpoint, "--data", run.Data.Folder),
            "labels go up to 3 but the model is conditioned on 3 classes");
        CliAssert.InputError(VaeProcess.Run(run.Folder, "reconstruct", "--checkpoint", checkpoint, "--data", run.Data.Folder, "--out", run.File("r3.png")),
            "labels go up to 3");
        // Resuming on the wider data: its training labels do not fit either.
        var before = File.ReadAllBytes(checkpoint);
        CliAssert.InputError(VaeProcess.Run(run.Folder, "train", "--data", run.Data.Folder, "--epochs", "2", "--out", small, "--resume"), "3 classes");
        Assert.Equal(before, File.ReadAllBytes(checkpoint));
    }

    [Fact]
    public void Resuming_a_cvae_run_as_another_model_is_a_usage_error()
    {
        var before = File.ReadAllBytes(run.Checkpoint);
        CliAssert.UsageError(VaeProcess.Run(run.Folder, "train", "--model", "vae", "--data", run.Data.Folder, "--epochs", "4", "--out", run.Run, "--resume"),
            "--model vae", "holds a 'cvae' model");
        Assert.Equal(before, File.ReadAllBytes(run.Checkpoint));
    }
}
