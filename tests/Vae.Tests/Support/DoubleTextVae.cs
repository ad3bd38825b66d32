// An independent double-precision twin of Models/Text/TextVaeModel for the text tests, written per sequence from the
// model's documented semantics (not with masks, batches or the device code): the bidirectional encoder is
// Support/DoubleLstm over the sequence's ids, [h_fwd | h_bwd] -> latent -> mu, logvar -> z = mu + exp(clamp(logvar)/2) eps;
// decoder_init(z) = [h0 | c0]; the one-layer decoder steps through the sequence one token at a time, reading
// [embedding(token) | z], where a fed-back step reads the arg-max of its own previous logits; recon = the summed
// cross-entropy of the len - 1 targets, KL = -0.5 sum (1 + logvar - mu^2 - exp(logvar)). Latent 0 is the language
// model (no encoder, zero initial state). Parameters are one flat array laid out like the model's NamedTensors, so a
// test perturbs one coordinate and differentiates by central differences in double.
using Vae.Data.Text;
using Vae.Models;
using Vae.Models.Text;

namespace Vae.Tests.Support;

/// <summary>What one forward of the twin gives: per-sequence losses, posterior moments, and the tokens the decoder fed back.</summary>
/// <param name="FedBack">Per (decoder step, sequence), time-major: the token fed back at that step (-1 where the step read the data).</param>
/// <param name="SmallestMargin">Over the fed-back choices: the smallest gap between the largest and the second-largest logit.</param>
public sealed record TextTwinResult(double[] Recon, double[] Kl, double[] Mu, double[] LogVar, int[] FedBack, double SmallestMargin)
{
    public double ReconSum => Recon.Sum();
    public double KlSum => Kl.Sum();

    /// <summary>Per latent dimension, the batch-mean KL (what free bits floors).</summary>
    public double[] KlPerDimension(int latent)
    {
        int rows = Recon.Length;
        var perDimension = new double[latent];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < latent; c++)
            {
                double m = Mu[r * latent + c], lv = LogVar[r * latent + c];
                perDimension[c] += -0.5 * (1 + lv - m * m - Math.Exp(lv)) / rows;
            }
        return perDimension;
    }

    /// <summary>The model's objective: mean recon + klWeight * (mean KL, or with free bits the sum over dimensions of max(freeBits, KL_c)).</summary>
    public double Objective(int latent, double klWeight, double freeBits)
    {
        int rows = Recon.Length;
        double kl = freeBits > 0 ? KlPerDimension(latent).Sum(k => Math.Max(freeBits, k)) : KlSum / rows;
        return ReconSum / rows + klWeight * kl;
    }
}

public sealed class DoubleTextVae(TextVaeConfig config, IReadOnlyList<NamedTensor> tensors, double[] parameters)
{
    const double MinLogVar = Vae.Reparameterization.MinLogVar, MaxLogVar = Vae.Reparameterization.MaxLogVar;

    public TextVaeConfig Config { get; } = config;

    /// <summary>The flat parameters (the model's state_dict order and offsets); tests perturb them in place.</summary>
    public double[] Parameters { get; } = parameters;

    double[] Tensor(string name)
    {
        foreach (var t in tensors)
            if (t.Name == name) return Parameters.AsSpan(t.Offset, t.Length).ToArray();
        throw new ArgumentException($"No tensor '{name}'.", nameof(name));
    }

    /// <summary>The tensors named prefix + x as x -> values (DoubleLstm's parameter names).</summary>
    Dictionary<string, double[]> Prefixed(string prefix)
    {
        var named = new Dictionary<string, double[]>();
        foreach (var t in tensors)
            if (t.Name.StartsWith(prefix, StringComparison.Ordinal)) named[t.Name[prefix.Length..]] = Parameters.AsSpan(t.Offset, t.Length).ToArray();
        return named;
    }

    /// <summary>
    /// The forward pass of sequences <paramref name="indices"/> of a row-major id table (<paramref name="stride"/> ids per
    /// sequence, as TextVaeModel.LoadBatch takes it), with noise (rows, Latent) and the fed-back steps of
    /// <paramref name="feedBack"/> (index = decoder step; empty = teacher forcing throughout).
    /// </summary>
    public TextTwinResult Forward(int[] tokens, int stride, int[] lengths, int[] indices, float[] noise, bool[]? feedBack = null)
    {
        int rows = indices.Length, e = Config.Embedding, h = Config.Hidden, zw = Config.Latent, v = Config.Vocabulary;
        int longest = indices.Max(i => lengths[i]), s = longest - 1;
        var embedding = Tensor("embedding.weight");
        var recon = new double[rows];
        var kl = new double[rows];
        var mu = new double[rows * zw];
        var logVar = new double[rows * zw];
        var fedBack = new int[s * rows];
        Array.Fill(fedBack, -1);
        double margin = double.PositiveInfinity;
        var encoderParameters = Config.IsLanguageModel ? null : Prefixed("encoder.");
        var decoderParameters = Prefixed("decoder.");
        var latentWeight = Config.IsLanguageModel ? [] : Tensor("latent.weight");
        var latentBias = Config.IsLanguageModel ? [] : Tensor("latent.bias");
        var initWeight = Config.IsLanguageModel ? [] : Tensor("decoder_init.weight");
        var initBias = Config.IsLanguageModel ? [] : Tensor("decoder_init.bias");
        var outputWeight = Tensor("output.weight");
        var outputBias = Tensor("output.bias");
        var encoder = new DoubleLstm(e, h, Config.EncoderLayers, bidirectional: true);

        for (int r = 0; r < rows; r++)
        {
            int sequence = indices[r], length = lengths[sequence];
            var ids = tokens.AsSpan(sequence * stride, length).ToArray();
            var z = new double[zw];
            var state = new double[h];
            var cell = new double[h];
            if (!Config.IsLanguageModel)
            {
                var x = new double[length * e];
                for (int t = 0; t < length; t++) Array.Copy(embedding, ids[t] * e, x, t * e, e);
                var (_, hN, _) = encoder.Forward(encoderParameters!, x, null, null, null, length, 1);
                int last = 2 * (Config.EncoderLayers - 1);
                var final = new double[2 * h];
                Array.Copy(hN, last * h, final, 0, h);
                Array.Copy(hN, (last + 1) * h, final, h, h);
                var heads = Affine(latentWeight, latentBias, final, 2 * zw);
                for (int c = 0; c < zw; c++)
                {
                    double m = heads[c], lv = heads[zw + c];
                    mu[r * zw + c] = m;
                    logVar[r * zw + c] = lv;
                    z[c] = m + Math.Exp(0.5 * Math.Clamp(lv, MinLogVar, MaxLogVar)) * noise[r * zw + c];
                    kl[r] += -0.5 * (1 + lv - m * m - Math.Exp(lv));
                }
                var init = Affine(initWeight, initBias, z, 2 * h);
                Array.Copy(init, 0, state, 0, h);
                Array.Copy(init, h, cell, 0, h);
            }
            double[] previousLogits = [];
            for (int t = 0; t < length - 1; t++)
            {
                int token = ids[t];
                if (t > 0 && feedBack is not null && t < feedBack.Length && feedBack[t])
                {
                    (token, double gap) = ArgMax(previousLogits);
                    fedBack[t * rows + r] = token;
                    margin = Math.Min(margin, gap);
                }
                var input = new double[e + zw];
                Array.Copy(embedding, token * e, input, 0, e);
                Array.Copy(z, 0, input, e, zw);
                (state, cell) = LstmStep(decoderParameters, input, state, cell);
                var logits = Affine(outputWeight, outputBias, state, v);
                recon[r] += LogSumExp(logits) - logits[ids[t + 1]];
                previousLogits = logits;
            }
        }
        return new TextTwinResult(recon, kl, mu, logVar, fedBack, margin);
    }

    /// <summary>
    /// Greedy decoding from each latent row (count rows; a language model passes count and no latents): from &lt;bos&gt;, the
    /// arg-max token at each step until &lt;eos&gt; or MaxLength - 1 steps; the tokens without &lt;eos&gt;, and the smallest
    /// gap between the two largest logits over every choice made.
    /// </summary>
    public (int[][] Sequences, double SmallestMargin) GreedyDecode(float[] latents, int count)
    {
        int e = Config.Embedding, h = Config.Hidden, zw = Config.Latent, v = Config.Vocabulary;
        var embedding = Tensor("embedding.weight");
        var decoderParameters = Prefixed("decoder.");
        var outputWeight = Tensor("output.weight");
        var outputBias = Tensor("output.bias");
        var result = new int[count][];
        double margin = double.PositiveInfinity;
        for (int r = 0; r < count; r++)
        {
            var z = new double[zw];
            for (int c = 0; c < zw; c++) z[c] = latents[r * zw + c];
            var state = new double[h];
            var cell = new double[h];
            if (!Config.IsLanguageModel)
            {
                var init = Affine(Tensor("decoder_init.weight"), Tensor("decoder_init.bias"), z, 2 * h);
                Array.Copy(init, 0, state, 0, h);
                Array.Copy(init, h, cell, 0, h);
            }
            var produced = new List<int>();
            int token = Vocabulary.Bos;
            for (int t = 0; t < Config.MaxLength - 1; t++)
            {
                var input = new double[e + zw];
                Array.Copy(embedding, token * e, input, 0, e);
                Array.Copy(z, 0, input, e, zw);
                (state, cell) = LstmStep(decoderParameters, input, state, cell);
                (token, double gap) = ArgMax(Affine(outputWeight, outputBias, state, v));
                margin = Math.Min(margin, gap);
                if (token == Vocabulary.Eos) break;
                produced.Add(token);
            }
            result[r] = [.. produced];
        }
        return (result, margin);
    }

    /// <summary>One step of a one-layer LSTM (gates i, f, g, o; nn.LSTM's names without prefix, layer 0).</summary>
    (double[] H, double[] C) LstmStep(Dictionary<string, double[]> p, double[] input, double[] hPrev, double[] cPrev)
    {
        int h = Config.Hidden, width = input.Length;
        var wIh = p["weight_ih_l0"];
        var wHh = p["weight_hh_l0"];
        var bIh = p["bias_ih_l0"];
        var bHh = p["bias_hh_l0"];
        var hNext = new double[h];
        var cNext = new double[h];
        var gates = new double[4 * h];
        for (int g = 0; g < 4 * h; g++)
        {
            double sum = bIh[g] + bHh[g];
            for (int q = 0; q < width; q++) sum += wIh[g * width + q] * input[q];
            for (int q = 0; q < h; q++) sum += wHh[g * h + q] * hPrev[q];
            gates[g] = sum;
        }
        for (int j = 0; j < h; j++)
        {
            double i = Sigmoid(gates[j]), f = Sigmoid(gates[h + j]), g = Math.Tanh(gates[2 * h + j]), o = Sigmoid(gates[3 * h + j]);
            cNext[j] = f * cPrev[j] + i * g;
            hNext[j] = o * Math.Tanh(cNext[j]);
        }
        return (hNext, cNext);
    }

    /// <summary>W x + b for W (outputs, x.Length).</summary>
    static double[] Affine(double[] weight, double[] bias, double[] x, int outputs)
    {
        var y = new double[outputs];
        for (int o = 0; o < outputs; o++)
        {
            double sum = bias[o];
            for (int i = 0; i < x.Length; i++) sum += weight[o * x.Length + i] * x[i];
            y[o] = sum;
        }
        return y;
    }

    /// <summary>The first largest element and its lead over the runner-up.</summary>
    public static (int Index, double Margin) ArgMax(ReadOnlySpan<double> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        double second = double.NegativeInfinity;
        for (int i = 0; i < values.Length; i++) if (i != best) second = Math.Max(second, values[i]);
        return (best, values[best] - second);
    }

    static double LogSumExp(double[] x)
    {
        double max = x.Max(), sum = 0;
        foreach (double value in x) sum += Math.Exp(value - max);
        return max + Math.Log(sum);
    }

    static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));
}
