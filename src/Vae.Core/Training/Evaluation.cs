// Test-set metrics of a VAE: reconstruction, KL and their sum (the negative ELBO with one posterior sample per image,
// as PyTorch's recipe computes it) in nats per image, plus the latent statistics of the posterior means: their
// variance per dimension (averaged), the number of active units (variance > 0.01, Burda et al.) and the mean
// absolute correlation between pairs of latent dimensions.
using Vae.Models;

namespace Vae.Training;

/// <summary>One latent group's share of the evaluation: its KL nats per image, mean variance of its posterior means, active units.</summary>
public sealed record LatentGroupStats(string Name, int Width, double Kl, double LatentVariance, int ActiveUnits);

/// <summary>Test-set metrics in nats per image; the latent statistics run over all latent groups together, and per group in <see cref="Groups"/>.</summary>
public sealed record EvaluationResult(int Images, double Loss, double Recon, double Kl, double LatentVariance, int ActiveUnits, double MeanAbsLatentCorrelation)
{
    public IReadOnlyList<LatentGroupStats> Groups { get; init; } = [];
}

public static class Evaluation
{
    /// <summary>The noise stream of evaluation: fixed, so a model's test loss is reproducible and independent of the batch size.</summary>
    public const ulong NoiseSeed = 0x7E57_5EED;

    /// <summary>Evaluates <paramref name="model"/> on every image of <paramref name="data"/> in order.</summary>
    /// <param name="perImage">If not null, receives (Images, 2): recon and KL nats of each image.</param>
    public static EvaluationResult Run(ITrainableModel model, DeviceDataset data, float[]? perImage)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        var backend = model.Backend;
        var groups = model.LatentGroups;
        int l = groups.Sum(g => g.Width), capacity = model.Capacity, noise = model.NoisePerRow;
        if (data.Pixels != model.Config.Input)
            throw new ArgumentException($"The data has {data.Pixels} pixels per image but the model expects {model.Config.Input}.", nameof(data));
        if (model.Classes > 0 && data.Classes != model.Classes)
            throw new ArgumentException($"The model is conditioned on {model.Classes} classes but the data carries {data.Classes}; load the DeviceDataset with its labels.", nameof(data));
        if (perImage is not null && perImage.Length != 2 * data.Count)
            throw new ArgumentException($"perImage needs {2 * data.Count} floats.", nameof(perImage));
        var totals = new float[2];
        var groupKl = new float[1];
        var groupKlSum = new double[groups.Count];
        var groupMeans = new float[capacity * groups.Select(g => g.Width).DefaultIfEmpty(0).Max()];   // one group's means of one batch
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
            if (model.Classes > 0)
                backend.Copy(data.OneHotLabels.Slice(first * data.Classes, rows * data.Classes), model.Condition.Slice(0, rows * data.Classes));
            if (noise > 0) backend.RandomNormal(model.Noise.Slice(0, rows * noise), NoiseSeed, (ulong)first * (ulong)noise);
            model.Forward(rows);
            backend.Download<float>(model.LossTotals, totals);
            reconSum += totals[0];
            klSum += totals[1];
            // The means of all groups side by side: row r of the concatenation is [group 0 | group 1 | ...].
            int column = 0;
            for (int g = 0; g < groups.Count; g++)
            {
                int w = groups[g].Width;
                backend.Download<float>(groups[g].KlTotal, groupKl);
                groupKlSum[g] += groupKl[0];
                var part = groupMeans.AsSpan(0, rows * w);
                backend.Download<float>(groups[g].Means.Slice(0, rows * w), part);
                for (int r = 0; r < rows; r++) part.Slice(r * w, w).CopyTo(mu.AsSpan(r * l + column, w));
                column += w;
            }
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
        for (int a = 0; a < l; a++)
        {
            double mean = sum[a] / n;
            variance[a] = Math.Max(0, cross[a * l + a] / n - mean * mean);
        }
        var stats = new List<LatentGroupStats>(groups.Count);
        int offset = 0;
        foreach (var (g, i) in groups.Select((g, i) => (g, i)))
        {
            var v = variance.AsSpan(offset, g.Width);
            int groupActive = 0;
            foreach (double x in v) if (x > 0.01) groupActive++;
            stats.Add(new LatentGroupStats(g.Name, g.Width, groupKlSum[i] / n, g.Width > 0 ? Sum(v) / g.Width : 0, groupActive));
            offset += g.Width;
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
        return new EvaluationResult(n, recMean + model.Config.Beta * klMean, recMean, klMean, l > 0 ? Sum(variance) / l : 0,
            stats.Sum(s => s.ActiveUnits), pairs > 0 ? corrSum / pairs : 0) { Groups = stats };
    }

    static double Sum(ReadOnlySpan<double> values)
    {
        double s = 0;
        foreach (double v in values) s += v;
        return s;
    }
}
