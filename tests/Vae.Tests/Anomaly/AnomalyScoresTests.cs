// AnomalyScores.Compute on a real model: the posterior-mean score equals recon(x | z = mu) + KL computed on the host in
// double from the model's own encoder and decoder outputs (BCE and MSE models); the one-sample score equals the
// per-image loss of Evaluation (the numbers behind `vae eval`); scores do not depend on the batch capacity or the
// backend; and after training on three prototype classes, images of a fourth score higher (AUC near 1).
using Vae.Anomaly;
using Vae.Models;
using Vae.Tests.Support;
using Vae.Training;
using Xunit;

namespace Vae.Tests.Anomaly;

public sealed class AnomalyScoresTests
{
    const int Images = 37;   // not a multiple of any capacity used here: the last chunk is partial

    static VaeConfig Config(ReconstructionLoss loss) => new(64, [24, 16], 6, loss, beta: loss == ReconstructionLoss.Mse ? 0.5f : 1f);

    static VaeModel NewModel(IComputeBackend backend, VaeConfig config, int capacity, ulong seed = 3)
    {
        var model = new VaeModel(backend, config, capacity);
        model.InitializeParameters(seed);
        return model;
    }

    [Theory]
    [InlineData(ReconstructionLoss.Bce, "cpu")]
    [InlineData(ReconstructionLoss.Mse, "cpu")]
    [InlineData(ReconstructionLoss.Bce, "reference")]
    public void Posterior_mean_score_is_recon_at_mu_plus_kl(ReconstructionLoss loss, string backendName)
    {
        var config = Config(loss);
        var images = SyntheticImages.Uniform(seed: 21, Images, config.Input);
        using var backend = Backends.Create(backendName);
        using var model = NewModel(backend, config, capacity: 16);
        using var data = new DeviceDataset(backend, images, Images, config.Input);
        var scores = AnomalyScores.Compute(model, data, AnomalyScoreMode.PosteriorMean);
        Assert.Equal(Images, scores.Count);

        // The host reference: mu and log-variance from the encoder, probabilities decoded from mu, then the terms in double.
        int d = config.Input, l = config.Latent;
        var mu = new float[Images * l];
        var logVar = new float[Images * l];
        for (int first = 0; first < Images; first += model.Capacity)
        {
            int rows = Math.Min(model.Capacity, Images - first);
            backend.Upload<float>(images.AsSpan(first * d, rows * d), model.Input.Slice(0, rows * d));
            model.Encode(rows);
            backend.Download(model.Mu.Slice(0, rows * l), mu.AsSpan(first * l, rows * l));
            backend.Download(model.LogVar.Slice(0, rows * l), logVar.AsSpan(first * l, rows * l));
        }
        var probabilities = model.DecodeLatents(mu, Images);
        for (int i = 0; i < Images; i++)
        {
            double recon = 0, kl = 0;
            for (int j = 0; j < d; j++)
            {
                double x = images[i * d + j], p = probabilities[i * d + j];
                recon += loss == ReconstructionLoss.Bce ? -(x * Math.Log(p) + (1 - x) * Math.Log(1 - p)) : (p - x) * (p - x);
            }
            for (int j = 0; j < l; j++)
            {
                double m = mu[i * l + j], v = logVar[i * l + j];
                kl += -0.5 * (1 + v - m * m - Math.Exp(v));
            }
            Assert.True(Math.Abs(scores.Recon[i] - recon) <= 1e-4 * (1 + Math.Abs(recon)), $"image {i}: recon {scores.Recon[i]} vs host {recon}");
            Assert.True(Math.Abs(scores.Kl[i] - kl) <= 1e-4 * (1 + kl), $"image {i}: KL {scores.Kl[i]} vs host {kl}");
            Assert.Equal((double)scores.Recon[i] + scores.Kl[i], scores.Scores[i]);   // beta is not applied to the score
        }
    }

    [Fact]
    public void One_sample_score_is_the_per_image_loss_of_evaluation()
    {
        var config = Config(ReconstructionLoss.Bce);
        var images = SyntheticImages.Uniform(seed: 22, Images, config.Input);
        using var backend = Backends.Create("cpu");
        using var model = NewModel(backend, config, capacity: 8);
        using var data = new DeviceDataset(backend, images, Images, config.Input);
        var sampled = AnomalyScores.Compute(model, data, AnomalyScoreMode.OneSample);
        var perImage = new float[2 * Images];
        Evaluation.Run(model, data, perImage);
        for (int i = 0; i < Images; i++)
        {
            Assert.Equal(perImage[2 * i], sampled.Recon[i]);
            Assert.Equal(perImage[2 * i + 1], sampled.Kl[i]);
        }

        // The mean score is a different number (z = mu, not a sample), and the KL term is the same in both.
        var mean = AnomalyScores.Compute(model, data, AnomalyScoreMode.PosteriorMean);
        Assert.Equal(sampled.Kl, mean.Kl);
        Assert.Contains(Enumerable.Range(0, Images), i => mean.Recon[i] != sampled.Recon[i]);
    }

    [Fact]
    public void Scores_do_not_depend_on_capacity_or_backend()
    {
        var config = Config(ReconstructionLoss.Bce);
        var images = SyntheticImages.Uniform(seed: 23, Images, config.Input);
        double[] Scores(string backendName, int capacity, AnomalyScoreMode mode)
        {
            using var backend = Backends.Create(backendName);
            using var model = NewModel(backend, config, capacity);
            using var data = new DeviceDataset(backend, images, Images, config.Input);
            return AnomalyScores.Compute(model, data, mode).Scores;
        }
        foreach (var mode in new[] { AnomalyScoreMode.PosteriorMean, AnomalyScoreMode.OneSample })
        {
            var expected = Scores("reference", 64, mode);
            foreach (var (name, capacity) in new[] { ("reference", 5), ("cpu", 7), ("cpu-1", 64) })
            {
                var actual = Scores(name, capacity, mode);
                for (int i = 0; i < Images; i++)
                    Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * Math.Abs(expected[i]),
                        $"{mode}, {name} with capacity {capacity}, image {i}: {actual[i]} vs {expected[i]}");
            }
        }
    }

    [Fact]
    public void Compute_rejects_data_of_another_size()
    {
        using var backend = Backends.Create("cpu");
        using var model = NewModel(backend, Config(ReconstructionLoss.Bce), capacity: 4);
        using var data = new DeviceDataset(backend, new float[3 * 49], 3, 49);
        var e = Assert.Throws<ArgumentException>(() => AnomalyScores.Compute(model, data));
        Assert.Contains("49 pixels", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_class_left_out_of_training_scores_higher()
    {
        // Four random prototype pictures plus noise; the model trains on images of the first three only.
        const int pixels = 64, count = 480;
        var rng = new System.Random(31);
        var prototypes = new float[4, pixels];
        for (int c = 0; c < 4; c++)
            for (int j = 0; j < pixels; j++) prototypes[c, j] = rng.NextDouble() < 0.4 ? 0.9f : 0.05f;
        var all = new float[count * pixels];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = rng.Next(4);
            for (int j = 0; j < pixels; j++)
                all[i * pixels + j] = Math.Clamp(prototypes[labels[i], j] + 0.1f * (float)(2 * rng.NextDouble() - 1), 0f, 1f);
        }
        var trainIdx = Enumerable.Range(0, count).Where(i => labels[i] != 3 && i % 2 == 0).ToArray();
        var testIdx = Enumerable.Range(0, count).Where(i => i % 2 == 1).ToArray();
        float[] Gather(int[] idx) => idx.SelectMany(i => all.AsSpan(i * pixels, pixels).ToArray()).ToArray();

        var config = new VaeConfig(pixels, [32], 4);
        var options = new TrainingOptions { Epochs = 30, BatchSize = 32, Adam = new AdamSettings(3e-3f), Seed = 2 };
        using var setup = new TrainingSetup(Backends.Create("cpu"), config, options, new TrainingState(), Gather(trainIdx), Gather(testIdx));
        setup.Trainer.Run(null);
        var trainScores = AnomalyScores.Compute(setup.Model, setup.Train);
        var testScores = AnomalyScores.Compute(setup.Model, setup.Test!);
        var isAnomaly = testIdx.Select(i => labels[i] == 3).ToArray();
        var e = AnomalyScores.Evaluate(trainScores.Scores, testScores.Scores, isAnomaly);
        Assert.True(e.Auc > 0.95, $"AUC {e.Auc}");
        Assert.True(e.Recall > 0.9, $"recall {e.Recall} at threshold {e.Threshold}");
        Assert.True(e.Counts.FalsePositiveRate < 0.2, $"false positive rate {e.Counts.FalsePositiveRate}");
    }

    [Fact]
    public void Nll_score_is_the_importance_sampled_estimate_per_image()
    {
        var config = Config(ReconstructionLoss.Bce);
        using var backend = Backends.Create("cpu");
        using var model = NewModel(backend, config, 16);
        var images = SyntheticImages.Uniform(4, Images, config.Input);
        using var data = new DeviceDataset(backend, images, Images, config.Input);
        var scores = AnomalyScores.Compute(model, data, AnomalyScoreMode.Nll, nllSamples: 7);
        var expected = new double[Images];
        using (var weights = new VaeImportanceWeights(model)) ImportanceSampling.Run(weights, data, 7, perImage: expected);
        Assert.Equal(expected, scores.Scores);
        var mean = AnomalyScores.Compute(model, data, AnomalyScoreMode.PosteriorMean);
        Assert.Equal(mean.Recon, scores.Recon);
        Assert.Equal(mean.Kl, scores.Kl);
        Assert.NotEqual(mean.Scores, scores.Scores);
    }
}
