// One PyTorch reference fixture (tests/fixtures/*_reference_*.safetensors, written by make_vae_fixtures.py: fixed
// weights, a batch, its noise and what PyTorch 1.13 computed from them in float64) and the comparisons every model's
// fixture test makes: the twin's state_dict loaded by the model's NamedTensors (shapes checked), and losses,
// activations and every parameter gradient within Tolerance of each tensor's largest |expected| (float32 arithmetic
// against a float64 truth).
using System.Text.Json;
using Vae.Checkpoints;
using Vae.Models;
using Xunit;

namespace Vae.Tests.Support;

public sealed class PyTorchFixture
{
    public const double Tolerance = 1e-4;

    public PyTorchFixture(string fixtureName)
    {
        Path = RepositoryPaths.Fixture(fixtureName);
        File = SafeTensorsFile.Read(Path);
        ConfigJson = File.Metadata["config"];
        using var meta = JsonDocument.Parse(ConfigJson);
        Meta = meta.RootElement.Clone();
        Batch = Meta.GetProperty("batch").GetInt32();
    }

    /// <summary>(fixture, backend) pairs: every fixture on the CPU backend, then every fixture on the reference backend.</summary>
    public static TheoryData<string, string> OnBothBackends(params string[] fixtures)
    {
        var data = new TheoryData<string, string>();
        foreach (string backend in new[] { "cpu", "reference" })
            foreach (string fixture in fixtures) data.Add(fixture, backend);
        return data;
    }

    public string Path { get; }
    public SafeTensorsFile File { get; }
    /// <summary>The model's configuration JSON, with the fixture's own fields (batch, ...).</summary>
    public string ConfigJson { get; }
    public JsonElement Meta { get; }
    /// <summary>Rows of the fixture's batch.</summary>
    public int Batch { get; }

    public float[] Floats(string name) => File.Get(name, Path).ToFloats();
    public double[] Doubles(string name) => File.Get(name, Path).ToDoubles();

    /// <summary>Sets every parameter of <paramref name="model"/> from the tensor of its state_dict name (shapes must match; the rest of the buffer is 0).</summary>
    public void LoadParameters(ITrainableModel model)
    {
        var parameters = new float[model.Parameters.Layout.TotalLength];
        foreach (var t in model.NamedTensors)
        {
            var tensor = File.Get(t.Name, Path);
            Assert.Equal(t.Shape, tensor.Shape);
            tensor.ToFloats().CopyTo(parameters.AsSpan(t.Offset, t.Length));
        }
        model.Backend.Upload<float>(parameters, model.Parameters.Parameters);
    }

    /// <summary>The fixture's tensor <paramref name="name"/> against <paramref name="actual"/>.</summary>
    public void AssertClose(string name, double[] actual) => AssertClose(name, Doubles(name), actual);

    /// <summary>After Backward: every parameter's gradient against the fixture's "grad.NAME".</summary>
    public void AssertGradients(ITrainableModel model)
    {
        var gradients = Download(model.Backend, model.Parameters.Gradients, model.Parameters.Layout.TotalLength);
        foreach (var t in model.NamedTensors)
            AssertClose("grad." + t.Name, gradients.AsSpan(t.Offset, t.Length).ToArray());
    }

    /// <summary>
    /// After Forward and Backward of a one-layer VAE on the fixture's batch: recon, kl and loss (recon + beta kl, nats
    /// per image), mu, logvar, logits and every parameter gradient.
    /// </summary>
    public void AssertOneLayerVae(IGaussianVae model, float beta)
    {
        ArgumentNullException.ThrowIfNull(model);
        int batch = Batch;
        var totals = Download(model.Backend, model.LossTotals, 2);
        double recon = totals[0] / batch, kl = totals[1] / batch;
        AssertClose("recon", [recon]);
        AssertClose("kl", [kl]);
        AssertClose("loss", [recon + beta * kl]);
        AssertClose("mu", Download(model.Backend, model.Mu, batch * model.Latent));
        AssertClose("logvar", Download(model.Backend, model.LogVar, batch * model.Latent));
        AssertClose("logits", Download(model.Backend, model.Logits, batch * model.Config.Input));
        AssertGradients(model);
    }

    /// <summary>The first <paramref name="count"/> values of a view, as doubles.</summary>
    public static double[] Download(IComputeBackend backend, DeviceSpan<float> view, int count)
    {
        var values = new float[count];
        backend.Download<float>(view.Slice(0, count), values);
        return values.Select(v => (double)v).ToArray();
    }

    /// <summary>Every element within Tolerance of the tensor's largest |expected| (and of itself); the first mismatches are listed.</summary>
    public static void AssertClose(string name, double[] expected, double[] actual)
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
