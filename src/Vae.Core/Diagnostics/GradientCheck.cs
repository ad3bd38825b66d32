// Whole-model gradient checks, shared by the tests and `vae gradcheck`:
// - FiniteDifferences: a backend's VAE gradients (forward + backward in float) against central differences of the
//   same loss computed in double precision straight from the formulas (DoubleVaeLoss).
// - CrossBackend: two backends given the same parameters, images and noise (RandomNormal is bit-identical on every
//   backend) must agree on the loss and on every gradient.
using Vae.Models;

namespace Vae.Diagnostics;

/// <summary>The outcome of one check: the worst deviation found, where, and whether it is within tolerance.</summary>
public sealed record GradientCheckResult(string Check, string Configuration, double WorstError, double Tolerance, string WorstAt, double Loss)
{
    public bool Passed => WorstError <= Tolerance && double.IsFinite(WorstError);
}

public static class GradientCheck
{
    /// <summary>Tolerance of <see cref="FiniteDifferences"/>: |g - fd| &lt;= 2e-3 |fd| + 2e-5 max|fd|, reported as the worst ratio to it (pass: &lt;= 1).</summary>
    public const double FiniteDifferenceRelative = 2e-3, FiniteDifferenceAbsolute = 2e-5;

    /// <summary>Tolerance of <see cref="CrossBackend"/>: every gradient within 1e-4 of the largest gradient magnitude, the loss within 1e-5 relative.</summary>
    public const double CrossBackendGradient = 1e-4, CrossBackendLoss = 1e-5;

    /// <summary>A model of <paramref name="config"/> on <paramref name="backend"/> with seeded parameters (biases made nonzero), images and noise.</summary>
    static VaeModel Prepare(IComputeBackend backend, VaeConfig config, int batch, int seed, out float[] x, out float[] eps, out float[] p)
    {
        var model = new VaeModel(backend, config, batch + 2); // capacity above the batch: the rows < capacity path
        model.InitializeParameters(seed: (ulong)seed);
        var rng = new System.Random(seed);
        x = new float[batch * config.Input];
        for (int i = 0; i < x.Length; i++) x[i] = i % 7 == 0 ? 0f : i % 11 == 0 ? 1f : rng.NextSingle();
        backend.Upload<float>(x, model.Input.Slice(0, x.Length));
        backend.RandomNormal(model.Eps.Slice(0, batch * config.Latent), (ulong)seed, 0);
        eps = new float[batch * config.Latent];
        backend.Download(model.Eps.Slice(0, eps.Length), eps);
        p = new float[model.Parameters.Layout.TotalLength];
        backend.Download<float>(model.Parameters.Parameters, p);
        for (int i = 0; i < p.Length; i++) p[i] += 0.05f * (rng.NextSingle() - 0.5f);
        backend.Upload<float>(p, model.Parameters.Parameters);
        return model;
    }

    static (double loss, float[] grads) Run(VaeModel model, int batch)
    {
        var backend = model.Backend;
        model.Forward(batch);
        model.Backward(batch);
        var totals = new float[2];
        backend.Download<float>(model.LossTotals, totals);
        var grads = new float[model.Parameters.Layout.TotalLength];
        backend.Download<float>(model.Parameters.Gradients, grads);
        return ((totals[0] + model.Config.Beta * (double)totals[1]) / batch, grads);
    }

    /// <summary>The backend's gradients against central differences of the double-precision loss.</summary>
    public static GradientCheckResult FiniteDifferences(IComputeBackend backend, VaeConfig config, int batch, int seed)
    {
        ArgumentNullException.ThrowIfNull(backend);
        using var model = Prepare(backend, config, batch, seed, out var x, out var eps, out var p);
        var (loss, grads) = Run(model, batch);
        var reference = new DoubleVaeLoss(config, model.NamedTensors, p);
        double exact = reference.Loss(x, eps, batch);
        var fd = new double[p.Length];
        double maxAbs = 0;
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
        double worst = Math.Abs(loss - exact) / (Math.Abs(exact) * 1e-5); // the loss itself, as a ratio to its tolerance
        string at = "loss";
        foreach (var t in model.NamedTensors)
            for (int i = t.Offset; i < t.Offset + t.Length; i++)
            {
                double ratio = Math.Abs(grads[i] - fd[i]) / (FiniteDifferenceRelative * Math.Abs(fd[i]) + FiniteDifferenceAbsolute * maxAbs);
                if (ratio > worst || double.IsNaN(ratio)) { worst = ratio; at = $"{t.Name}[{i - t.Offset}] (gradient {grads[i]:G6}, finite difference {fd[i]:G6})"; }
            }
        if (maxAbs == 0) { worst = double.PositiveInfinity; at = "the finite-difference gradient is identically zero"; }
        return new GradientCheckResult($"finite differences on {backend.Name}", $"{config}, batch {batch}, seed {seed}", worst, 1.0, at, loss);
    }

    /// <summary>Loss and gradients of <paramref name="candidate"/> against <paramref name="baseline"/> on identical inputs.</summary>
    public static GradientCheckResult CrossBackend(IComputeBackend baseline, IComputeBackend candidate, VaeConfig config, int batch, int seed)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(candidate);
        using var a = Prepare(baseline, config, batch, seed, out _, out var epsA, out var pA);
        using var b = Prepare(candidate, config, batch, seed, out _, out var epsB, out var pB);
        if (!epsA.AsSpan().SequenceEqual(epsB) || !pA.AsSpan().SequenceEqual(pB))
            return new GradientCheckResult($"{candidate.Name} vs {baseline.Name}", $"{config}, batch {batch}, seed {seed}", double.PositiveInfinity, 1,
                "the two backends produced different random noise or initial parameters (RandomNormal / InitializeParameters must be bit-identical)", double.NaN);
        var (lossA, gA) = Run(a, batch);
        var (lossB, gB) = Run(b, batch);
        double maxAbs = 0;
        foreach (var g in gA) maxAbs = Math.Max(maxAbs, Math.Abs(g));
        double worst = Math.Abs(lossA - lossB) / (CrossBackendLoss * Math.Max(Math.Abs(lossA), 1e-30));
        string at = $"loss ({lossB:G9} vs {lossA:G9})";
        foreach (var t in a.NamedTensors)
            for (int i = t.Offset; i < t.Offset + t.Length; i++)
            {
                double ratio = Math.Abs(gA[i] - gB[i]) / (CrossBackendGradient * Math.Max(maxAbs, 1e-30));
                if (ratio > worst || double.IsNaN(ratio)) { worst = ratio; at = $"{t.Name}[{i - t.Offset}] ({gB[i]:G9} vs {gA[i]:G9})"; }
            }
        return new GradientCheckResult($"{candidate.Name} vs {baseline.Name}", $"{config}, batch {batch}, seed {seed}", worst, 1.0, at, lossB);
    }
}

/// <summary>The VAE loss (nats per image) in double precision, straight from the formulas, on a copy of the flat parameters.</summary>
public sealed class DoubleVaeLoss(VaeConfig config, IReadOnlyList<NamedTensor> tensors, float[] parameters)
{
    readonly DoubleLayers layers = new(tensors, parameters);

    public double[] Parameters => layers.Parameters;

    /// <summary>The encoder on the first <paramref name="rows"/> images of <paramref name="x"/>: mu and logVar, (rows, L) each.</summary>
    public (double[] Mu, double[] LogVar) Encode(float[] x, int rows)
    {
        var (h, width) = layers.Hidden("enc", x.Take(rows * config.Input).Select(v => (double)v).ToArray(), rows, config.Input, config.Hidden);
        return (layers.Linear("mu", h, rows, width, config.Latent), layers.Linear("logvar", h, rows, width, config.Latent));
    }

    /// <summary>The decoder's logits (rows, D) for latents <paramref name="z"/> (rows, L).</summary>
    public double[] DecodeLogits(double[] z, int rows)
    {
        var (g, width) = layers.Hidden("dec", z, rows, config.Latent, config.Hidden.Reverse().ToArray());
        return layers.Linear("out", g, rows, width, config.Input);
    }

    public double Loss(float[] xf, float[] epsf, int rows)
    {
        var (mu, logVar) = Encode(xf, rows);
        var z = new double[rows * config.Latent];
        double kl = 0;
        for (int i = 0; i < z.Length; i++)
        {
            z[i] = mu[i] + Math.Exp(0.5 * logVar[i]) * epsf[i];
            kl += -0.5 * (1 + logVar[i] - mu[i] * mu[i] - Math.Exp(logVar[i]));
        }
        var logits = DecodeLogits(z, rows);
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
