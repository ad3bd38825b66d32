// The C# VAE against PyTorch: tests/fixtures/vae_reference_*.safetensors hold fixed weights, inputs and noise and
// what PyTorch 1.13 computed from them in float64 (written by tests/fixtures/make_vae_fixtures.py; CI needs no
// PyTorch). The model must reproduce the loss, its parts, the encoder outputs, the logits and every parameter
// gradient to 1e-4, relative to each tensor's largest magnitude (float32 arithmetic against a float64 truth).
using Vae.Models;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Models;

public sealed class PyTorchFixtureTests
{
    public static TheoryData<string, string> Fixtures => PyTorchFixture.OnBothBackends(
        "vae_reference_bce_784_32_8.safetensors",
        "vae_reference_mse_784_24_16_5.safetensors",
        "vae_reference_bce_50_40_30_20_6.safetensors");

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Model_matches_pytorch_loss_activations_and_every_gradient(string fixtureName, string backendName)
    {
        var fixture = new PyTorchFixture(fixtureName);
        var config = VaeConfig.FromJson(fixture.ConfigJson, fixture.Path);
        int batch = fixture.Batch;
        using var backend = Backends.Create(backendName);
        using var model = new VaeModel(backend, config, batch);
        fixture.LoadParameters(model);
        backend.Upload<float>(fixture.Floats("x"), model.Input.Slice(0, batch * config.Input));
        backend.Upload<float>(fixture.Floats("eps"), model.Eps.Slice(0, batch * config.Latent));

        model.Forward(batch);
        model.Backward(batch);

        fixture.AssertOneLayerVae(model, config.Beta);
    }
}
