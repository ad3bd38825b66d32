// The conditional VAE through the generic Trainer: on a small labelled set whose classes are distinct pictures it
// learns (the test loss falls) and learns to draw the class it is asked for (the nearest-class-mean consistency of its
// samples rises from chance to that of the real images); the importance-sampled -log p(x | y) lies below the test
// loss; a training step allocates nothing once warm; and data whose labels do not fit the model are refused.
using Vae.Analysis;
using Vae.Cpu;
using Vae.Data;
using Vae.Models;
using Vae.Tests.Support;
using Vae.Training;
using Xunit;
using Xunit.Abstractions;

namespace Vae.Tests.Training;

public sealed class CvaeTrainingTests(ITestOutputHelper output)
{
    const int Side = 6, Classes = 4;

    /// <summary>Images of <paramref name="count"/> class pictures (pixels 0.05 or 0.9 per class, the same for every seed) plus noise (from the seed) of +-0.15; label i % Classes.</summary>
    internal static (float[] Images, byte[] Labels) LabelledPictures(int count, int seed)
    {
        var rng = new System.Random(seed);
        var pictureRng = new System.Random(1000);   // the same class pictures for every seed
        var pictures = new float[Classes * Side * Side];
        for (int i = 0; i < pictures.Length; i++) pictures[i] = pictureRng.NextDouble() < 0.4 ? 0.9f : 0.05f;
        var images = new float[count * Side * Side];
        var labels = new byte[count];
        for (int n = 0; n < count; n++)
        {
            labels[n] = (byte)(n % Classes);
            for (int p = 0; p < Side * Side; p++)
                images[n * Side * Side + p] = Math.Clamp(pictures[labels[n] * Side * Side + p] + 0.15f * (float)(2 * rng.NextDouble() - 1), 0f, 1f);
        }
        return (images, labels);
    }

    [Fact]
    public void Trainer_learns_a_labelled_set_and_the_samples_follow_their_labels()
    {
        var config = new CvaeConfig(Side * Side, [24], 2, Classes);
        var options = new TrainingOptions { Epochs = 20, BatchSize = 16, Adam = new AdamSettings(5e-3f), Seed = 5 };
        var (trainImages, trainLabels) = LabelledPictures(256, seed: 1);
        var (testImages, testLabels) = LabelledPictures(64, seed: 2);
        var test = new ImageDataset("pictures test", Side, Side, testImages, testLabels);
        using var backend = Backends.Create("cpu");
        using var model = new CvaeModel(backend, config, options.BatchSize);
        model.InitializeParameters(options.Seed);
        using var trainSet = new DeviceDataset(backend, trainImages, 256, config.Input, trainLabels, Classes);
        using var testSet = new DeviceDataset(backend, testImages, 64, config.Input, testLabels, Classes);
        var before = ClassConsistency.Measure(model, test, samplesPerClass: 50, seed: 3);
        var first = Evaluation.Run(model, testSet, null);
        using var trainer = new Trainer(model, trainSet, testSet, options, new TrainingState());
        trainer.Run(null);
        var history = trainer.State.History;
        var after = ClassConsistency.Measure(model, test, samplesPerClass: 50, seed: 3);
        output.WriteLine($"test loss {first.Loss:F2} -> {string.Join(", ", history.Select(h => h.TestLoss.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)))}");
        output.WriteLine($"class consistency: samples {before.Samples:F3} -> {after.Samples:F3}, real {after.Real:F3}");

        Assert.Equal(20, history.Count);
        Assert.True(history[^1].TestLoss < 0.8 * first.Loss, $"test loss {first.Loss} -> {history[^1].TestLoss}");
        Assert.Equal(1.0, after.Real);   // the pictures are far apart: every real image is nearest its own class mean
        Assert.True(after.Samples >= 0.95, $"samples drawn per class should be recognised as that class: {after.Samples}");
        Assert.True(after.Samples > before.Samples + 0.3, $"consistency {before.Samples} before training, {after.Samples} after");
        Assert.Equal(Classes, after.Classes);

        using var weights = model.CreateImportanceWeights();
        var nll = ImportanceSampling.Run(weights, testSet, 50);
        output.WriteLine($"-log p(x|y) {nll.Nll:F3} (K = 50), -ELBO over the same samples {nll.NegativeElbo:F3}, one-sample test loss {history[^1].TestLoss:F3}");
        Assert.True(nll.Nll < nll.NegativeElbo, $"-log p(x|y) {nll.Nll} should be below the -ELBO of its samples {nll.NegativeElbo}");
        Assert.True(Math.Abs(nll.NegativeElbo - history[^1].TestLoss) < 0.05 * history[^1].TestLoss,
            $"the -ELBO over 50 samples per image {nll.NegativeElbo} and the one-sample test loss {history[^1].TestLoss} estimate the same quantity");
    }

    [Fact]
    public void Data_whose_labels_do_not_fit_the_model_are_refused()
    {
        var config = new CvaeConfig(Side * Side, [8], 2, Classes);
        var options = new TrainingOptions { Epochs = 1, BatchSize = 8 };
        var (images, labels) = LabelledPictures(16, seed: 1);
        using var backend = Backends.Create("cpu");
        using var model = new CvaeModel(backend, config, 8);
        // Labels beyond the model's classes cannot even become its one-hot rows.
        var wide = labels.Select(b => (byte)(b + 1)).ToArray();
        Assert.Contains("outside the 4 classes", Assert.Throws<ArgumentException>(() => new DeviceDataset(backend, images, 16, config.Input, wide, Classes)).Message, StringComparison.Ordinal);
        // A dataset with more (or no) classes than the model is refused by the trainer and the evaluation.
        using var five = new DeviceDataset(backend, images, 16, config.Input, wide, 5);
        using var unlabelled = new DeviceDataset(backend, images, 16, config.Input);
        Assert.Contains("conditioned on 4 classes but the data carries 5", Assert.Throws<ArgumentException>(() => new Trainer(model, five, null, options, new TrainingState())).Message, StringComparison.Ordinal);
        Assert.Contains("carries 0", Assert.Throws<ArgumentException>(() => new Trainer(model, unlabelled, null, options, new TrainingState())).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Evaluation.Run(model, five, null));
        var wideTest = new ImageDataset("wide", Side, Side, images, wide);
        Assert.Contains("labels go up to 4", Assert.Throws<ArgumentException>(() => ClassConsistency.Measure(model, wideTest, 2, 1)).Message, StringComparison.Ordinal);
    }
}

/// <summary>A training step of the 784-400-400-20 conditional VAE on 10 classes allocates nothing once warm (the rules of TrainingAllocationTests).</summary>
[Collection(nameof(AllocationCollection))]
public sealed class CvaeTrainingAllocationTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(128, 0f)]
    [InlineData(77, 0.5f)]
    public void A_conditional_training_step_allocates_nothing_once_warm(int rows, float freeBits)
    {
        const int images = 300;
        var config = CvaeConfig.Default;
        var options = new TrainingOptions { Epochs = 1, BatchSize = 128, Seed = 3, FreeBits = freeBits };
        var labels = Enumerable.Range(0, images).Select(i => (byte)(i % 10)).ToArray();
        using var backend = new CpuBackend(threads: 2);
        using var model = new CvaeModel(backend, config, options.BatchSize);
        model.InitializeParameters(options.Seed);
        using var data = new DeviceDataset(backend, SyntheticImages.Uniform(seed: 1, images, config.Input), images, config.Input, labels, 10);
        using var trainer = new Trainer(model, data, null, options, new TrainingState());
        var indices = AllocationMeter.SpreadIndices(rows, images);
        var m = AllocationMeter.MeasureTrainingSteps(trainer, data, indices, backend);
        output.WriteLine($"8 steps of {rows} rows: fewest bytes {m.FewestOnThread} on the calling thread, {m.FewestInProcess} in the process");
        Assert.True(m.FewestOnThread == 0, $"8 conditional training steps allocated {m.FewestOnThread} bytes on the calling thread");
        Assert.False(m.ProcessAllocates, $"8 conditional training steps allocated {m.FewestInProcess} bytes in the process (pool workers)");
        Assert.True(float.IsFinite(trainer.LastTotals[0]) && trainer.LastTotals[0] > 0);
        // The labels reached the model: its condition rows are the one-hot labels of the last batch.
        var condition = new float[rows * 10];
        backend.Download(model.Condition.Slice(0, rows * 10), condition);
        for (int r = 0; r < rows; r++) Assert.Equal(1f, condition[r * 10 + labels[indices[r]]]);
        Assert.Equal(rows, condition.Sum());
    }
}
