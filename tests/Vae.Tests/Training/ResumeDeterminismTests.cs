// A resumed run continues bit-exactly: 2 epochs in one Trainer must equal 1 epoch, a checkpoint on disk, and 1 more
// epoch in a new backend, model and trainer built only from that checkpoint (parameters, Adam m and v, step, noise
// offset and the history's losses all bit-identical). Also with clipping and weight decay, across CPU thread counts,
// and on the reference backend. Seeds: the same seed twice gives the same run, another seed a different one.
using Vae.Checkpoints;
using Vae.Models;
using Vae.Tests.Support;
using Vae.Training;
using Xunit;

namespace Vae.Tests.Training;

public sealed class ResumeDeterminismTests
{
    static readonly VaeConfig Config = new(64, [24, 16], 6);
    const int TrainImages = 300, TestImages = 70, Batch = 32;   // 300 = 9 * 32 + 12: the last batch is partial

    static readonly float[] TrainData = SyntheticImages.Uniform(seed: 11, TrainImages, Config.Input);
    static readonly float[] TestData = SyntheticImages.Uniform(seed: 12, TestImages, Config.Input);

    static TrainingOptions Options(int epochs, float clip = 0f, AdamSettings? adam = null, ulong seed = 5) => new()
    {
        Epochs = epochs,
        BatchSize = Batch,
        Adam = adam ?? new AdamSettings(2e-3f),
        ClipNorm = clip,
        Seed = seed,
    };

    public static TheoryData<string, string, string> Variants => new()
    {
        { "plain", "cpu-3", "cpu-3" },
        { "plain", "cpu-1", "cpu-3" },          // thread count changes at the resume: results must not depend on it
        { "plain", "reference", "reference" },
        { "clip", "cpu-3", "cpu-3" },
        { "weight-decay", "cpu-3", "cpu-3" },
        { "adamw", "cpu-1", "cpu-1" },
        { "mse", "cpu-3", "cpu-1" },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void Two_epochs_equal_one_epoch_checkpoint_and_one_more(string variant, string firstBackend, string resumeBackend)
    {
        var config = variant == "mse" ? new VaeConfig(64, [24, 16], 6, ReconstructionLoss.Mse, beta: 0.5f) : Config;
        var options = variant switch
        {
            // A clip norm below the typical gradient norm, so clipping really scales the gradients.
            "clip" => Options(2, clip: 0.5f),
            "weight-decay" => Options(2, adam: new AdamSettings(2e-3f, WeightDecay: 0.05f)),
            "adamw" => Options(2, adam: new AdamSettings(2e-3f, WeightDecay: 0.05f, Decoupled: true)),
            _ => Options(2),
        };

        using var continuous = new TrainingSetup(Backends.Create(firstBackend), config, options, new TrainingState(), TrainData, TestData);
        continuous.Trainer.Run(null);

        using var folder = new TempFolder();
        string path = folder.File("run.safetensors");
        using (var first = new TrainingSetup(Backends.Create(firstBackend), config, options with { Epochs = 1 }, new TrainingState(), TrainData, TestData))
        {
            first.Trainer.Run(null, _ => Checkpoint.Save(path, first.Model, first.Trainer.Options, first.Trainer.State));
            Assert.Equal(1, first.Trainer.State.Epoch);
            // The resumed run must not coincide with the continuous one by accident: after one epoch they differ.
            Assert.NotEqual(continuous.Parameters(), first.Parameters());
        }

        var checkpoint = Checkpoint.Read(path);
        Assert.NotNull(checkpoint.Options);
        Assert.Equal(config, checkpoint.Config);
        using var resumed = new TrainingSetup(Backends.Create(resumeBackend), (VaeConfig)checkpoint.Config, checkpoint.Options with { Epochs = 2 },
            checkpoint.State, TrainData, TestData, initialize: false);
        checkpoint.LoadInto(resumed.Model, withOptimizerState: true);
        resumed.Trainer.Run(null);

        AssertSameRun(continuous, resumed);
    }

    [Fact]
    public void Clipping_changes_the_run()
    {
        // Guards the clipping variant above: with this clip norm the trajectory is not the unclipped one.
        using var plain = new TrainingSetup(Backends.Create("cpu-1"), Config, Options(1), new TrainingState(), TrainData, null);
        using var clipped = new TrainingSetup(Backends.Create("cpu-1"), Config, Options(1, clip: 0.5f), new TrainingState(), TrainData, null);
        plain.Trainer.Run(null);
        clipped.Trainer.Run(null);
        Assert.NotEqual(plain.Parameters(), clipped.Parameters());
    }

    [Fact]
    public void The_same_seed_gives_the_same_run_and_another_seed_a_different_one()
    {
        using var a = new TrainingSetup(Backends.Create("cpu-3"), Config, Options(2, seed: 21), new TrainingState(), TrainData, TestData);
        using var b = new TrainingSetup(Backends.Create("cpu-1"), Config, Options(2, seed: 21), new TrainingState(), TrainData, TestData);
        using var c = new TrainingSetup(Backends.Create("cpu-3"), Config, Options(2, seed: 22), new TrainingState(), TrainData, TestData);
        a.Trainer.Run(null);
        b.Trainer.Run(null);
        c.Trainer.Run(null);

        AssertSameRun(a, b);

        Assert.NotEqual(a.Parameters(), c.Parameters());
        Assert.NotEqual(a.AdamV(), c.AdamV());
        Assert.NotEqual(a.Trainer.State.History[0].TrainLoss, c.Trainer.State.History[0].TrainLoss);
        Assert.NotEqual(a.Trainer.State.History[1].TestLoss, c.Trainer.State.History[1].TestLoss);
    }

    static void AssertSameRun(TrainingSetup want, TrainingSetup got)
    {
        Tolerance.AssertBitwiseEqual("parameters", got.Parameters(), want.Parameters());
        Tolerance.AssertBitwiseEqual("Adam m", got.AdamM(), want.AdamM());
        Tolerance.AssertBitwiseEqual("Adam v", got.AdamV(), want.AdamV());
        var w = want.Trainer.State;
        var g = got.Trainer.State;
        Assert.Equal(w.Step, g.Step);
        Assert.Equal(w.Epoch, g.Epoch);
        Assert.Equal(w.RngOffset, g.RngOffset);
        Assert.Equal(w.History.Count, g.History.Count);
        for (int i = 0; i < w.History.Count; i++)
        {
            var (a, b) = (w.History[i], g.History[i]);
            Assert.Equal(a.Epoch, b.Epoch);
            // Bitwise: Assert.Equal on doubles compares exactly.
            Assert.Equal(a.TrainLoss, b.TrainLoss);
            Assert.Equal(a.TrainRecon, b.TrainRecon);
            Assert.Equal(a.TrainKl, b.TrainKl);
            Assert.Equal(a.TestLoss, b.TestLoss);
            Assert.Equal(a.TestRecon, b.TestRecon);
            Assert.Equal(a.TestKl, b.TestKl);
        }
        Assert.True(double.IsFinite(w.History[^1].TestLoss), "the run evaluated its test set");
    }
}
