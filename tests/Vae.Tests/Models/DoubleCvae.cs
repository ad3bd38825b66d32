// The conditional VAE in double precision, straight from the formulas, for the gradient and importance-sampling
// checks: a CVAE is a VAE encoder that reads [x | y] and a VAE decoder that reads [z | y], so the two networks are
// DoubleVaeLoss's plain loops (Diagnostics/GradientCheck.cs) over shapes with the label's width added; the joins, the
// losses and the densities are written here.
using Vae.Diagnostics;
using Vae.Models;

namespace Vae.Tests.Models;

public sealed class DoubleCvae
{
    readonly CvaeConfig config;
    readonly DoubleVaeLoss encoder, decoder;   // the same parameters, read as an encoder of D + C inputs and a decoder of L + C latents

    public DoubleCvae(CvaeConfig config, IReadOnlyList<NamedTensor> tensors, float[] parameters)
    {
        this.config = config;
        int c = config.Classes;
        encoder = new DoubleVaeLoss(new VaeConfig(config.Input + c, config.Hidden, config.Latent), tensors, parameters);
        decoder = new DoubleVaeLoss(new VaeConfig(config.Input, config.Hidden, config.Latent + c), tensors, parameters);
    }

    /// <summary>Parameter <paramref name="index"/> of the flat buffer (both networks' copies).</summary>
    public double this[int index]
    {
        get => encoder.Parameters[index];
        set
        {
            encoder.Parameters[index] = value;
            decoder.Parameters[index] = value;
        }
    }

    /// <summary>Row r of a (rows, a) and row r of b (rows, bCols) side by side.</summary>
    static T[] Join<T>(ReadOnlySpan<T> a, int aCols, ReadOnlySpan<T> b, int bCols, int rows)
    {
        var joined = new T[rows * (aCols + bCols)];
        for (int r = 0; r < rows; r++)
        {
            a.Slice(r * aCols, aCols).CopyTo(joined.AsSpan(r * (aCols + bCols)));
            b.Slice(r * bCols, bCols).CopyTo(joined.AsSpan(r * (aCols + bCols) + aCols));
        }
        return joined;
    }

    /// <summary>mu and log-variance (rows, L) of q(z | x, y) for images x (rows, D) with one-hot labels y (rows, C).</summary>
    public (double[] Mu, double[] LogVar) Encode(ReadOnlySpan<float> x, ReadOnlySpan<float> y, int rows) =>
        encoder.Encode(Join(x, config.Input, y, config.Classes, rows), rows);

    /// <summary>The decoder's logits (rows, D) at latents z (rows, L) under labels y (rows, C).</summary>
    public double[] DecodeLogits(double[] z, ReadOnlySpan<float> y, int rows)
    {
        var yd = new double[y.Length];
        for (int i = 0; i < y.Length; i++) yd[i] = y[i];
        return decoder.DecodeLogits(Join<double>(z, config.Latent, yd, config.Classes, rows), rows);
    }

    /// <summary>Reconstruction nats of image x (D) from logits: BCE from logits, or squared error of sigmoid(logits).</summary>
    public double Reconstruction(ReadOnlySpan<float> x, ReadOnlySpan<double> logits)
    {
        double sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            double a = logits[i], t = x[i];
            if (config.Reconstruction == ReconstructionLoss.Bce) sum += Math.Max(a, 0) - a * t + Math.Log(1 + Math.Exp(-Math.Abs(a)));
            else
            {
                double p = 1 / (1 + Math.Exp(-a));
                sum += (p - t) * (p - t);
            }
        }
        return sum;
    }

    /// <summary>The batch-mean KL of each latent dimension (L).</summary>
    public static double[] KlPerDimension(double[] mu, double[] logVar, int rows, int latent)
    {
        var kl = new double[latent];
        for (int i = 0; i < mu.Length; i++) kl[i % latent] += -0.5 * (1 + logVar[i] - mu[i] * mu[i] - Math.Exp(logVar[i])) / rows;
        return kl;
    }

    /// <summary>
    /// The training objective in nats per image: (sum of recon) / rows + klWeight * sum over latents j of max(freeBits,
    /// KL_j), KL_j the batch-mean KL of latent j (freeBits 0: the plain KL, since every KL_j &gt;= 0).
    /// </summary>
    public double Loss(float[] x, float[] y, float[] eps, int rows, float klWeight, double freeBits = 0)
    {
        var (mu, logVar) = Encode(x, y, rows);
        var z = new double[mu.Length];
        for (int i = 0; i < z.Length; i++) z[i] = mu[i] + Math.Exp(0.5 * logVar[i]) * eps[i];
        var logits = DecodeLogits(z, y, rows);
        double recon = 0;
        for (int r = 0; r < rows; r++) recon += Reconstruction(x.AsSpan(r * config.Input, config.Input), logits.AsSpan(r * config.Input, config.Input));
        double kl = KlPerDimension(mu, logVar, rows, config.Latent).Sum(k => Math.Max(freeBits, k));
        return recon / rows + klWeight * kl;
    }

    /// <summary>log p(x | z, y) + log N(z; 0, I) - log q(z | x, y) at z = mu + sigma * eps, for one image.</summary>
    public double LogWeight(ReadOnlySpan<float> x, ReadOnlySpan<float> y, double[] eps)
    {
        var (mu, logVar) = Encode(x, y, 1);
        var z = new double[mu.Length];
        double logPrior = 0, logPosterior = 0;
        for (int j = 0; j < z.Length; j++)
        {
            double sigma = Math.Exp(0.5 * logVar[j]);
            z[j] = mu[j] + sigma * eps[j];
            logPrior += -0.5 * (Math.Log(2 * Math.PI) + z[j] * z[j]);
            logPosterior += -0.5 * Math.Log(2 * Math.PI) - Math.Log(sigma) - 0.5 * eps[j] * eps[j];
        }
        var logits = DecodeLogits(z, y, 1);
        double logLikelihood = config.Reconstruction == ReconstructionLoss.Bce
            ? -Reconstruction(x, logits)
            : -Reconstruction(x, logits) - 0.5 * config.Input * Math.Log(Math.PI);   // the Gaussian of variance 1/2 around sigmoid(logits)
        return logLikelihood + logPrior - logPosterior;
    }
}
