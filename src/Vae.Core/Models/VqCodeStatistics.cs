// What a VQ-VAE's codes say about a dataset (VqVaeModel.Statistics), and the host-side arithmetic behind it: code
// perplexity exp(H(average usage)), the prior over codes fitted from counts per position with add-alpha smoothing, and
// inverse-CDF sampling from it. All in double; nats per image.
namespace Vae.Models;

/// <param name="Images">Images evaluated.</param>
/// <param name="Recon">Reconstruction nats per image.</param>
/// <param name="UniformPriorNats">P ln K: the codes' cost under the uniform prior (the model's "KL").</param>
/// <param name="PriorNats">Mean over images of the sum over positions of -log prior(code), under the fitted prior.</param>
/// <param name="Perplexity">exp of the entropy of the codes' average usage over all positions and images (1 to K).</param>
/// <param name="CodesUsed">Codes chosen at least once.</param>
/// <param name="Codes">Codebook size K.</param>
/// <param name="QuantizationError">Mean over images of the sum over positions of ||z_e - e||^2 (the codebook loss; times the commitment weight, the commitment loss).</param>
/// <param name="Restarts">Dead codes restarted over the training run.</param>
public sealed record VqCodeStatistics(int Images, double Recon, double UniformPriorNats, double PriorNats, double Perplexity, int CodesUsed, int Codes,
    double QuantizationError, long Restarts)
{
    /// <summary>recon + P ln K: an upper bound on -log p(x) under the uniform prior (the model's reported test loss).</summary>
    public double UniformBound => Recon + UniformPriorNats;

    /// <summary>recon + sum over positions of -log prior(code): the same bound under the prior fitted on the training set.</summary>
    public double PriorBound => Recon + PriorNats;

    /// <summary>exp(-sum q log q) with q = usage / total usage (0 log 0 = 0); 0 when nothing was used.</summary>
    public static double CodePerplexity(ReadOnlySpan<long> usage)
    {
        double total = 0;
        foreach (long u in usage) total += u;
        if (total <= 0) return 0;
        double entropy = 0;
        foreach (long u in usage)
        {
            if (u == 0) continue;
            double q = u / total;
            entropy -= q * Math.Log(q);
        }
        return Math.Exp(entropy);
    }

    /// <summary>counts (positions, codes) += one for each code of <paramref name="imageCodes"/> (images, positions).</summary>
    public static void CountPerPosition(ReadOnlySpan<int> imageCodes, int positions, int codes, Span<long> counts)
    {
        if (positions < 1 || imageCodes.Length % positions != 0 || counts.Length != positions * codes)
            throw new ArgumentException($"Expected codes for whole images of {positions} positions and counts of {positions} x {codes}; got {imageCodes.Length} codes and {counts.Length} counts.");
        for (int i = 0; i < imageCodes.Length; i++)
        {
            int code = imageCodes[i];
            if ((uint)code >= (uint)codes) throw new ArgumentOutOfRangeException(nameof(imageCodes), code, $"Code {code} is outside [0, {codes}).");
            counts[(i % positions) * codes + code]++;
        }
    }

    /// <summary>(positions, codes) log((counts + smoothing) / (images + codes * smoothing)): each position's categorical distribution.</summary>
    public static float[] PriorLogProbs(ReadOnlySpan<long> counts, long images, int positions, int codes, double smoothing)
    {
        if (counts.Length != positions * codes) throw new ArgumentException($"Expected {positions} x {codes} counts, got {counts.Length}.", nameof(counts));
        if (!(smoothing > 0)) throw new ArgumentOutOfRangeException(nameof(smoothing), smoothing, "The smoothing must be > 0 so that every code keeps a finite log-probability.");
        var result = new float[counts.Length];
        double denominator = images + codes * smoothing;
        for (int i = 0; i < counts.Length; i++) result[i] = (float)Math.Log((counts[i] + smoothing) / denominator);
        return result;
    }

    /// <summary>Per position, the running sums of exp(logProbs) divided by their total (the last of each position is 1).</summary>
    public static double[] CumulativeProbabilities(ReadOnlySpan<float> logProbs, int positions, int codes)
    {
        if (codes < 1 || logProbs.Length != positions * codes) throw new ArgumentException($"Expected {positions} x {codes} log-probabilities, got {logProbs.Length}.", nameof(logProbs));
        var result = new double[logProbs.Length];
        for (int j = 0; j < positions; j++)
        {
            var row = result.AsSpan(j * codes, codes);
            double sum = 0;
            for (int c = 0; c < codes; c++) row[c] = sum += Math.Exp(logProbs[j * codes + c]);
            if (!(sum > 0 && double.IsFinite(sum)))
                throw new InvalidDataException($"The code prior of position {j} does not sum to a positive finite probability ({sum}); refit it (train another epoch).");
            for (int c = 0; c < codes; c++) row[c] /= sum;
        }
        return result;
    }

    /// <summary>The first index whose cumulative probability exceeds <paramref name="u"/> in [0, 1) (the last index if rounding leaves none).</summary>
    public static int InverseCdf(ReadOnlySpan<double> cumulative, double u)
    {
        for (int c = 0; c < cumulative.Length; c++)
            if (u < cumulative[c]) return c;
        return cumulative.Length - 1;
    }
}
