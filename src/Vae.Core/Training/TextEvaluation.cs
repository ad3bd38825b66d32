// The test-set report of a text VAE (or its language-model baseline): reconstruction NLL and KL per sequence and per
// predicted token (the words and <eos> of each sequence), the perplexity bound exp((recon + KL) / tokens), the active
// latent units (Burda et al. 2016: dimensions whose posterior mean varies over the data by more than 0.01), and
// optionally an importance-sampled estimate of -log p(x) with K samples of the posterior per sequence
// (log p(x) ~ log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x)), whose per-token exponent is a tighter perplexity bound.
// The noise is drawn from a fixed seed, so the same checkpoint and data give the same numbers.
using Vae.Data.Text;
using Vae.Models.Text;

namespace Vae.Training;

/// <param name="Sequences">Sequences evaluated.</param>
/// <param name="Tokens">Predicted tokens: the sum over sequences of words + 1 (&lt;eos&gt;).</param>
/// <param name="Recon">Mean reconstruction nats per sequence (one posterior sample).</param>
/// <param name="Kl">Mean KL nats per sequence.</param>
/// <param name="ActiveUnits">Latent dimensions whose posterior mean has variance &gt; 0.01 over the data.</param>
/// <param name="LatentVariance">Per latent dimension, the variance of the posterior mean over the data.</param>
/// <param name="ImportanceSampledNll">Mean -log p(x) per sequence estimated with <paramref name="ImportanceSamples"/> samples (NaN when not computed).</param>
public sealed record TextEvaluationResult(int Sequences, long Tokens, double Recon, double Kl, int ActiveUnits, double[] LatentVariance,
    double ImportanceSampledNll, int ImportanceSamples)
{
    /// <summary>The negative ELBO per sequence: recon + KL (nats).</summary>
    public double Bound => Recon + Kl;
    public double ReconPerToken => Recon * Sequences / Math.Max(1, Tokens);
    public double KlPerToken => Kl * Sequences / Math.Max(1, Tokens);
    /// <summary>The ELBO's bound on -log p(x) per token.</summary>
    public double BoundPerToken => Bound * Sequences / Math.Max(1, Tokens);
    /// <summary>exp(BoundPerToken): an upper bound on the model's perplexity (for a language model, its perplexity).</summary>
    public double Perplexity => Math.Exp(BoundPerToken);
    /// <summary>The importance-sampled -log p(x) per token (NaN when not computed).</summary>
    public double NllPerToken => ImportanceSampledNll * Sequences / Math.Max(1, Tokens);
    /// <summary>exp(NllPerToken): the tighter perplexity estimate.</summary>
    public double NllPerplexity => Math.Exp(NllPerToken);
}

public static class TextEvaluation
{
    /// <summary>
    /// Evaluates every sequence of <paramref name="data"/>, in batches of the model's capacity taken in length order (less
    /// padding), with noise from stream <paramref name="seed"/>. With <paramref name="importanceSamples"/> K &gt; 0 (a VAE
    /// only; capacity &gt;= K) it also estimates -log p(x) per sequence from K posterior samples.
    /// </summary>
    public static TextEvaluationResult Run(TextVaeModel model, TextDataset data, ulong seed, int importanceSamples = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count == 0) throw new ArgumentException($"{data.Name} holds no sequences to evaluate.", nameof(data));
        CheckVocabulary(model, data);
        var backend = model.Backend;
        int zw = model.Config.Latent, n = data.Count;
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        var keys = (int[])data.Lengths.Clone();
        Array.Sort(keys, order);
        var totals = new float[2];
        var means = new float[model.Capacity * zw];
        var sum = new double[zw];
        var sumSquares = new double[zw];
        double recon = 0, kl = 0;
        long tokens = 0;
        ulong offset = 0;
        for (int first = 0; first < n; first += model.Capacity)
        {
            int rows = Math.Min(model.Capacity, n - first);
            model.LoadBatch(data.Tokens, data.MaxLength, data.Lengths, order.AsSpan(first, rows));
            if (zw > 0) backend.RandomNormal(model.Noise.Slice(0, rows * zw), seed, offset);
            offset += (ulong)(rows * zw);
            model.Forward();
            backend.Download<float>(model.LossTotals, totals);
            recon += totals[0];
            kl += totals[1];
            tokens += model.PredictedTokens;
            if (zw == 0) continue;
            backend.Download(model.Mu.Slice(0, rows * zw), means.AsSpan(0, rows * zw));
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < zw; j++)
                {
                    double m = means[r * zw + j];
                    sum[j] += m;
                    sumSquares[j] += m * m;
                }
        }
        var variance = new double[zw];
        int active = 0;
        for (int j = 0; j < zw; j++)
        {
            double mean = sum[j] / n;
            variance[j] = Math.Max(0, sumSquares[j] / n - mean * mean);
            if (variance[j] > 0.01) active++;
        }
        double nll = double.NaN;
        if (importanceSamples > 0) nll = zw == 0 ? (recon + kl) / n : ImportanceSampledNll(model, data, order, seed, importanceSamples);
        return new TextEvaluationResult(n, tokens, recon / n, kl / n, active, variance, nll, importanceSamples);
    }

    /// <summary>
    /// Mean over sequences of -log (1/K) sum_k w_k with log w_k = -recon(z_k) + log N(z_k; 0, I) - log q(z_k|x): each batch
    /// holds capacity / K sequences, each repeated K times with its own noise; log N(z; 0, I) - log q(z|x) is computed on
    /// the host from mu, log-variance and eps (the 2 pi terms cancel).
    /// </summary>
    static double ImportanceSampledNll(TextVaeModel model, TextDataset data, int[] order, ulong seed, int k)
    {
        if (k > model.Capacity)
            throw new ArgumentOutOfRangeException(nameof(k), k, $"{k} importance samples need a capacity of at least {k} sequences per batch; the model has {model.Capacity}.");
        var backend = model.Backend;
        int zw = model.Config.Latent, perBatch = model.Capacity / k, n = data.Count;
        var indices = new int[perBatch * k];
        var recon = new float[perBatch * k];
        var mu = new float[perBatch * k * zw];
        var logVar = new float[perBatch * k * zw];
        var eps = new float[perBatch * k * zw];
        var logW = new double[k];
        double total = 0;
        ulong offset = 1UL << 40;   // a part of the stream apart from the ELBO's noise
        for (int first = 0; first < n; first += perBatch)
        {
            int sequences = Math.Min(perBatch, n - first), rows = sequences * k;
            for (int s = 0; s < sequences; s++)
                for (int j = 0; j < k; j++) indices[s * k + j] = order[first + s];
            model.LoadBatch(data.Tokens, data.MaxLength, data.Lengths, indices.AsSpan(0, rows));
            backend.RandomNormal(model.Noise.Slice(0, rows * zw), seed, offset);
            offset += (ulong)(rows * zw);
            model.Forward();
            backend.Download(model.ReconPerSample.Slice(0, rows), recon.AsSpan(0, rows));
            backend.Download(model.Mu.Slice(0, rows * zw), mu.AsSpan(0, rows * zw));
            backend.Download(model.LogVar.Slice(0, rows * zw), logVar.AsSpan(0, rows * zw));
            backend.Download(model.Noise.Slice(0, rows * zw), eps.AsSpan(0, rows * zw));
            for (int s = 0; s < sequences; s++)
            {
                double max = double.NegativeInfinity;
                for (int j = 0; j < k; j++)
                {
                    int row = s * k + j;
                    double w = -recon[row];
                    for (int d = 0; d < zw; d++)
                    {
                        int at = row * zw + d;
                        double lv = Math.Clamp(logVar[at], Reparameterization.MinLogVar, Reparameterization.MaxLogVar);
                        double z = mu[at] + Math.Exp(0.5 * lv) * eps[at];
                        w += -0.5 * z * z + 0.5 * (double)eps[at] * eps[at] + 0.5 * lv;
                    }
                    logW[j] = w;
                    max = Math.Max(max, w);
                }
                double sumExp = 0;
                for (int j = 0; j < k; j++) sumExp += Math.Exp(logW[j] - max);
                total += -(max + Math.Log(sumExp / k));
            }
        }
        return total / n;
    }

    internal static void CheckVocabulary(TextVaeModel model, TextDataset data)
    {
        if (data.Vocabulary.Count != model.Config.Vocabulary)
            throw new ArgumentException($"{data.Name} is encoded with a vocabulary of {data.Vocabulary.Count} tokens but the model has {model.Config.Vocabulary}; encode the text with the checkpoint's vocabulary.", nameof(data));
        if (data.MaxLength > model.Config.MaxLength && data.Lengths.Length > 0 && data.Lengths.Max() > model.Config.MaxLength)
            throw new ArgumentException($"{data.Name} has sequences of up to {data.Lengths.Max()} ids but the model takes at most {model.Config.MaxLength}; cap the corpus at the model's length.", nameof(data));
    }
}
