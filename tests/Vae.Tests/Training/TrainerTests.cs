// The training loop: every image is trained on once per epoch (the last partial batch included) in the (seed, epoch)
// order, the counters advance as documented, the loss falls on learnable data, a non-finite loss or parameter stops
// the run with TrainingDivergedException before the epoch is recorded or checkpointed, and bad settings are rejected.
using Vae.Checkpoints;
using Vae.Models;
using Vae.Tests.Support;
using Vae.Training;
using Xunit;
using Xunit.Abstractions;

namespace Vae.Tests.Training;

public sealed class TrainerTests(ITestOutputHelper output)
{
    static readonly VaeConfig Config = new(64, [32], 5);
    const int Images = 300, Batch = 32;   // 10 batches per epoch, the last one of 12 images

    static TrainingOptions Options(int epochs, ulong seed = 3) => new() { Epochs = epochs, BatchSize = Batch, Adam = new AdamSettings(2e-3f), Seed = seed };

    sealed class RecordingObserver : ITrainingObserver
    {
        public List<BatchProgress> Batches { get; } = [];
        public List<EpochRecord> Epochs { get; } = [];
        public void OnBatch(in BatchProgress progress) => Batches.Add(progress);
        public void OnEpoch(EpochRecord record) => Epochs.Add(record);
    }

    [Fact]
    public void Every_epoch_trains_on_every_image_including_the_last_partial_batch()
    {
        var data = SyntheticImages.Uniform(seed: 1, Images, Config.Input);
        using var run = new TrainingSetup(Backends.Create("cpu-1"), Config, Options(2), new TrainingState(), data, null);
        var observer = new RecordingObserver();
        run.Trainer.Run(observer);

        int batches = (Images + Batch - 1) / Batch;
        Assert.Equal(10, batches);
        Assert.Equal(batches, run.Trainer.BatchesPerEpoch);
        var state = run.Trainer.State;
        Assert.Equal(2L * batches, state.Step);
        Assert.Equal(2UL * Images * (ulong)Config.Latent, state.RngOffset);
        Assert.Equal(2, state.Epoch);
        Assert.Equal(2 * batches, observer.Batches.Count);
        foreach (int epoch in new[] { 1, 2 })
        {
            var inEpoch = observer.Batches.Where(b => b.Epoch == epoch).ToList();
            Assert.Equal(Enumerable.Range(1, batches), inEpoch.Select(b => b.Batch));
            Assert.Equal(Enumerable.Range(1, batches).Select(b => (long)Math.Min(b * Batch, Images)), inEpoch.Select(b => b.Images));
            var last = inEpoch[^1];
            Assert.Equal(Images, last.Images);
            Assert.Equal(Images, last.ImagesInEpoch);
            Assert.Equal(batches, last.Batches);
            Assert.Equal(2, last.Epochs);
            // The running loss of the last batch is the epoch's loss.
            Assert.Equal(state.History[epoch - 1].TrainLoss, last.Loss, 1e-9);
        }
        Assert.Equal(state.History, observer.Epochs);
    }

    [Fact]
    public void An_epoch_equals_a_hand_written_loop_over_the_shuffled_batches()
    {
        // RunEpoch against LoadBatch + TrainStep over Shuffle.Permutation(seed, epoch), every batch of it (the partial
        // 12-image one included): identical parameters and the same epoch loss.
        var data = SyntheticImages.Uniform(seed: 2, Images, Config.Input);
        using var trainer = new TrainingSetup(Backends.Create("cpu-3"), Config, Options(2), new TrainingState(), data, null);
        using var manual = new TrainingSetup(Backends.Create("cpu-3"), Config, Options(2), new TrainingState(), data, null);
        trainer.Trainer.RunEpoch(null);
        var record = trainer.Trainer.RunEpoch(null);

        var order = new int[Images];
        double recon = 0, kl = 0;
        for (int epoch = 1; epoch <= 2; epoch++)
        {
            Shuffle.Permutation(order, Options(2).Seed, epoch);
            recon = kl = 0;
            for (int first = 0; first < Images; first += Batch)
            {
                int rows = Math.Min(Batch, Images - first);
                manual.Trainer.LoadBatch(manual.Train, order.AsSpan(first, rows));
                manual.Trainer.TrainStep(rows);
                recon += manual.Trainer.LastTotals[0];
                kl += manual.Trainer.LastTotals[1];
            }
        }
        Tolerance.AssertBitwiseEqual("parameters after 2 epochs", manual.Parameters(), trainer.Parameters());
        Tolerance.AssertBitwiseEqual("Adam v after 2 epochs", manual.AdamV(), trainer.AdamV());
        Assert.Equal(trainer.Trainer.State.Step, manual.Trainer.State.Step);
        Assert.Equal(trainer.Trainer.State.RngOffset, manual.Trainer.State.RngOffset);
        Assert.Equal((recon + Config.Beta * kl) / Images, record.TrainLoss, 1e-9);
        Assert.Equal(recon / Images, record.TrainRecon, 1e-9);
        Assert.Equal(kl / Images, record.TrainKl, 1e-9);
        Assert.True(double.IsNaN(record.TestLoss), "no test set: the test loss is NaN");

        // Without the last partial batch the parameters would differ: the hand-written loop is not vacuous.
        using var skipping = new TrainingSetup(Backends.Create("cpu-3"), Config, Options(2), new TrainingState(), data, null);
        Shuffle.Permutation(order, Options(2).Seed, 1);
        for (int first = 0; first + Batch <= Images; first += Batch)
        {
            skipping.Trainer.LoadBatch(skipping.Train, order.AsSpan(first, Batch));
            skipping.Trainer.TrainStep(Batch);
        }
        using var oneEpoch = new TrainingSetup(Backends.Create("cpu-3"), Config, Options(1), new TrainingState(), data, null);
        oneEpoch.Trainer.RunEpoch(null);
        Assert.NotEqual(skipping.Parameters(), oneEpoch.Parameters());
    }

    [Fact]
    public void Epoch_orders_are_permutations_that_depend_on_seed_and_epoch()
    {
        var a = new int[Images];
        var b = new int[Images];
        var c = new int[Images];
        Shuffle.Permutation(a, 7, 1);
        Shuffle.Permutation(b, 7, 2);
        Shuffle.Permutation(c, 8, 1);
        Assert.Equal(Enumerable.Range(0, Images), a.Order());
        Assert.Equal(Enumerable.Range(0, Images), b.Order());
        Assert.NotEqual(a, b);
        Assert.NotEqual(a, c);
        var again = new int[Images];
        Shuffle.Permutation(again, 7, 1);
        Assert.Equal(a, again);
    }

    [Fact]
    public void The_loss_falls_on_learnable_data()
    {
        // Four prototype pictures plus noise: a VAE learns them in a few epochs. Random weights give about
        // 64 * ln 2 = 44 nats of BCE per image; the prototypes' own entropy is far lower.
        var train = SyntheticImages.Prototypes(seed: 3, 400, Config.Input, prototypes: 4, noise: 0.05f);
        var test = SyntheticImages.Prototypes(seed: 3, 480, Config.Input, prototypes: 4, noise: 0.05f)[(400 * Config.Input)..];
        var options = new TrainingOptions { Epochs = 5, BatchSize = Batch, Adam = new AdamSettings(3e-3f), Seed = 4 };
        using var run = new TrainingSetup(Backends.Create("cpu-3"), Config, options, new TrainingState(), train, test);
        run.Trainer.Run(null);
        var history = run.Trainer.State.History;
        output.WriteLine("train loss per epoch: " + string.Join(", ", history.Select(h => h.TrainLoss.ToString("F3", System.Globalization.CultureInfo.InvariantCulture))));
        output.WriteLine("test loss per epoch: " + string.Join(", ", history.Select(h => h.TestLoss.ToString("F3", System.Globalization.CultureInfo.InvariantCulture))));
        Assert.Equal(5, history.Count);
        Assert.True(history[4].TrainLoss < 0.8 * history[0].TrainLoss,
            $"train loss epoch 1 {history[0].TrainLoss:F3}, epoch 5 {history[4].TrainLoss:F3}: expected a drop of more than 20%");
        Assert.True(history[4].TestLoss < 0.8 * history[0].TestLoss,
            $"test loss epoch 1 {history[0].TestLoss:F3}, epoch 5 {history[4].TestLoss:F3}: expected a drop of more than 20%");
        for (int e = 1; e < history.Count; e++)
            Assert.True(history[e].TrainLoss < history[e - 1].TrainLoss, $"train loss rose from epoch {e} to {e + 1}: {history[e - 1].TrainLoss:F3} -> {history[e].TrainLoss:F3}");
    }

    [Fact]
    public void A_nan_pixel_stops_training_at_the_step_that_sees_it()
    {
        var data = SyntheticImages.Uniform(seed: 5, Images, Config.Input);
        const int poisoned = 123;
        data[poisoned * Config.Input + 17] = float.NaN;
        var order = new int[Images];
        Shuffle.Permutation(order, Options(1).Seed, 1);
        long expectedStep = Array.IndexOf(order, poisoned) / Batch + 1;

        using var run = new TrainingSetup(Backends.Create("cpu-1"), Config, Options(1), new TrainingState(), data, null);
        var observer = new RecordingObserver();
        var e = Assert.Throws<TrainingDivergedException>(() => run.Trainer.Run(observer));
        Assert.Contains("not finite", e.Message, StringComparison.Ordinal);
        Assert.Contains($"step {expectedStep})", e.Message, StringComparison.Ordinal);
        Assert.Contains("epoch 1", e.Message, StringComparison.Ordinal);
        Assert.Equal(expectedStep, run.Trainer.State.Step);
        Assert.Equal((int)expectedStep - 1, observer.Batches.Count);
        Assert.Empty(run.Trainer.State.History);
        Assert.Equal(0, run.Trainer.State.Epoch);
    }

    [Fact]
    public void A_dataset_whose_first_batch_has_a_nan_fails_at_the_first_step()
    {
        var data = SyntheticImages.Uniform(seed: 6, Batch, Config.Input);   // one batch: every image is in step 1
        data[5 * Config.Input] = float.NaN;
        using var run = new TrainingSetup(Backends.Create("cpu-1"), Config, Options(1), new TrainingState(), data, null);
        var e = Assert.Throws<TrainingDivergedException>(() => run.Trainer.Run(null));
        Assert.Contains("not finite", e.Message, StringComparison.Ordinal);
        Assert.Contains("batch 1 of 1 (step 1)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_nan_weight_after_a_checkpointed_epoch_stops_the_next_epoch_and_keeps_the_checkpoint()
    {
        var data = SyntheticImages.Uniform(seed: 7, Images, Config.Input);
        using var folder = new TempFolder();
        string path = folder.File("vae.safetensors");
        using var run = new TrainingSetup(Backends.Create("cpu-3"), Config, Options(3), new TrainingState(), data, null);
        byte[]? saved = null;
        var callbacks = new List<int>();
        var e = Assert.Throws<TrainingDivergedException>(() => run.Trainer.Run(null, record =>
        {
            callbacks.Add(record.Epoch);
            Checkpoint.Save(path, run.Model, run.Trainer.Options, run.Trainer.State);
            saved = File.ReadAllBytes(path);
            // Poison one weight of the decoder's output layer.
            var outWeight = run.Model.NamedTensors.Single(t => t.Name == "out.weight");
            run.Backend.Upload<float>([float.NaN], run.Model.Parameters.Parameters.Slice(outWeight.Offset + 3, 1));
        }));
        Assert.Contains("epoch 2", e.Message, StringComparison.Ordinal);
        Assert.Equal([1], callbacks);
        Assert.Equal(1, run.Trainer.State.Epoch);
        Assert.Single(run.Trainer.State.History);
        Assert.NotNull(saved);
        Assert.Equal(saved, File.ReadAllBytes(path));
        Assert.Equal(["vae.safetensors"], folder.FileNames());
        Assert.Equal(1, Checkpoint.Read(path).State.Epoch);
    }

    [Fact]
    public void Parameters_that_turn_nan_in_the_last_step_are_caught_at_the_end_of_the_epoch()
    {
        // The loss of a step is computed before its update, so a NaN that the last update writes into a parameter
        // is only visible to the end-of-epoch parameter check. A NaN planted in Adam's v makes that update NaN.
        var data = SyntheticImages.Uniform(seed: 8, Batch, Config.Input);   // one step per epoch
        using var run = new TrainingSetup(Backends.Create("cpu-1"), Config, Options(1), new TrainingState(), data, null);
        var outBias = run.Model.NamedTensors.Single(t => t.Name == "out.bias");
        run.Backend.Upload<float>([float.NaN], run.Model.Parameters.AdamV.Slice(outBias.Offset, 1));
        var observer = new RecordingObserver();
        var e = Assert.Throws<TrainingDivergedException>(() => run.Trainer.Run(observer));
        Assert.Contains("parameters are NaN or infinite", e.Message, StringComparison.Ordinal);
        Assert.Single(observer.Batches);
        Assert.Empty(observer.Epochs);
        Assert.Empty(run.Trainer.State.History);
        Assert.Equal(0, run.Trainer.State.Epoch);
    }

    [Fact]
    public void Bad_settings_and_mismatched_data_are_rejected()
    {
        using var backend = Backends.Create("cpu-1");
        using var model = new VaeModel(backend, Config, capacity: 16);
        using var data = new DeviceDataset(backend, SyntheticImages.Uniform(9, 40, Config.Input), 40, Config.Input);
        using var narrow = new DeviceDataset(backend, SyntheticImages.Uniform(9, 40, 63), 40, 63);

        var tooBig = Assert.Throws<ArgumentException>(() => new Trainer(model, data, null, new TrainingOptions { BatchSize = 17 }, new TrainingState()));
        Assert.Contains("17", tooBig.Message, StringComparison.Ordinal);
        Assert.Contains("capacity 16", tooBig.Message, StringComparison.Ordinal);

        var wrongTrain = Assert.Throws<ArgumentException>(() => new Trainer(model, narrow, null, new TrainingOptions { BatchSize = 16 }, new TrainingState()));
        Assert.Contains("63 pixels", wrongTrain.Message, StringComparison.Ordinal);
        Assert.Contains("64", wrongTrain.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new Trainer(model, data, narrow, new TrainingOptions { BatchSize = 16 }, new TrainingState()));

        Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(model, data, null, new TrainingOptions { BatchSize = 0 }, new TrainingState()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(model, data, null, new TrainingOptions { BatchSize = 16, Epochs = 0 }, new TrainingState()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(model, data, null, new TrainingOptions { BatchSize = 16, ClipNorm = -1 }, new TrainingState()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(model, data, null, new TrainingOptions { BatchSize = 16, Adam = new AdamSettings(float.NaN) }, new TrainingState()));

        var imagesMismatch = Assert.Throws<ArgumentException>(() => new DeviceDataset(backend, new float[100], 2, 64));
        Assert.Contains("128", imagesMismatch.Message, StringComparison.Ordinal);
    }
}
