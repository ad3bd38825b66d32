// Test-set metrics of a VAE: reconstruction, KL and their sum (the negative ELBO with one posterior sample per image,
// as PyTorch's recipe computes it) in nats per image, plus the latent statistics of the posterior means: their
// variance per dimension (averaged), the number of active units (variance > 0.01, Burda et al.) and the mean
// absolute correlation between pairs of latent dimensions.
using Vae.Models;

namespace Vae.Training;

public sealed record EvaluationResult(int Images, double Loss, double Recon, double Kl, double LatentVariance, int ActiveUnits, double MeanAbsLatentCorrelation);

public static class Evaluation
{
    /// <summary>The noise stream of evaluation: fixed, so a model's test loss is reproducible and independent of the batch size.</summary>
    public const ulong NoiseSeed = 0x7E57_5EED;

    /// <summary>Evaluates <paramref name="model"/> on every image of <paramref name="data"/> in order.</summary>
    /// <param name="perImage">If not null, receives (Images, 2): recon and KL nats of each image.</param>
    public static EvaluationResult Run(VaeModel model, DeviceDataset data, float[]? perImage)
    {
        var backend = model.Backend;
        int l = model.Config.Latent, capacity = model.Capacity;
        if (data.Pixels != model.Config.Input)
            throw new ArgumentException($"The data has {data.Pixels} pixels per image but the model expects {model.Config.Input}.", nameof(data));
        if (perImage is not null && perImage.Length != 2 * data.Count)
            throw new ArgumentException($"perImage needs {2 * data.Count} floats.", nameof(perImage));
        var totals = new float[2];
        var mu = new float[capacity * l];
        var recon = new float[capacity];
        var kl = new float[capacity];
        var sum = new double[l];
        var cross = new double[l * l];
        double reconSum = 0, klSum = 0;
        for (int first = 0; first < data.Count; first += capacity)
        {
            int rows = Math.Min(capacity, data.Count - first);
            backend.Copy(data.Images.Slice(first * data.Pixels, rows * data.Pixels), model.Input.Slice(0, rows * data.Pixels));
            backend.RandomNormal(model.Eps.Slice(0, rows * l), NoiseSeed, (ulong)first * (ulong)l);
            model.Forward(rows);
            backend.Download<float>(model.LossTotals, totals);
            reconSum += totals[0];
            klSum += totals[1];
            backend.Download<float>(model.Mu.Slice(0, rows * l), mu.AsSpan(0, rows * l));
            if (perImage is not null)
            {
                backend.Download<float>(model.ReconPerSample.Slice(0, rows), recon.AsSpan(0, rows));
                backend.Download<float>(model.KlPerSample.Slice(0, rows), kl.AsSpan(0, rows));
                for (int i = 0; i < rows; i++)
                {
                    perImage[2 * (first + i)] = recon[i];
                    perImage[2 * (first + i) + 1] = kl[i];
                }
            }
            for (int r = 0; r < rows; r++)
            {
                var m = mu.AsSpan(r * l, l);
                for (int a = 0; a < l; a++)
                {
                    sum[a] += m[a];
                    for (int b = 0; b <= a; b++) cross[a * l + b] += (double)m[a] * m[b];
                }
            }
        }
        int n = data.Count;
        var variance = new double[l];
        double varianceMean = 0;
        int active = 0;
        for (int a = 0; a < l; a++)
        {
            double mean = sum[a] / n;
            variance[a] = Math.Max(0, cross[a * l + a] / n - mean * mean);
            varianceMean += variance[a] / l;
            if (variance[a] > 0.01) active++;
        }
        double corrSum = 0;
        int pairs = 0;
        for (int a = 0; a < l; a++)
            for (int b = 0; b < a; b++)
            {
                double cov = cross[a * l + b] / n - sum[a] / n * (sum[b] / n);
                double denominator = Math.Sqrt(variance[a] * variance[b]);
                if (denominator > 0) { corrSum += Math.Abs(cov / denominator); pairs++; }
            }
        double recMean = reconSum / n, klMean = klSum / n;
        return new EvaluationResult(n, recMean + model.Config.Beta * klMean, recMean, klMean, varianceMean, active, pairs > 0 ? corrSum / pairs : 0);
    }
}
