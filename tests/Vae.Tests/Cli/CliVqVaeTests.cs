// `vae train --model vqvae` end to end on the tiny dataset: the run trains and writes its checkpoint and pictures;
// `vae eval --json` reports the code statistics (perplexity, codes used, restarts, quantization error, both bounds),
// equal to the library's on the same checkpoint; `vae sample` draws from the fitted prior (same seed, same picture);
// a run resumes; --no-ema trains without EMA statistics; bad flags are usage errors that write nothing, and a dataset
// of another image size or --nll on a vqvae checkpoint is a clear input error.
using System.Globalization;
using Vae.Checkpoints;
using Vae.Models;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Cli;

public sealed class VqVaeRunFixture() : RunFixture(Settings, "vq")
{
    /// <summary>The model flags of every run here (8x8 images: 64-16-4x3/16).</summary>
    public static readonly string[] Settings = ["--model", "vqvae", "--batch", "32", "--hidden", "16", "--positions", "4", "--code-dim", "3", "--codes", "16"];
}

public sealed class CliVqVaeTests(VqVaeRunFixture run) : IClassFixture<VqVaeRunFixture>
{
    [Fact]
    public void Training_writes_a_vqvae_checkpoint_and_pictures()
    {
        Assert.Contains("training vqvae 64-16-4x3/16 bce commitment=0.25 ema=0.99 restart=0.01", run.Training.Stdout, StringComparison.Ordinal);
        run.AssertRunWroteItsFiles();
        var checkpoint = Checkpoint.Read(run.Checkpoint);
        Assert.Equal(new VqVaeConfig(64, [16], 4, 3, 16), checkpoint.Config);
        Assert.Equal(2, checkpoint.State.Epoch);
        var names = checkpoint.File.Tensors.Select(t => t.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "codebook.weight", "codebook.cluster_size", "codebook.embed_sum", "codebook.restarts", "prior.log_probs" }, names);
    }

    [Fact]
    public void Eval_reports_the_code_statistics_of_the_library()
    {
        var o = CliAssert.Json(VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.Checkpoint, "--data", run.Data.Folder, "--json"));
        Assert.Equal("vqvae", o.GetProperty("model").GetString());
        double loss = o.GetProperty("test_loss").GetDouble(), recon = o.GetProperty("recon").GetDouble();
        double perplexity = o.GetProperty("perplexity").GetDouble(), priorNats = o.GetProperty("prior_nats").GetDouble();
        int used = o.GetProperty("codes_used").GetInt32();
        Assert.Equal(16, o.GetProperty("codes").GetInt32());
        Assert.InRange(used, 1, 16);
        Assert.InRange(perplexity, 1, used);
        Assert.Equal(4 * Math.Log(16), o.GetProperty("kl").GetDouble(), 1e-5);
        Assert.Equal(loss, o.GetProperty("nll_bound_uniform").GetDouble(), 1e-5);
        Assert.Equal(recon + priorNats, o.GetProperty("nll_bound_prior").GetDouble(), 1e-9);
        Assert.True(o.GetProperty("restarts").GetInt64() >= 0);
        Assert.True(o.GetProperty("quantization_error").GetDouble() >= 0);

        // The same numbers in process.
        using var loaded = new CheckpointInProcess(run.Checkpoint, run.Data.Folder);
        var stats = ((VqVaeModel)loaded.Model).Statistics(loaded.Test);
        Assert.Equal(stats.Perplexity, perplexity, 9);
        Assert.Equal(stats.CodesUsed, used);
        Assert.Equal(stats.PriorBound, o.GetProperty("nll_bound_prior").GetDouble(), 9);
        Assert.Equal(stats.Restarts, o.GetProperty("restarts").GetInt64());

        var text = VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.Checkpoint, "--data", run.Data.Folder);
        CliAssert.Succeeded(text);
        var line = text.StdoutLines.Single(l => l.TrimStart().StartsWith("codes: perplexity", StringComparison.Ordinal));
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"{used}/16 used"), line, StringComparison.Ordinal);
    }

    [Fact]
    public void Sample_draws_from_the_fitted_prior_reproducibly()
    {
        string a = run.File("a-" + Guid.NewGuid().ToString("N") + ".png"), b = run.File("b-" + Guid.NewGuid().ToString("N") + ".png");
        CliAssert.Succeeded(VaeProcess.Run(run.Folder, "sample", "--checkpoint", run.Checkpoint, "--count", "12", "--columns", "4", "--seed", "3", "--out", a));
        CliAssert.Succeeded(VaeProcess.Run(run.Folder, "sample", "--checkpoint", run.Checkpoint, "--count", "12", "--columns", "4", "--seed", "3", "--out", b));
        var png = PngDecoder.Decode(File.ReadAllBytes(a));
        Assert.Equal(4 * (2 * 8 + 2) + 2, png.Width);
        Assert.Equal(3 * (2 * 8 + 2) + 2, png.Height);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
    }

    [Fact]
    public void A_run_resumes_and_keeps_its_model_flags()
    {
        string output = run.File("resume-" + Guid.NewGuid().ToString("N"));
        CliAssert.Succeeded(VaeProcess.Run(run.Folder, run.TrainArgs(1, output)));
        var resumed = VaeProcess.Run(run.Folder, "train", "--data", run.Data.Folder, "--epochs", "2", "--out", output, "--resume");
        CliAssert.Succeeded(resumed);
        Assert.Equal(2, Checkpoint.Read(Path.Combine(output, "vae.safetensors")).State.Epoch);
        run.AssertResumeRefuses(output, "--codes", "8");
    }

    [Fact]
    public void No_ema_trains_the_codebook_by_its_loss()
    {
        string output = run.File("noema-" + Guid.NewGuid().ToString("N"));
        var r = VaeProcess.Run(run.Folder, [.. run.TrainArgs(1, output), "--no-ema", "--commitment", "0.5", "--restart-threshold", "0"]);
        CliAssert.Succeeded(r);
        var checkpoint = Checkpoint.Read(Path.Combine(output, "vae.safetensors"));
        Assert.Equal(new VqVaeConfig(64, [16], 4, 3, 16, commitment: 0.5f, ema: false, restartThreshold: 0f), checkpoint.Config);
        Assert.DoesNotContain(checkpoint.File.Tensors, t => t.Name == "codebook.cluster_size");
        var o = CliAssert.Json(VaeProcess.Run(run.Folder, "eval", "--checkpoint", Path.Combine(output, "vae.safetensors"), "--data", run.Data.Folder, "--json"));
        Assert.Equal(0, o.GetProperty("restarts").GetInt64());
    }

    [Theory]
    [InlineData("--codes 0", "--codes must be in [1, 65536] (got 0)")]
    [InlineData("--positions x", "--positions needs an integer value")]
    [InlineData("--ema --no-ema", "--ema and --no-ema contradict each other")]
    [InlineData("--no-ema --ema-decay 0.9", "--ema-decay sets the EMA codebook updates")]
    [InlineData("--ema-decay 1", "--ema-decay must be in [0, 0.9999]")]
    [InlineData("--commitment -1", "--commitment must be in")]
    [InlineData("--weight-decay 0.01", "--weight-decay cannot train a vqvae")]
    [InlineData("--latent 4", "Unknown option --latent")]
    public void Bad_model_flags_are_usage_errors_that_write_nothing(string flags, string message)
    {
        run.AssertTrainFlagsAreUsageError(flags, message);
    }

    [Fact]
    public void A_dataset_of_another_size_and_the_iwae_bound_are_input_errors()
    {
        CliAssert.InputError(VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.Checkpoint, "--data", run.WideData.Folder), "80 pixels", "64");
        CliAssert.InputError(VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.Checkpoint, "--data", run.Data.Folder, "--nll", "5"),
            "not defined for a 'vqvae' model");
    }
}
