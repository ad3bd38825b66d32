// Training/TextTrainer on a tiny corpus of short sentences: a few epochs lower the loss (of the training epochs and of
// an evaluation of the training set); the KL schedule is the weight each step uses (a warm-up's first step equals a
// constant schedule with that weight, bit for bit); EpochOrder is a permutation of the sequences whose buckets of 32
// batches are sorted by length and whose batches are a permutation, fixed by (seed, epoch); warmed-up training steps
// allocate nothing (TextTrainingAllocationTests, run alone); a resumed run is bit-exact.
using Vae.Checkpoints;
using Vae.Data.Text;
using Vae.Models.Text;
using Vae.Tests.Support;
using Vae.Training;
using Xunit;

namespace Vae.Tests.Models.Text;

public sealed class TextTrainerTests
{
    internal const int MaxLength = 12;
    internal static readonly List<string> Sentences = TextModelSetup.Sentences(64, seed: 1);

    internal static TextTrainingOptions Options(int epochs, float wordDropout = 0f, float teacherForcing = 1f, KlSchedule schedule = default, float freeBits = 0f) =>
        new(new TrainingOptions { Epochs = epochs, BatchSize = 8, Adam = new AdamSettings(5e-3f), ClipNorm = 5f, Seed = 3, KlSchedule = schedule, FreeBits = freeBits },
            wordDropout, teacherForcing, MaxLength - 2);

    internal static TextVaeConfig Config(TextDataset data, int latent = 4, float beta = 1f) => new(data.Vocabulary.Count, 8, 16, latent, MaxLength, beta: beta);

    [Fact]
    public void A_few_epochs_lower_the_loss()
    {
        var data = TextModelSetup.Dataset(Sentences, MaxLength);
        using var backend = Backends.Create("cpu");
        using var model = TextModelSetup.Model(backend, Config(data), 8, seed: 2);
        var before = TextEvaluation.Run(model, data, seed: 3);   // the options' seed, as the trainer's validation
        using var trainer = new TextTrainer(model, data, data, Options(5, wordDropout: 0.2f, teacherForcing: 0.8f), new TrainingState());
        trainer.Run(null);
        var after = TextEvaluation.Run(model, data, seed: 3);   // the options' seed, as the trainer's validation
        var history = trainer.State.History;
        Assert.Equal(5, history.Count);
        Assert.Equal(5 * trainer.BatchesPerEpoch, trainer.State.Step);
        Assert.True(history[^1].TrainLoss < 0.9 * history[0].TrainLoss, $"train loss {history[0].TrainLoss:F3} -> {history[^1].TrainLoss:F3}");
        Assert.True(after.Bound < 0.9 * before.Bound, $"evaluated bound {before.Bound:F3} -> {after.Bound:F3}");
        Assert.Equal(after.Recon + after.Kl, history[^1].TestLoss, 1e-9);   // the last epoch's validation is that evaluation
        Assert.Equal(data.Lengths.Sum(l => l - 1L), after.Tokens);
    }

    [Fact]
    public void The_kl_schedule_sets_each_steps_weight()
    {
        var data = TextModelSetup.Dataset(Sentences, MaxLength);
        var warmup = Options(1, schedule: KlSchedule.Linear(10));
        int[] batch = [0, 5, 9, 14, 20, 33, 41, 60];
        using var backend = Backends.Create("cpu-1");
        using var model = TextModelSetup.Model(backend, Config(data, beta: 0.5f), 8, seed: 4);
        using var trainer = new TextTrainer(model, data, null, warmup, new TrainingState());
        Assert.Equal(0.05f, trainer.KlWeight(1));
        Assert.Equal(0.25f, trainer.KlWeight(5));
        Assert.Equal(0.5f, trainer.KlWeight(10));
        Assert.Equal(0.5f, trainer.KlWeight(1000));
        trainer.TrainStep(batch);

        // The same step with a constant schedule and beta = that weight gives the same parameters; with beta 0.5 it does not.
        float[] Constant(float beta)
        {
            using var other = TextModelSetup.Model(backend, Config(data, beta: beta), 8, seed: 4);
            using var plain = new TextTrainer(other, data, null, Options(1), new TrainingState());
            plain.TrainStep(batch);
            return TextModelSetup.Parameters(other);
        }
        var scheduled = TextModelSetup.Parameters(model);
        Tolerance.AssertBitwiseEqual("warm-up step 1 vs constant weight 0.05", scheduled, Constant(0.05f));
        Assert.NotEqual(scheduled, Constant(0.5f));
    }

    [Fact]
    public void Epoch_order_is_a_permutation_sorted_by_length_within_buckets()
    {
        const int count = 300, batchSize = 4, chunk = batchSize * TextTrainer.BucketBatches;
        var rng = new System.Random(6);
        var lengths = Enumerable.Range(0, count).Select(_ => rng.Next(3, 40)).ToArray();
        int batches = (count + batchSize - 1) / batchSize;
        (int[] Sequences, int[] Batches) Order(ulong seed, int epoch)
        {
            var sequences = new int[count];
            var keys = new int[count];
            var batchOrder = new int[batches];
            TextTrainer.EpochOrder(sequences, keys, batchOrder, lengths, batchSize, seed, epoch);
            return (sequences, batchOrder);
        }
        var (order, batchOrder) = Order(1, 1);
        Assert.Equal(Enumerable.Range(0, count), order.Order());
        Assert.Equal(Enumerable.Range(0, batches), batchOrder.Order());
        for (int first = 0; first < count; first += chunk)
        {
            var bucket = order.Skip(first).Take(chunk).Select(i => lengths[i]).ToArray();
            Assert.Equal(bucket.Order(), bucket);
        }
        // Not sorted across buckets (the buckets are random slices of the shuffled corpus), so the order is not just a sort.
        Assert.NotEqual(order.Select(i => lengths[i]).Order(), order.Select(i => lengths[i]));
        var again = Order(1, 1);
        Assert.Equal(order, again.Sequences);
        Assert.Equal(batchOrder, again.Batches);
        Assert.NotEqual(order, Order(1, 2).Sequences);
        Assert.NotEqual(order, Order(2, 1).Sequences);
        Assert.NotEqual(batchOrder, Order(1, 2).Batches);
    }

    [Fact]
    public void Two_epochs_equal_one_epoch_checkpoint_and_one_more()
    {
        var split = TextSplits.Prepare("tiny", Sentences, Tokenizer.Words, MaxLength - 2, 1000, 1, seed: 2, validationFraction: 0.1);
        var options = Options(2, wordDropout: 0.3f, teacherForcing: 0.7f, KlSchedule.Linear(5), freeBits: 0.05f) with { SplitSeed = 2 };
        var config = Config(split.Train);

        using var backend = Backends.Create("cpu-1");
        using var continuous = TextModelSetup.Model(backend, config, 8, seed: 7);
        var straightState = new TrainingState();
        using (var trainer = new TextTrainer(continuous, split.Train, split.Validation, options, straightState)) trainer.Run(null);

        using var scratch = new ScratchDirectory();
        string path = scratch.File("text.safetensors");
        using (var first = TextModelSetup.Model(backend, config, 8, seed: 7))
        {
            var state = new TrainingState();
            var firstOptions = options with { Common = options.Common with { Epochs = 1 } };
            using var trainer = new TextTrainer(first, split.Train, split.Validation, firstOptions, state);
            trainer.Run(null, _ => TextCheckpoint.Save(path, first, split.Vocabulary, firstOptions, state));
        }
        var checkpoint = TextCheckpoint.Read(path);
        Assert.Equal(1, checkpoint.State.Epoch);
        using var resumedBackend = Backends.Create("cpu-1");
        using var resumed = new TextVaeModel(resumedBackend, checkpoint.Config, 8);
        checkpoint.LoadInto(resumed, withOptimizerState: true);
        var resumedOptions = checkpoint.Options! with { Common = checkpoint.Options!.Common with { Epochs = 2 } };
        Assert.Equal(options, resumedOptions);
        using (var trainer = new TextTrainer(resumed, split.Train, split.Validation, resumedOptions, checkpoint.State)) trainer.Run(null);

        var p = continuous.Parameters;
        var q = resumed.Parameters;
        Tolerance.AssertBitwiseEqual("parameters", TextModelSetup.Download(resumedBackend, q.Parameters, q.Parameters.Length), TextModelSetup.Download(backend, p.Parameters, p.Parameters.Length));
        Tolerance.AssertBitwiseEqual("Adam m", TextModelSetup.Download(resumedBackend, q.AdamM, q.AdamM.Length), TextModelSetup.Download(backend, p.AdamM, p.AdamM.Length));
        Tolerance.AssertBitwiseEqual("Adam v", TextModelSetup.Download(resumedBackend, q.AdamV, q.AdamV.Length), TextModelSetup.Download(backend, p.AdamV, p.AdamV.Length));
        Assert.Equal(straightState.Step, checkpoint.State.Step);
        Assert.Equal(straightState.RngOffset, checkpoint.State.RngOffset);
        Assert.Equal(2, checkpoint.State.History.Count);
        for (int e = 0; e < 2; e++)
        {
            Assert.Equal(straightState.History[e].TrainLoss, checkpoint.State.History[e].TrainLoss);
            Assert.Equal(straightState.History[e].TestLoss, checkpoint.State.History[e].TestLoss);
        }
    }
}
