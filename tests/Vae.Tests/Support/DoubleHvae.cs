// The hierarchical VAE in double precision, written straight from the formulas with plain loops, as the oracle of the
// HVAE tests: the four networks by their state_dict names (enc1.i, mu1, logvar1, enc2.i, mu2, logvar2, prior.i,
// prior_mu, prior_logvar, dec.i, out), the training objective with and without free bits, and the importance weight
// log p(x|z1) + log p(z1|z2) + log p(z2) - log q(z1|x) - log q(z2|z1). It reads a copy of the model's flat parameters
// through NamedTensors, so a test can perturb Parameters for finite differences.
using Vae.Diagnostics;
using Vae.Models;

namespace Vae.Tests.Support;

public sealed class DoubleHvae(HvaeConfig config, IReadOnlyList<NamedTensor> tensors, float[] parameters)
{
    readonly DoubleLayers layers = new(tensors, parameters);

    public double[] Parameters => layers.Parameters;

    /// <summary>The parts of the batch-mean objective: recon, KL1 and KL2 (nats per image), and each dimension's batch-mean KL.</summary>
    public sealed record Terms(double Recon, double Kl1, double Kl2, double[] Kl1PerDimension, double[] Kl2PerDimension);

    public (double[] Mu, double[] LogVar) Encode1(double[] x, int rows)
    {
        var (h, w) = layers.Hidden("enc1", x, rows, config.Input, config.Hidden);
        return (layers.Linear("mu1", h, rows, w, config.Latent1), layers.Linear("logvar1", h, rows, w, config.Latent1));
    }

    public (double[] Mu, double[] LogVar) Encode2(double[] z1, int rows)
    {
        var (h, w) = layers.Hidden("enc2", z1, rows, config.Latent1, config.Hidden2);
        return (layers.Linear("mu2", h, rows, w, config.Latent2), layers.Linear("logvar2", h, rows, w, config.Latent2));
    }

    public (double[] Mu, double[] LogVar) Prior(double[] z2, int rows)
    {
        var (h, w) = layers.Hidden("prior", z2, rows, config.Latent2, config.Hidden2.Reverse().ToArray());
        return (layers.Linear("prior_mu", h, rows, w, config.Latent1), layers.Linear("prior_logvar", h, rows, w, config.Latent1));
    }

    public double[] DecodeLogits(double[] z1, int rows)
    {
        var (h, w) = layers.Hidden("dec", z1, rows, config.Latent1, config.Hidden.Reverse().ToArray());
        return layers.Linear("out", h, rows, w, config.Input);
    }

    static double[] Sample(double[] mu, double[] logVar, ReadOnlySpan<float> eps)
    {
        var z = new double[mu.Length];
        for (int i = 0; i < z.Length; i++) z[i] = mu[i] + Math.Exp(0.5 * logVar[i]) * eps[i];
        return z;
    }

    /// <summary>The forward pass on images x (rows, D) with noise eps1 (rows, L1) and eps2 (rows, L2).</summary>
    public Terms Forward(float[] x, float[] eps1, float[] eps2, int rows)
    {
        int d = config.Input, l1 = config.Latent1, l2 = config.Latent2;
        var input = x.Take(rows * d).Select(v => (double)v).ToArray();
        var (mu1, lv1) = Encode1(input, rows);
        var z1 = Sample(mu1, lv1, eps1);
        var (mu2, lv2) = Encode2(z1, rows);
        var z2 = Sample(mu2, lv2, eps2);
        var (mp, lp) = Prior(z2, rows);
        var logits = DecodeLogits(z1, rows);
        double recon = 0;
        for (int i = 0; i < rows * d; i++)
        {
            double t = x[i], a = logits[i];
            if (config.Reconstruction == ReconstructionLoss.Bce) recon += Math.Max(a, 0) - a * t + Math.Log(1 + Math.Exp(-Math.Abs(a)));
            else
            {
                double p = 1 / (1 + Math.Exp(-a));
                recon += (p - t) * (p - t);
            }
        }
        var kl1 = new double[l1];
        var kl2 = new double[l2];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < l1; c++)
            {
                int i = r * l1 + c;
                double diff = mu1[i] - mp[i];
                kl1[c] += 0.5 * (lp[i] - lv1[i] + (Math.Exp(lv1[i]) + diff * diff) * Math.Exp(-lp[i]) - 1) / rows;
            }
            for (int c = 0; c < l2; c++)
            {
                int i = r * l2 + c;
                kl2[c] += -0.5 * (1 + lv2[i] - mu2[i] * mu2[i] - Math.Exp(lv2[i])) / rows;
            }
        }
        return new Terms(recon / rows, kl1.Sum(), kl2.Sum(), kl1, kl2);
    }

    /// <summary>The training objective (batch mean): recon + klWeight * (KL1 + KL2), or with free bits each dimension's KL floored.</summary>
    public double Objective(float[] x, float[] eps1, float[] eps2, int rows, double klWeight, double freeBits)
    {
        var t = Forward(x, eps1, eps2, rows);
        if (freeBits <= 0) return t.Recon + klWeight * (t.Kl1 + t.Kl2);
        return t.Recon + klWeight * (t.Kl1PerDimension.Sum(k => Math.Max(freeBits, k)) + t.Kl2PerDimension.Sum(k => Math.Max(freeBits, k)));
    }

    static double LogNormal(double value, double mean, double logVar) =>
        -0.5 * (Math.Log(2 * Math.PI) + logVar + (value - mean) * (value - mean) * Math.Exp(-logVar));

    /// <summary>log p(x | z1) + log p(z1 | z2) + log p(z2) - log q(z1 | x) - log q(z2 | z1) for one image and one noise pair.</summary>
    public double LogWeight(ReadOnlySpan<float> image, ReadOnlySpan<float> eps1, ReadOnlySpan<float> eps2)
    {
        var x = image.ToArray().Select(v => (double)v).ToArray();
        var (mu1, lv1) = Encode1(x, 1);
        var z1 = Sample(mu1, lv1, eps1);
        var (mu2, lv2) = Encode2(z1, 1);
        var z2 = Sample(mu2, lv2, eps2);
        var (mp, lp) = Prior(z2, 1);
        var logits = DecodeLogits(z1, 1);
        double logLikelihood = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            double a = logits[i], t = x[i];
            if (config.Reconstruction == ReconstructionLoss.Bce) logLikelihood += t * a - Math.Log(1 + Math.Exp(a));
            else logLikelihood += LogNormal(t, 1 / (1 + Math.Exp(-a)), Math.Log(0.5));
        }
        double logPrior1 = 0, logPosterior1 = 0, logPrior2 = 0, logPosterior2 = 0;
        for (int j = 0; j < z1.Length; j++)
        {
            logPrior1 += LogNormal(z1[j], mp[j], lp[j]);
            logPosterior1 += LogNormal(z1[j], mu1[j], lv1[j]);
        }
        for (int j = 0; j < z2.Length; j++)
        {
            logPrior2 += LogNormal(z2[j], 0, 0);
            logPosterior2 += LogNormal(z2[j], mu2[j], lv2[j]);
        }
        return logLikelihood + logPrior1 + logPrior2 - logPosterior1 - logPosterior2;
    }
}
