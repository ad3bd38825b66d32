// Whole-model gradient check of the hierarchical VAE: HvaeModel.Forward + Backward in float on each backend against
// central finite differences of the same objective computed in double precision straight from the formulas
// (Support/DoubleHvae): reconstruction, KL(q(z1|x) || p(z1|z2)) at the sampled z2 and KL(q(z2|z1) || N(0, I)), every
// parameter of the four networks, with free bits off and on. With free bits the floor is put in the middle of a gap
// between the dimensions' batch-mean KLs (both layers pooled), away from every kink of max, with dimensions on both
// sides; the test checks that both layers have dimensions below the floor, so the masks are exercised.
using Vae.Diagnostics;
using Vae.Models;
using Vae.Tests.Models;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.GradientChecks;

public sealed class HvaeGradientTests
{
    public static TheoryData<string, int, int[], int, int[], int, string, float, bool> Configurations => new()
    {
        { "cpu", 12, new[] { 8 }, 4, new[] { 6 }, 3, "bce", 1f, false },
        { "cpu", 12, new[] { 8 }, 4, new[] { 6 }, 3, "bce", 1f, true },
        { "cpu", 10, new[] { 9, 7 }, 5, new[] { 6, 4 }, 2, "mse", 0.5f, false },
        { "cpu", 10, new[] { 9, 7 }, 5, new[] { 6, 4 }, 2, "mse", 1.5f, true },
        { "cpu", 9, Array.Empty<int>(), 3, Array.Empty<int>(), 2, "bce", 2f, true },
        { "reference", 12, new[] { 8 }, 4, new[] { 6 }, 3, "bce", 1f, true },
        { "reference", 10, new[] { 9, 7 }, 5, new[] { 6, 4 }, 2, "mse", 0.5f, false },
        { "cuda-interpreted", 12, new[] { 8 }, 4, new[] { 6 }, 3, "bce", 1f, false },
        { "cuda-interpreted", 10, new[] { 7 }, 4, new[] { 5 }, 2, "mse", 1f, true },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Model_gradient_matches_finite_differences_of_a_double_precision_objective(string backendName, int input, int[] hidden, int latent1,
        int[] hidden2, int latent2, string recon, float beta, bool freeBits)
    {
        var config = new HvaeConfig(input, hidden, latent1, hidden2, latent2, VaeConfig.ParseReconstruction(recon), beta);
        const int rows = 6;
        int seed = input * 31 + latent1 * 7 + latent2;
        using var backend = Backends.Create(backendName);
        using var model = HvaeModelTests.Prepare(backend, config, rows, rows + 2, seed, spread: 0.8f, out var x, out var eps1, out var eps2, out var p);
        var reference = new DoubleHvae(config, model.NamedTensors, p);
        var terms = reference.Forward(x, eps1, eps2, rows);
        float floor = freeBits ? ChooseFloor(terms.Kl1PerDimension, terms.Kl2PerDimension) : 0f;
        if (freeBits)
        {
            Assert.Contains(terms.Kl1PerDimension, k => k < floor);
            Assert.Contains(terms.Kl2PerDimension, k => k < floor);
            Assert.Contains([.. terms.Kl1PerDimension, .. terms.Kl2PerDimension], k => k > floor);
        }

        model.Forward(rows);
        model.Backward(rows, beta, floor);
        var totals = new float[2];
        backend.Download<float>(model.LossTotals, totals);
        var gradients = new float[p.Length];
        backend.Download<float>(model.Parameters.Gradients, gradients);
        double loss = (totals[0] + beta * (double)totals[1]) / rows, exact = terms.Recon + beta * (terms.Kl1 + terms.Kl2);
        Assert.True(Math.Abs(loss - exact) <= 1e-5 * Math.Abs(exact), $"loss {loss} vs double precision {exact}");

        var fd = new double[p.Length];
        double largest = 0;
        foreach (var t in model.NamedTensors)
            for (int i = t.Offset; i < t.Offset + t.Length; i++)
            {
                double saved = reference.Parameters[i], h = 1e-6 * Math.Max(1, Math.Abs(saved));
                reference.Parameters[i] = saved + h;
                double up = reference.Objective(x, eps1, eps2, rows, beta, floor);
                reference.Parameters[i] = saved - h;
                double down = reference.Objective(x, eps1, eps2, rows, beta, floor);
                reference.Parameters[i] = saved;
                fd[i] = (up - down) / (2 * h);
                largest = Math.Max(largest, Math.Abs(fd[i]));
            }
        Assert.True(largest > 0);
        var failures = new List<string>();
        foreach (var t in model.NamedTensors)
        {
            bool nonzero = false;
            for (int i = t.Offset; i < t.Offset + t.Length; i++)
            {
                double allowed = GradientCheck.FiniteDifferenceRelative * Math.Abs(fd[i]) + GradientCheck.FiniteDifferenceAbsolute * largest;
                if (!(Math.Abs(gradients[i] - fd[i]) <= allowed))
                    failures.Add($"{t.Name}[{i - t.Offset}]: gradient {gradients[i]:G6}, finite difference {fd[i]:G6}");
                nonzero |= fd[i] != 0;
            }
            Assert.True(nonzero, $"{t.Name}: the objective does not depend on it (the check would prove nothing)");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} gradients off ({config}, free bits {floor}): {string.Join("; ", failures.Take(6))}");
    }

    /// <summary>
    /// The middle of the widest gap between the sorted KLs of both layers that leaves a dimension of each layer below
    /// it and at least one dimension above it.
    /// </summary>
    static float ChooseFloor(double[] kl1, double[] kl2)
    {
        var sorted = kl1.Concat(kl2).Order().ToArray();
        double best = -1, floor = 0;
        for (int k = 0; k + 1 < sorted.Length; k++)
        {
            double gap = sorted[k + 1] - sorted[k], middle = 0.5 * (sorted[k] + sorted[k + 1]);
            if (gap > best && kl1.Any(v => v < middle) && kl2.Any(v => v < middle))
            {
                best = gap;
                floor = middle;
            }
        }
        Assert.True(best > 2e-3, $"no gap between the dimensions' KLs ({string.Join(", ", sorted)}) to put the floor in");
        return (float)floor;
    }
}
