// Small VQ-VAEs for the model tests: seeded parameters (weights and biases perturbed so no bias is zero, codebook
// uniform in [-0.6, 0.6], about the spread of a small random encoder's outputs), images uploaded into the model's input,
// and the host copies of both; plus a double-precision twin of the network (DoubleVqVae) written from the formulas.
using Vae.Models;

namespace Vae.Tests.Support;

public static class VqVaeSetup
{
    /// <summary>A model of capacity batch + 2 (so the rows &lt; capacity paths run) holding seeded parameters and images (batch, Input) in [0, 1] with exact 0s and 1s.</summary>
    public static VqVaeModel Prepare(IComputeBackend backend, VqVaeConfig config, int batch, int seed, out float[] images, out float[] parameters)
    {
        var model = new VqVaeModel(backend, config, batch + 2);
        model.InitializeParameters((ulong)seed);
        var rng = new System.Random(seed);
        images = new float[batch * config.Input];
        for (int i = 0; i < images.Length; i++) images[i] = i % 7 == 0 ? 0f : i % 11 == 0 ? 1f : rng.NextSingle();
        backend.Upload<float>(images, model.Input.Slice(0, images.Length));
        parameters = new float[model.Parameters.Layout.TotalLength];
        backend.Download<float>(model.Parameters.Parameters, parameters);
        foreach (var t in model.NamedTensors)
        {
            bool layer = t.Name.StartsWith("enc.", StringComparison.Ordinal) || t.Name.StartsWith("dec.", StringComparison.Ordinal);
            for (int i = t.Offset; i < t.Offset + t.Length; i++)
            {
                if (layer) parameters[i] += 0.05f * (rng.NextSingle() - 0.5f);
                else if (t.Name == "codebook.weight") parameters[i] = 1.2f * (rng.NextSingle() - 0.5f);
            }
        }
        backend.Upload<float>(parameters, model.Parameters.Parameters);
        return model;
    }

    public static float[] Download(IComputeBackend backend, DeviceSpan<float> view)
    {
        var host = new float[view.Length];
        backend.Download(view, host);
        return host;
    }

    public static int[] Download(IComputeBackend backend, DeviceSpan<int> view)
    {
        var host = new int[view.Length];
        backend.Download(view, host);
        return host;
    }
}

/// <summary>The VQ-VAE's network in double precision over a copy of the flat parameter buffer (indexed by the model's named tensors).</summary>
public sealed class DoubleVqVae(VqVaeConfig config, IReadOnlyList<Vae.Models.NamedTensor> tensors, float[] parameters)
{
    readonly Vae.Diagnostics.DoubleLayers layers = new(tensors, parameters);

    public VqVaeConfig Config => config;
    public double[] Parameters => layers.Parameters;

    /// <summary>The (K, D) codebook as doubles.</summary>
    public double[] Codebook()
    {
        var t = layers["codebook.weight"];
        return Parameters.AsSpan(t.Offset, t.Length).ToArray();
    }

    /// <summary>Layers NAME.0 .. NAME.(n-1) mapping sizes[i] -> sizes[i + 1], ReLU after all but the last.</summary>
    double[] Mlp(string name, double[] x, int rows, int[] sizes)
    {
        var (h, width) = layers.Hidden(name, x, rows, sizes[0], sizes[1..^1]);
        return layers.Linear($"{name}.{sizes.Length - 2}", h, rows, width, sizes[^1]);
    }

    /// <summary>z_e (rows, P*D) of the first rows images.</summary>
    public double[] Encode(float[] images, int rows) =>
        Mlp("enc", images.Take(rows * config.Input).Select(v => (double)v).ToArray(), rows, [config.Input, .. config.Hidden, config.LatentWidth]);

    /// <summary>Logits (rows, Input) of decoder inputs (rows, P*D).</summary>
    public double[] DecodeLogits(double[] z, int rows) => Mlp("dec", z, rows, [config.LatentWidth, .. config.Hidden.Reverse(), config.Input]);

    /// <summary>Each latent vector's nearest code (lowest index on ties) and its squared distance.</summary>
    public (int[] Codes, double[] Distances) Nearest(double[] ze, double[] codebook)
    {
        int d = config.CodeDim, n = ze.Length / d;
        var codes = new int[n];
        var distances = new double[n];
        for (int i = 0; i < n; i++)
        {
            distances[i] = double.PositiveInfinity;
            for (int k = 0; k < config.Codes; k++)
            {
                double s = 0;
                for (int j = 0; j < d; j++) s += (ze[i * d + j] - codebook[k * d + j]) * (ze[i * d + j] - codebook[k * d + j]);
                if (s < distances[i]) { distances[i] = s; codes[i] = k; }
            }
        }
        return (codes, distances);
    }

    /// <summary>Sum over rows of the reconstruction term of logits against the images.</summary>
    public double Recon(double[] logits, float[] images, int rows)
    {
        double sum = 0;
        for (int i = 0; i < rows * config.Input; i++)
        {
            double l = logits[i], t = images[i];
            if (config.Reconstruction == ReconstructionLoss.Bce) sum += Math.Max(l, 0) - l * t + Math.Log(1 + Math.Exp(-Math.Abs(l)));
            else
            {
                double e = 1 / (1 + Math.Exp(-l)) - t;
                sum += e * e;
            }
        }
        return sum;
    }
}
