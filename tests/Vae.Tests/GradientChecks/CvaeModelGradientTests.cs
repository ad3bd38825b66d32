// Whole-model gradient check of the conditional VAE: the gradient CvaeModel.Backward writes on each backend (the CUDA
// backend's kernels interpreted) against central differences of the same objective computed in double precision by
// DoubleCvae (plain loops from the formulas), for every parameter, with GradientCheck's tolerance
// (|g - fd| <= 2e-3 |fd| + 2e-5 max|fd|). Cases cover BCE and MSE, no hidden layer to three, beta != 1, a batch below
// the model's capacity, and free bits with the floor between the latents' batch-mean KLs (some latents above it, some
// below).
using Vae.Diagnostics;
using Vae.Models;
using Vae.Tests.Models;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.GradientChecks;

public sealed class CvaeModelGradientTests
{
    public static TheoryData<string, int, int[], int, int, int, string, float, bool> Configurations => new()
    {
        { "cpu", 12, Array.Empty<int>(), 3, 4, 5, "bce", 1f, false },
        { "cpu", 10, new[] { 8 }, 3, 2, 5, "mse", 0.5f, false },
        { "cpu", 9, new[] { 7, 6, 5 }, 2, 3, 4, "bce", 2.5f, false },
        { "cpu", 11, new[] { 9, 6 }, 4, 3, 6, "bce", 1f, true },
        { "reference", 9, new[] { 7, 6 }, 3, 4, 4, "mse", 1.5f, true },
        { "cuda-interpreted", 8, new[] { 6 }, 2, 3, 4, "bce", 1f, false },
        { "cuda-interpreted", 9, new[] { 7, 5 }, 3, 2, 3, "mse", 0.5f, true },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Cvae_gradient_matches_finite_differences_of_a_double_precision_loss(string backendName, int input, int[] hidden, int latent,
        int classes, int batch, string recon, float beta, bool freeBits)
    {
        var config = new CvaeConfig(input, hidden, latent, classes, VaeConfig.ParseReconstruction(recon), beta);
        int seed = input * 31 + batch;
        using var backend = Backends.Create(backendName);
        using var model = CvaeModelTests.NewModel(backend, config, capacity: batch + 2, seed);   // rows below capacity
        var (x, y, eps) = CvaeModelTests.LoadBatch(model, batch, seed);
        var reference = new DoubleCvae(config, model.NamedTensors, CvaeModelTests.Download(backend, model.Parameters.Parameters));

        double floor = 0;
        if (freeBits)
        {
            // The middle of the widest gap between two latents' batch-mean KLs: the max() kinks stay far from the steps.
            var (mu, logVar) = reference.Encode(x, y, batch);
            var kl = DoubleCvae.KlPerDimension(mu, logVar, batch, latent).Order().ToArray();
            int gap = Enumerable.Range(0, kl.Length - 1).MaxBy(k => kl[k + 1] - kl[k]);
            floor = 0.5 * (kl[gap] + kl[gap + 1]);
        }

        model.Forward(batch);
        model.Backward(batch, beta, (float)floor);
        var grads = CvaeModelTests.Download(backend, model.Parameters.Gradients);
        var totals = CvaeModelTests.Download(backend, model.LossTotals);
        double exactPlain = reference.Loss(x, y, eps, batch, beta);
        Assert.True(Math.Abs((totals[0] + beta * (double)totals[1]) / batch - exactPlain) <= 1e-5 * Math.Abs(exactPlain),
            $"loss {(totals[0] + beta * (double)totals[1]) / batch} vs double precision {exactPlain}");

        var fd = new Dictionary<int, double>();
        double largest = 0;
        foreach (var t in model.NamedTensors)
            for (int i = t.Offset; i < t.Offset + t.Length; i++)
            {
                double saved = reference[i], h = 1e-6 * Math.Max(1, Math.Abs(saved));
                reference[i] = saved + h;
                double up = reference.Loss(x, y, eps, batch, beta, floor);
                reference[i] = saved - h;
                double down = reference.Loss(x, y, eps, batch, beta, floor);
                reference[i] = saved;
                fd[i] = (up - down) / (2 * h);
                largest = Math.Max(largest, Math.Abs(fd[i]));
            }
        Assert.True(largest > 0, "the finite-difference gradient is identically zero");
        var failures = new List<string>();
        foreach (var t in model.NamedTensors)
            for (int i = t.Offset; i < t.Offset + t.Length; i++)
            {
                double allowed = GradientCheck.FiniteDifferenceRelative * Math.Abs(fd[i]) + GradientCheck.FiniteDifferenceAbsolute * largest;
                if (!(Math.Abs(grads[i] - fd[i]) <= allowed))
                    failures.Add($"{t.Name}[{i - t.Offset}]: gradient {grads[i]:G6}, finite difference {fd[i]:G6}");
            }
        Assert.True(failures.Count == 0, $"{config}, batch {batch}, free bits {floor:G4}: {failures.Count} gradients off: {string.Join("; ", failures.Take(5))}");
        // The label's columns of the decoder's first layer are trained whenever its z columns are (dropping the label's
        // input gradient must not drop its weight gradient).
        var dec0 = model.NamedTensors.Single(t => t.Name == (hidden.Length > 0 ? "dec.0.weight" : "out.weight"));
        int width = latent + classes;
        bool zTrained = Enumerable.Range(0, dec0.Length).Any(i => i % width < latent && grads[dec0.Offset + i] != 0);
        bool labelTrained = Enumerable.Range(0, dec0.Length).Any(i => i % width >= latent && grads[dec0.Offset + i] != 0);
        Assert.Equal(zTrained, labelTrained);
    }
}
