// What the CLI tests' class fixtures share: a scratch folder with a tiny 8x8 IDX dataset (256 training and 64 test
// images) and an 8x10 one, one 2-epoch `vae train` run on the first with the fixture's model settings, and the checks
// of training flags every model's tests make (a bad flag is a usage error that writes nothing; a flag that would change
// a trained run cannot come with --resume).
using System.Globalization;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Cli;

public abstract class RunFixture : IDisposable
{
    readonly ScratchDirectory scratch = new();
    readonly string[] settings;

    /// <param name="settings">The flags of every run here apart from --data, --epochs and --out.</param>
    /// <param name="runName">The folder of the fixture's run inside the scratch folder.</param>
    /// <param name="gzip">Whether the dataset's files are gzip-compressed.</param>
    protected RunFixture(string[] settings, string runName, bool gzip = false)
    {
        this.settings = settings;
        Data = TinyIdxDataset.Write(scratch.File(gzip ? "data-gz" : "data"), 256, 64, 8, 8, gzip, seed: 5);
        WideData = TinyIdxDataset.Write(scratch.File("data-8x10"), 64, 16, 8, 10, gzip: false, seed: 6);
        Run = scratch.File(runName);
        Training = VaeProcess.Run(Folder, [.. TrainArgs(2, Run)]);
        Assert.True(Training.ExitCode == 0, Training.ToString());
    }

    /// <summary>The files a training run writes into its output folder.</summary>
    public static readonly string[] OutputFiles = ["vae.safetensors", "samples.png", "reconstructions.png", "interpolations.png", "loss.svg", "history.csv"];

    public string Folder => scratch.Path;
    public TinyIdxDataset Data { get; }
    /// <summary>8x10 images: a dataset of another image size.</summary>
    public TinyIdxDataset WideData { get; }
    /// <summary>The output folder of `vae train --epochs 2` on <see cref="Data"/>.</summary>
    public string Run { get; }
    public string Checkpoint => Path.Combine(Run, "vae.safetensors");
    public VaeRunResult Training { get; }

    public string File(string name) => scratch.File(name);

    /// <summary>The fixture's run wrote every one of <see cref="OutputFiles"/>.</summary>
    public void AssertRunWroteItsFiles()
    {
        foreach (string name in OutputFiles)
            Assert.True(System.IO.File.Exists(Path.Combine(Run, name)), $"{name} was not written:\n{Training}");
    }

    /// <summary>`vae train` on <see cref="Data"/> with the fixture's settings for <paramref name="epochs"/> epochs into <paramref name="output"/>.</summary>
    public string[] TrainArgs(int epochs, string output) =>
        ["train", "--data", Data.Folder, "--epochs", epochs.ToString(CultureInfo.InvariantCulture), .. settings, "--out", output];

    /// <summary>A one-epoch run with <paramref name="flags"/> (space-separated) added is a usage error naming <paramref name="message"/> and writes nothing.</summary>
    public void AssertTrainFlagsAreUsageError(string flags, string message)
    {
        string output = File("bad-" + Guid.NewGuid().ToString("N"));
        CliAssert.UsageError(VaeProcess.Run(Folder, [.. TrainArgs(1, output), .. flags.Split(' ')]), message);
        Assert.False(Directory.Exists(output));
    }

    /// <summary>Resuming the run in <paramref name="output"/> to 3 epochs with <paramref name="flag"/> <paramref name="value"/> is a usage error, and its checkpoint stays as it was.</summary>
    public void AssertResumeRefuses(string output, string flag, string value)
    {
        string checkpoint = Path.Combine(output, "vae.safetensors");
        byte[] before = System.IO.File.ReadAllBytes(checkpoint);
        CliAssert.UsageError(VaeProcess.Run(Folder, "train", "--data", Data.Folder, "--epochs", "3", "--out", output, "--resume", flag, value),
            flag + " cannot be combined with --resume");
        Assert.Equal(before, System.IO.File.ReadAllBytes(checkpoint));
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing) scratch.Dispose();
    }
}
