// Anomaly scoring with a trained VAE ("AnomalyVAE"): a sample's score is its negative ELBO, reconstruction nats plus
// KL(q(z|x) || N(0, I)) nats, so images unlike the training data (badly reconstructed, or encoded far from the prior)
// score high. By default the reconstruction term is evaluated at the posterior mean (z = mu, no noise), which makes
// the score deterministic; one fixed-seed posterior sample per image (the noise stream of Evaluation, so the score
// equals `vae eval`'s per-image loss) is the alternative. A threshold is a percentile of the training set's scores;
// Evaluate turns training and test scores into the ROC AUC and the precision and recall of "score > threshold".
using Vae.Models;
using Vae.Training;

namespace Vae.Anomaly;

/// <summary>How the reconstruction term of the score picks z.</summary>
public enum AnomalyScoreMode
{
    /// <summary>z = the posterior mean mu (deterministic): score = -log p(x | mu) + KL(q(z|x) || p(z)).</summary>
    PosteriorMean,

    /// <summary>z = mu + sigma * eps with eps from the fixed stream <see cref="Evaluation.NoiseSeed"/> (image i of the
    /// set uses the stream's entries [i L, (i + 1) L)): the one-sample negative ELBO that <c>vae eval</c> averages.</summary>
    OneSample,

    /// <summary>The importance-sampled estimate of -log p(x) (IWAE, K samples from the fixed stream of
    /// <see cref="ImportanceSampling"/>): the model's marginal likelihood instead of one bound on it.</summary>
    Nll,
}

/// <summary>Per-image score components, in nats: the score of image i is Recon[i] + Kl[i].</summary>
public sealed class AnomalyScoreSet
{
    public AnomalyScoreSet(float[] recon, float[] kl)
    {
        ArgumentNullException.ThrowIfNull(recon);
        ArgumentNullException.ThrowIfNull(kl);
        if (recon.Length != kl.Length) throw new ArgumentException($"Got {recon.Length} reconstruction terms but {kl.Length} KL terms.", nameof(kl));
        Recon = recon;
        Kl = kl;
        Scores = new double[recon.Length];
        for (int i = 0; i < recon.Length; i++) Scores[i] = (double)recon[i] + kl[i];
    }

    /// <summary>Components as above, with the scores given (the NLL estimate).</summary>
    public AnomalyScoreSet(float[] recon, float[] kl, double[] scores) : this(recon, kl)
    {
        ArgumentNullException.ThrowIfNull(scores);
        if (scores.Length != recon.Length) throw new ArgumentException($"Got {scores.Length} scores for {recon.Length} images.", nameof(scores));
        Scores = scores;
    }

    public int Count => Scores.Length;
    /// <summary>Reconstruction nats of each image (BCE or squared error summed over pixels, as the model was trained).</summary>
    public float[] Recon { get; }
    /// <summary>KL(q(z|x) || N(0, I)) nats of each image, summed over the latents.</summary>
    public float[] Kl { get; }
    /// <summary>Recon + KL of each image (the negative ELBO; the model's training beta is not applied).</summary>
    public double[] Scores { get; }
}

/// <summary>What the detector achieves on one test set: the threshold, the ROC AUC and the counts at the threshold.</summary>
public sealed record AnomalyEvaluation(double Percentile, double Threshold, double Auc, ConfusionCounts Counts)
{
    public double Precision => Counts.Precision;
    public double Recall => Counts.Recall;
    public double F1 => Counts.F1;
}

public static class AnomalyScores
{
    /// <summary>The default threshold: the 95th percentile of the training scores (about 5 % of training images flagged).</summary>
    public const double DefaultPercentile = 95;

    /// <summary>Importance samples per image of the NLL score (fewer than <c>vae eval</c>'s 1000: it scores the training set too).</summary>
    public const int DefaultNllSamples = 100;

    /// <summary>Scores every image of <paramref name="data"/> in order, <see cref="VaeModel.Capacity"/> rows at a time.</summary>
    public static AnomalyScoreSet Compute(VaeModel model, DeviceDataset data, AnomalyScoreMode mode = AnomalyScoreMode.PosteriorMean,
        int nllSamples = DefaultNllSamples)
    {
        if (mode == AnomalyScoreMode.Nll)
        {
            // The components at the posterior mean, for the CSV; the score is each image's -log p(x) estimate.
            var parts = Compute(model, data, AnomalyScoreMode.PosteriorMean);
            var nll = new double[data.Count];
            using var weights = new VaeImportanceWeights(model);
            ImportanceSampling.Run(weights, data, nllSamples, perImage: nll);
            return new AnomalyScoreSet(parts.Recon, parts.Kl, nll);
        }
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Pixels != model.Config.Input)
            throw new ArgumentException($"The data has {data.Pixels} pixels per image but the model expects {model.Config.Input}.", nameof(data));
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown score mode.");
        var backend = model.Backend;
        int l = model.Config.Latent, capacity = model.Capacity, pixels = data.Pixels;
        var recon = new float[data.Count];
        var kl = new float[data.Count];
        if (mode == AnomalyScoreMode.PosteriorMean) backend.Fill(model.Eps, 0f);   // z = mu + sigma * 0 = mu exactly
        for (int first = 0; first < data.Count; first += capacity)
        {
            int rows = Math.Min(capacity, data.Count - first);
            backend.Copy(data.Images.Slice(first * pixels, rows * pixels), model.Input.Slice(0, rows * pixels));
            if (mode == AnomalyScoreMode.OneSample)
                backend.RandomNormal(model.Eps.Slice(0, rows * l), Evaluation.NoiseSeed, (ulong)first * (ulong)l);
            model.Forward(rows);
            backend.Download<float>(model.ReconPerSample.Slice(0, rows), recon.AsSpan(first, rows));
            backend.Download<float>(model.KlPerSample.Slice(0, rows), kl.AsSpan(first, rows));
        }
        return new AnomalyScoreSet(recon, kl);
    }

    /// <summary>
    /// The detector's quality on a labelled test set: threshold = the <paramref name="percentile"/>-th percentile of
    /// <paramref name="trainingScores"/>, a test sample is flagged when its score is above the threshold, and the ROC
    /// AUC ranks the test scores against <paramref name="isAnomaly"/> (independent of the threshold).
    /// </summary>
    public static AnomalyEvaluation Evaluate(ReadOnlySpan<double> trainingScores, ReadOnlySpan<double> testScores, ReadOnlySpan<bool> isAnomaly,
        double percentile = DefaultPercentile)
    {
        double threshold = ThresholdMetrics.Percentile(trainingScores, percentile);
        double auc = RocAuc.Compute(testScores, isAnomaly);
        var counts = ThresholdMetrics.AtThreshold(testScores, isAnomaly, threshold);
        return new AnomalyEvaluation(percentile, threshold, auc, counts);
    }

    /// <summary>
    /// Indices of the <paramref name="count"/> highest and the <paramref name="count"/> lowest scores (highest first,
    /// lowest first; ties broken by index so the choice is reproducible). Fewer when there are fewer scores.
    /// </summary>
    public static (int[] Highest, int[] Lowest) Extremes(ReadOnlySpan<double> scores, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var order = new int[scores.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var copy = scores.ToArray();
        Array.Sort(order, (a, b) => copy[a] != copy[b] ? copy[a].CompareTo(copy[b]) : a.CompareTo(b));
        int k = Math.Min(count, order.Length);
        var lowest = order[..k];
        var highest = new int[k];
        for (int i = 0; i < k; i++) highest[i] = order[order.Length - 1 - i];
        return (highest, lowest);
    }
}
