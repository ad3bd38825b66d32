// Whole-model gradient check of the VAE: an independent double-precision implementation of the loss (plain loops,
// written from the formulas, not from the model code) is differentiated by central finite differences with respect
// to every parameter, and compared with the gradients the model computes on the SIMD and the reference backends.
using Vae.Models;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.GradientChecks;

public sealed class VaeModelGradientTests
{
    public static TheoryData<string, int, int[], int, int, string, float> Configurations => new()
    {
        { "cpu", 12, Array.Empty<int>(), 3, 4, "bce", 1f },
        { "cpu", 10, new[] { 8 }, 3, 5, "mse", 0.5f },
        { "cpu", 9, new[] { 7, 6, 5 }, 2, 3, "bce", 2.5f },
        { "cpu", 16, new[] { 11, 9 }, 4, 6, "mse", 1f },
        { "reference", 9, new[] { 7, 6, 5 }, 2, 3, "bce", 2.5f },
        { "reference", 10, new[] { 8 }, 3, 5, "mse", 0.5f },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Model_gradient_matches_finite_differences_of_a_double_precision_loss(string backendName, int input, int[] hidden, int latent, int batch, string recon, float beta)
    {
        var config = new VaeConfig(input, hidden, latent, VaeConfig.ParseReconstruction(recon), beta);
        using var backend = Backends.Create(backendName);
        using var model = new VaeModel(backend, config, batch + 2);   // capacity above the batch: rows < capacity path
        model.InitializeParameters(seed: 11);
        var rng = new System.Random(input * 31 + batch);
        var x = new float[batch * input];
        for (int i = 0; i < x.Length; i++) x[i] = i % 7 == 0 ? 0f : i % 11 == 0 ? 1f : rng.NextSingle();
        var eps = new float[batch * latent];
        for (int i = 0; i < eps.Length; i++) eps[i] = (float)(rng.NextDouble() * 4 - 2);
        backend.Upload<float>(x, model.Input.Slice(0, x.Length));
        backend.Upload<float>(eps, model.Eps.Slice(0, eps.Length));
        // Non-zero biases, so the check covers them meaningfully.
        var p = new float[model.Parameters.Layout.TotalLength];
        backend.Download<float>(model.Parameters.Parameters, p);
        for (int i = 0; i < p.Length; i++) p[i] += 0.05f * (float)(rng.NextDouble() - 0.5);
        backend.Upload<float>(p, model.Parameters.Parameters);

        model.Forward(batch);
        model.Backward(batch);
        var totals = new float[2];
        backend.Download<float>(model.LossTotals, totals);
        var grads = new float[p.Length];
        backend.Download<float>(model.Parameters.Gradients, grads);

        var reference = new DoubleVae(config, model.NamedTensors, p);
        double loss = reference.Loss(x, eps, batch);
        Assert.Equal(loss, (totals[0] + beta * totals[1]) / batch, loss * 1e-5);

        double maxAbs = 0;
        var fd = new double[p.Length];
        foreach (var t in model.NamedTensors)
            for (int i = t.Offset; i < t.Offset + t.Length; i++)
            {
                double saved = reference.Parameters[i];
                double h = 1e-6 * Math.Max(1, Math.Abs(saved));
                reference.Parameters[i] = saved + h;
                double up = reference.Loss(x, eps, batch);
                reference.Parameters[i] = saved - h;
                double down = reference.Loss(x, eps, batch);
                reference.Parameters[i] = saved;
                fd[i] = (up - down) / (2 * h);
                maxAbs = Math.Max(maxAbs, Math.Abs(fd[i]));
            }
        Assert.True(maxAbs > 0, "the finite-difference gradient is identically zero: the check would prove nothing");
        foreach (var t in model.NamedTensors)
            for (int i = t.Offset; i < t.Offset + t.Length; i++)
            {
                double tolerance = 2e-3 * Math.Abs(fd[i]) + 2e-5 * maxAbs;
                Assert.True(Math.Abs(grads[i] - fd[i]) <= tolerance,
                    $"{t.Name}[{i - t.Offset}]: model gradient {grads[i]:R}, finite difference {fd[i]:R} (tolerance {tolerance:E2}), config {config}");
            }
    }

    /// <summary>The VAE loss in double precision, straight from the formulas, on a copy of the flat parameters.</summary>
    sealed class DoubleVae(VaeConfig config, IReadOnlyList<NamedTensor> tensors, float[] parameters)
    {
        public double[] Parameters { get; } = parameters.Select(v => (double)v).ToArray();
        readonly Dictionary<string, NamedTensor> byName = tensors.ToDictionary(t => t.Name);

        double[] Linear(string name, double[] x, int rows, int inF, int outF)
        {
            var w = byName[name + ".weight"];
            var b = byName[name + ".bias"];
            var y = new double[rows * outF];
            for (int r = 0; r < rows; r++)
                for (int o = 0; o < outF; o++)
                {
                    double s = Parameters[b.Offset + o];
                    for (int i = 0; i < inF; i++) s += x[r * inF + i] * Parameters[w.Offset + o * inF + i];
                    y[r * outF + o] = s;
                }
            return y;
        }

        static double[] Relu(double[] v) => v.Select(a => Math.Max(0, a)).ToArray();

        public double Loss(float[] xf, float[] epsf, int rows)
        {
            int d = config.Input, l = config.Latent;
            var h = xf.Take(rows * d).Select(v => (double)v).ToArray();
            int width = d;
            for (int i = 0; i < config.Hidden.Length; i++)
            {
                h = Relu(Linear($"enc.{i}", h, rows, width, config.Hidden[i]));
                width = config.Hidden[i];
            }
            var mu = Linear("mu", h, rows, width, l);
            var logVar = Linear("logvar", h, rows, width, l);
            var z = new double[rows * l];
            double kl = 0;
            for (int i = 0; i < z.Length; i++)
            {
                z[i] = mu[i] + Math.Exp(0.5 * logVar[i]) * epsf[i];
                kl += -0.5 * (1 + logVar[i] - mu[i] * mu[i] - Math.Exp(logVar[i]));
            }
            var g = z;
            width = l;
            for (int i = 0; i < config.Hidden.Length; i++)
            {
                int size = config.Hidden[config.Hidden.Length - 1 - i];
                g = Relu(Linear($"dec.{i}", g, rows, width, size));
                width = size;
            }
            var logits = Linear("out", g, rows, width, d);
            double recon = 0;
            for (int i = 0; i < logits.Length; i++)
            {
                double t = xf[i], a = logits[i];
                if (config.Reconstruction == ReconstructionLoss.Bce)
                    recon += Math.Max(a, 0) - a * t + Math.Log(1 + Math.Exp(-Math.Abs(a)));
                else
                {
                    double pr = 1 / (1 + Math.Exp(-a));
                    recon += (pr - t) * (pr - t);
                }
            }
            return (recon + config.Beta * kl) / rows;
        }
    }
}
