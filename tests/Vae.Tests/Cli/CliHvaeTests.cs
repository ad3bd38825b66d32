// `vae train --model hvae` and the commands that read its checkpoint, end to end on a tiny 8x8 dataset: the run writes
// its checkpoint (config "hvae" with the flags' sizes) and pictures; `vae eval --json` reports the per-layer groups
// (z1, z2: KL summing to the total, active units) and, with --nll, the library's importance-sampled estimate; sample
// and reconstruct work; bad input is one clear line: a dataset of another image size, --resume with a shape flag,
// --latent2 on a one-layer model.
using Vae.Checkpoints;
using Vae.Models;
using Vae.Tests.Support;
using Vae.Training;
using Xunit;

namespace Vae.Tests.Cli;

public sealed class HvaeRunFixture() : RunFixture(Settings, "hvae-run")
{
    public static readonly string[] Settings = ["--model", "hvae", "--batch", "32", "--hidden", "16", "--latent", "4", "--hidden2", "8", "--latent2", "2"];
}

public sealed class CliHvaeTests(HvaeRunFixture run) : IClassFixture<HvaeRunFixture>
{
    [Fact]
    public void Train_writes_an_hvae_checkpoint_and_pictures()
    {
        Assert.Contains("training hvae 64-16-z4-8-z2 bce beta=1", run.Training.Stdout, StringComparison.Ordinal);
        run.AssertRunWroteItsFiles();
        var checkpoint = Checkpoint.Read(run.Checkpoint);
        Assert.Equal(new HvaeConfig(64, [16], 4, [8], 2), checkpoint.Config);
        Assert.Equal(2, checkpoint.State.Epoch);
        Assert.Equal(2L * 8, checkpoint.State.Step);
        Assert.Equal(2UL * 256 * 6, checkpoint.State.RngOffset);
        Assert.True(checkpoint.HasOptimizerState);
    }

    [Fact]
    public void Eval_json_reports_both_layers_and_the_library_nll()
    {
        var o = CliAssert.Json(VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.Checkpoint, "--data", run.Data.Folder, "--nll", "20", "--json"));
        Assert.Equal("hvae", o.GetProperty("model").GetString());
        var groups = o.GetProperty("groups").EnumerateArray().ToArray();
        Assert.Equal(["z1", "z2"], groups.Select(g => g.GetProperty("name").GetString()));
        Assert.Equal([4, 2], groups.Select(g => g.GetProperty("width").GetInt32()));
        double kl = o.GetProperty("kl").GetDouble();
        Assert.Equal(kl, groups.Sum(g => g.GetProperty("kl").GetDouble()), 4);
        Assert.Equal(o.GetProperty("active_units").GetInt32(), groups.Sum(g => g.GetProperty("active_units").GetInt32()));
        Assert.True(groups[0].GetProperty("kl").GetDouble() > 0, o.ToString());
        double nll = o.GetProperty("nll").GetDouble(), loss = o.GetProperty("test_loss").GetDouble();
        Assert.Equal(20, o.GetProperty("nll_k").GetInt32());
        Assert.True(double.IsFinite(nll) && nll > 0 && nll < o.GetProperty("neg_elbo_k").GetDouble() && nll < loss, o.ToString());

        // The same numbers in process: same checkpoint and test set, default seeds and batch (500).
        using var loaded = new CheckpointInProcess(run.Checkpoint, run.Data.Folder);
        var (model, data) = ((HvaeModel)loaded.Model, loaded.Test);
        var evaluation = Evaluation.Run(model, data, null);
        Assert.Equal(evaluation.Loss, loss, 9);
        Assert.Equal(evaluation.Groups[1].Kl, groups[1].GetProperty("kl").GetDouble(), 9);
        using var weights = model.CreateImportanceWeights();
        Assert.Equal(ImportanceSampling.Run(weights, data, 20).Nll, nll, 9);

        var text = VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.Checkpoint, "--data", run.Data.Folder);
        CliAssert.Succeeded(text);
        Assert.Contains(text.StdoutLines, l => l.TrimStart().StartsWith("z1: kl ", StringComparison.Ordinal));
        Assert.Contains(text.StdoutLines, l => l.TrimStart().StartsWith("z2: kl ", StringComparison.Ordinal) && l.Contains("/2", StringComparison.Ordinal));
    }

    [Fact]
    public void Sample_and_reconstruct_read_the_checkpoint()
    {
        string samples = run.File("hvae-samples.png"), reconstructions = run.File("hvae-reconstructions.png");
        CliAssert.Succeeded(VaeProcess.Run(run.Folder, "sample", "--checkpoint", run.Checkpoint, "--count", "16", "--out", samples));
        CliAssert.Succeeded(VaeProcess.Run(run.Folder, "reconstruct", "--checkpoint", run.Checkpoint, "--data", run.Data.Folder, "--count", "8", "--out", reconstructions));
        Assert.True(PngDecoder.Decode(File.ReadAllBytes(samples)).Width > 0);
        Assert.True(PngDecoder.Decode(File.ReadAllBytes(reconstructions)).Width > 0);
    }

    [Fact]
    public void A_dataset_of_another_image_size_is_a_clear_input_error()
    {
        var r = VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.Checkpoint, "--data", run.WideData.Folder, "--nll", "5");
        CliAssert.InputError(r, "80 pixels", "64");
    }

    [Fact]
    public void Resume_keeps_the_shape_and_one_layer_models_have_no_second_layer()
    {
        var resumed = VaeProcess.Run(run.Folder, "train", "--data", run.Data.Folder, "--epochs", "3", "--out", run.Run, "--resume", "--latent2", "3");
        CliAssert.UsageError(resumed, "--latent2", "--resume");
        var vae = VaeProcess.Run(run.Folder, "train", "--data", run.Data.Folder, "--epochs", "1", "--latent2", "3", "--out", run.File("vae-run"));
        CliAssert.UsageError(vae, "--latent2");
        var zero = VaeProcess.Run(run.Folder, "train", "--model", "hvae", "--data", run.Data.Folder, "--epochs", "1", "--latent2", "0", "--out", run.File("zero-run"));
        CliAssert.UsageError(zero, "--latent2");
    }
}
