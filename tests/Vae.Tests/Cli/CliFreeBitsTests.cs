// `vae train --free-bits L` end to end on the tiny dataset: the floor is announced, recorded in the checkpoint (with a
// KL warm-up beside it), and a resumed run keeps it; bad values, --kl-capacity beside it and --free-bits with --resume
// are usage errors (exit 2) that write nothing.
using Vae.Checkpoints;
using Vae.Tests.Support;
using Vae.Training;
using Xunit;

namespace Vae.Tests.Cli;

public sealed class CliFreeBitsTests(TrainedRunFixture run) : IClassFixture<TrainedRunFixture>
{
    [Fact]
    public void FreeBitsAreAnnouncedRecordedAndKeptByAResumedRun()
    {
        string output = run.File("free-" + Guid.NewGuid().ToString("N"));
        var r = VaeProcess.Run(run.Folder, [.. TrainedRunFixture.TrainArgs(run.Data.Folder, 1, output), "--free-bits", "0.25", "--kl-warmup", "0.5"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("free bits: a KL floor of 0.25 nats per latent dimension", r.Stdout, StringComparison.Ordinal);
        var options = Checkpoint.Read(Path.Combine(output, "vae.safetensors")).Options!;
        Assert.Equal(0.25f, options.FreeBits);
        Assert.Equal(KlSchedule.Linear(4), options.KlSchedule);   // 8 steps per epoch

        var resumed = VaeProcess.Run(run.Folder, "train", "--data", run.Data.Folder, "--epochs", "2", "--out", output, "--resume");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("free bits: a KL floor of 0.25 nats per latent dimension", resumed.Stdout, StringComparison.Ordinal);
        var after = Checkpoint.Read(Path.Combine(output, "vae.safetensors"));
        Assert.Equal(0.25f, after.Options!.FreeBits);
        Assert.Equal(2, after.State.Epoch);
    }

    [Fact]
    public void TheDefaultRunHasNoFloor() =>
        Assert.Equal(0f, Checkpoint.Read(run.Checkpoint).Options!.FreeBits);

    [Theory]
    [InlineData("--free-bits 0.5 --kl-capacity 5", "--free-bits and --kl-capacity both set a target for the KL")]
    [InlineData("--free-bits -1", "--free-bits must be in")]
    [InlineData("--free-bits many", "--free-bits needs a number")]
    public void BadFreeBitsAreUsageErrors(string flags, string message)
    {
        run.AssertTrainFlagsAreUsageError(flags, message);
    }

    [Fact]
    public void FreeBitsCannotChangeOnResume()
    {
        run.AssertResumeRefuses(run.Run, "--free-bits", "0.5");
    }
}
