// Whole-model gradient check of the VAE (Diagnostics/GradientCheck): an independent double-precision implementation
// of the loss (plain loops written from the formulas, DoubleVaeLoss) is differentiated by central finite differences
// with respect to every parameter and compared with the gradients the model computes on each backend, the CUDA
// backend included (its kernels interpreted).
using Vae.Diagnostics;
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
        { "cuda-interpreted", 12, Array.Empty<int>(), 3, 4, "bce", 1f },
        { "cuda-interpreted", 9, new[] { 7, 6, 5 }, 2, 3, "mse", 2.5f },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Model_gradient_matches_finite_differences_of_a_double_precision_loss(string backendName, int input, int[] hidden, int latent, int batch, string recon, float beta)
    {
        var config = new VaeConfig(input, hidden, latent, VaeConfig.ParseReconstruction(recon), beta);
        using var backend = Backends.Create(backendName);
        var r = GradientCheck.FiniteDifferences(backend, config, batch, seed: input * 31 + batch);
        Assert.True(r.Passed, $"{r.Check}, {r.Configuration}: worst {r.WorstAt}, {r.WorstError:G3} x its tolerance");
    }
}
