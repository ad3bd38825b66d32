// PyTorch's default nn.Linear initialization (weights and biases uniform in +-1/sqrt(fan_in)) drawn from a
// counter-based Philox stream, so a seed gives the same model on every backend and machine. The one initializer of
// the VAE family: tensor k of the layer list (weight, bias, weight, bias, ...) uses stream k of the seed, and a model
// with more than Linear layers (the VQ-VAE's codebook) continues from the stream the layers leave off at. The uniform
// draw itself is ParameterInit.FillUniform, shared with the recurrent layers.
namespace Vae.Nn;

public static class LinearInit
{
    /// <summary>
    /// Initializes the parameters of <paramref name="layers"/> (in this order) from <paramref name="seed"/> and zeroes
    /// the store's gradients and Adam moments. Parameters of the store outside these layers are set to 0.
    /// </summary>
    public static void PyTorchDefault(ParameterStore store, IEnumerable<Linear> layers, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(store);
        var host = new float[store.Layout.TotalLength];
        FillLayers(host, store, layers, seed);
        Upload(store, host);
    }

    /// <summary>
    /// Writes the initial weights and biases of <paramref name="layers"/> into <paramref name="host"/>, the host copy of
    /// the store's parameter buffer (indexed like it), tensor after tensor from streams <paramref name="firstStream"/>,
    /// <paramref name="firstStream"/> + 1, ... of <paramref name="seed"/>. Returns the next unused stream.
    /// </summary>
    public static uint FillLayers(Span<float> host, ParameterStore store, IEnumerable<Linear> layers, ulong seed, uint firstStream = 0)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(layers);
        int origin = (int)store.Parameters.Offset;
        uint stream = firstStream;
        foreach (var layer in layers)
        {
            float bound = 1f / MathF.Sqrt(layer.In);
            ParameterInit.FillUniform(host.Slice((int)layer.Weight.Offset - origin, layer.Weight.Length), bound, seed, stream++);
            ParameterInit.FillUniform(host.Slice((int)layer.Bias.Offset - origin, layer.Bias.Length), bound, seed, stream++);
        }
        return stream;
    }

    /// <summary>Uploads <paramref name="host"/> as the store's parameters and zeroes its gradients and Adam moments.</summary>
    public static void Upload(ParameterStore store, ReadOnlySpan<float> host)
    {
        ArgumentNullException.ThrowIfNull(store);
        var backend = store.Backend;
        backend.Upload(host, store.Parameters);
        backend.Fill(store.Gradients, 0f);
        backend.Fill(store.AdamM, 0f);
        backend.Fill(store.AdamV, 0f);
    }
}
