// The C# VAE against PyTorch: tests/fixtures/vae_reference_*.safetensors hold fixed weights, inputs and noise and
// what PyTorch 1.13 computed from them in float64 (written by tests/fixtures/make_vae_fixtures.py; CI needs no
// PyTorch). The model must reproduce the loss, its parts, the encoder outputs, the logits and every parameter
// gradient to 1e-4, relative to each tensor's largest magnitude (float32 arithmetic against a float64 truth).
using Vae.Checkpoints;
using Vae.Models;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Models;

public sealed class PyTorchFixtureTests
{
    const double Tolerance = 1e-4;

    public static TheoryData<string, string> Fixtures => new()
    {
        { "vae_reference_bce_784_32_8.safetensors", "cpu" },
        { "vae_reference_mse_784_24_16_5.safetensors", "cpu" },
        { "vae_reference_bce_50_40_30_20_6.safetensors", "cpu" },
        { "vae_reference_bce_784_32_8.safetensors", "reference" },
        { "vae_reference_mse_784_24_16_5.safetensors", "reference" },
        { "vae_reference_bce_50_40_30_20_6.safetensors", "reference" },
    };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Model_matches_pytorch_loss_activations_and_every_gradient(string fixture, string backendName)
    {
        string path = RepositoryPaths.Fixture(fixture);
        var file = SafeTensorsFile.Read(path);
        var config = VaeConfig.FromJson(file.Metadata["config"], path);
        int batch = int.Parse(System.Text.Json.JsonDocument.Parse(file.Metadata["config"]).RootElement.GetProperty("batch").GetRawText(),
            System.Globalization.CultureInfo.InvariantCulture);
        using var backend = Backends.Create(backendName);
        using var model = new VaeModel(backend, config, batch);

        var parameters = new float[model.Parameters.Layout.TotalLength];
        foreach (var t in model.NamedTensors)
        {
            var tensor = file.Get(t.Name, path);
            Assert.Equal(t.Shape, tensor.Shape);
            tensor.ToFloats().CopyTo(parameters.AsSpan(t.Offset, t.Length));
        }
        backend.Upload<float>(parameters, model.Parameters.Parameters);
        backend.Upload<float>(file.Get("x", path).ToFloats(), model.Input.Slice(0, batch * config.Input));
        backend.Upload<float>(file.Get("eps", path).ToFloats(), model.Eps.Slice(0, batch * config.Latent));

        model.Forward(batch);
        model.Backward(batch);

        var totals = new float[2];
        backend.Download<float>(model.LossTotals, totals);
        double recon = totals[0] / (double)batch, kl = totals[1] / (double)batch;
        AssertClose("recon", file.Get("recon", path).ToDoubles(), [recon]);
        AssertClose("kl", file.Get("kl", path).ToDoubles(), [kl]);
        AssertClose("loss", file.Get("loss", path).ToDoubles(), [recon + config.Beta * kl]);
        AssertClose("mu", file.Get("mu", path).ToDoubles(), Download(backend, model.Mu, batch * config.Latent));
        AssertClose("logvar", file.Get("logvar", path).ToDoubles(), Download(backend, model.LogVar, batch * config.Latent));
        AssertClose("logits", file.Get("logits", path).ToDoubles(), Download(backend, model.Logits, batch * config.Input));

        var gradients = new float[parameters.Length];
        backend.Download<float>(model.Parameters.Gradients, gradients);
        foreach (var t in model.NamedTensors)
            AssertClose("grad." + t.Name, file.Get("grad." + t.Name, path).ToDoubles(), gradients.AsSpan(t.Offset, t.Length).ToArray().Select(v => (double)v).ToArray());
    }

    internal static double[] Download(IComputeBackend backend, DeviceSpan<float> view, int count)
    {
        var values = new float[count];
        backend.Download<float>(view.Slice(0, count), values);
        return values.Select(v => (double)v).ToArray();
    }

    /// <summary>Every element within Tolerance of the tensor's largest |expected| (and of itself); the first mismatches are listed.</summary>
    internal static void AssertClose(string name, double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(Math.Abs);
        var mismatches = new List<string>();
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(actual[i] - expected[i]) <= Tolerance * Math.Max(scale, 1e-12)))
                mismatches.Add($"[{i}] expected {expected[i]:R}, got {actual[i]:R}");
        Assert.True(mismatches.Count == 0, $"{name}: {mismatches.Count} of {expected.Length} elements differ by more than {Tolerance} x {scale:E3}: {string.Join("; ", mismatches.Take(5))}");
    }
}
