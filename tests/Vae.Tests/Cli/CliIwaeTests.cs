// `vae train --iwae K` end to end on the tiny dataset: the objective is announced, every epoch prints the IWAE-K bound
// on the training batches and the test set (the test bound is what `vae eval --nll K` estimates for the checkpoint),
// K is recorded in the checkpoint and kept by a resumed run; --iwae beside --free-bits or --kl-capacity, out of range,
// or with --resume is a usage error (exit 2) that writes nothing; the default run records no K.
using System.Globalization;
using System.Text.Json;
using Vae.Checkpoints;
using Vae.Models;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Cli;

public sealed class CliIwaeTests(TrainedRunFixture run) : IClassFixture<TrainedRunFixture>
{
    static double[] BoundLine(string line)
    {
        // "epoch   1  iwae-3 bound  train 123.45  test 120.00 nats/image"
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return [double.Parse(words[Array.IndexOf(words, "train") + 1], CultureInfo.InvariantCulture),
                double.Parse(words[Array.IndexOf(words, "test") + 1], CultureInfo.InvariantCulture)];
    }

    [Fact]
    public void An_iwae_run_reports_its_bound_records_k_and_resumes()
    {
        string output = run.File("iwae-" + Guid.NewGuid().ToString("N"));
        var r = VaeProcess.Run(run.Folder, [.. TrainedRunFixture.TrainArgs(run.Data.Folder, 1, output), "--iwae", "3"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("objective: the IWAE bound with K = 3 importance samples per image", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("iwae=3", r.StdoutLines[0], StringComparison.Ordinal);
        var boundLines = r.StdoutLines.Where(l => l.Contains("iwae-3 bound", StringComparison.Ordinal)).ToArray();
        Assert.Single(boundLines);
        var (train, test) = (BoundLine(boundLines[0])[0], BoundLine(boundLines[0])[1]);
        Assert.True(train > 0 && test > 0, boundLines[0]);
        Assert.Contains(r.StdoutLines, l => l.StartsWith("test: IWAE bound (K = 3)", StringComparison.Ordinal));

        string checkpointPath = Path.Combine(output, "vae.safetensors");
        var checkpoint = Checkpoint.Read(checkpointPath);
        Assert.Equal(3, ((VaeConfig)checkpoint.Config).ImportanceSamples);
        Assert.Contains("\"iwae\":3", SafeTensorsFile.Read(checkpointPath).Metadata["config"], StringComparison.Ordinal);

        // The epoch's test bound is the checkpoint's importance-sampled estimate with K = 3 (printed to 2 decimals).
        var eval = VaeProcess.Run(run.Folder, "eval", "--checkpoint", checkpointPath, "--data", run.Data.Folder, "--nll", "3", "--json");
        CliAssert.Succeeded(eval);
        using (var doc = JsonDocument.Parse(eval.Stdout))
        {
            double nll = doc.RootElement.GetProperty("nll").GetDouble();
            Assert.True(Math.Abs(nll - test) <= 0.005 + 1e-9, $"epoch line's test bound {test} vs vae eval --nll 3: {nll}");
            Assert.True(doc.RootElement.GetProperty("neg_elbo_k").GetDouble() > nll);
        }

        var resumed = VaeProcess.Run(run.Folder, "train", "--data", run.Data.Folder, "--epochs", "2", "--out", output, "--resume");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("objective: the IWAE bound with K = 3", resumed.Stdout, StringComparison.Ordinal);
        Assert.Contains(resumed.StdoutLines, l => l.StartsWith("epoch   2  iwae-3 bound", StringComparison.Ordinal));
        var after = Checkpoint.Read(checkpointPath);
        Assert.Equal(2, after.State.Epoch);
        Assert.Equal(3, ((VaeConfig)after.Config).ImportanceSamples);
    }

    [Fact]
    public void The_default_run_trains_the_elbo() =>
        Assert.Equal(1, ((VaeConfig)Checkpoint.Read(run.Checkpoint).Config).ImportanceSamples);

    [Theory]
    [InlineData("--iwae 3 --free-bits 0.5", "--free-bits floors each latent dimension's batch-mean KL, a term the IWAE objective (--iwae) does not have")]
    [InlineData("--iwae 3 --kl-capacity 5", "--kl-capacity trains beta |KL - C| on the batch-mean KL, a term the IWAE objective (--iwae) does not have")]
    [InlineData("--iwae 0", "--iwae must be in [1, 64]")]
    [InlineData("--iwae 65", "--iwae must be in [1, 64]")]
    [InlineData("--iwae many", "--iwae needs an integer value")]
    public void Bad_iwae_settings_are_usage_errors(string flags, string message)
    {
        run.AssertTrainFlagsAreUsageError(flags, message);
    }

    [Fact]
    public void K_cannot_change_on_resume()
    {
        run.AssertResumeRefuses(run.Run, "--iwae", "5");
    }
}
