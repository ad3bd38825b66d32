// PyTorch's default nn.Linear initialization (weights and biases uniform in +-1/sqrt(fan_in)) drawn from a
// counter-based Philox stream, so a seed gives the same model on every backend and machine. Shared by the models of
// the VAE family: tensor k of the layer list (weight, bias, weight, bias, ...) uses stream k of the seed.
using Vae.Random;

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
        ArgumentNullException.ThrowIfNull(layers);
        var host = new float[store.Layout.TotalLength];
        int origin = (int)store.Parameters.Offset;
        uint stream = 0;
        foreach (var layer in layers)
        {
            float bound = 1f / MathF.Sqrt(layer.In);
            FillUniform(host.AsSpan((int)layer.Weight.Offset - origin, layer.Weight.Length), bound, seed, stream++);
            FillUniform(host.AsSpan((int)layer.Bias.Offset - origin, layer.Bias.Length), bound, seed, stream++);
        }
        var backend = store.Backend;
        backend.Upload<float>(host, store.Parameters);
        backend.Fill(store.Gradients, 0f);
        backend.Fill(store.AdamM, 0f);
        backend.Fill(store.AdamV, 0f);
    }

    /// <summary>values uniform in [-bound, bound): 24 random bits per value from Philox block (i / 4, stream, 0x5eed, 0).</summary>
    static void FillUniform(Span<float> values, float bound, ulong seed, uint stream)
    {
        for (int i = 0; i < values.Length; i += 4)
        {
            uint c0 = (uint)(i >> 2), c1 = stream, c2 = 0x5eed, c3 = 0;
            Philox.Philox4x32x10(ref c0, ref c1, ref c2, ref c3, (uint)seed, (uint)(seed >> 32));
            ReadOnlySpan<uint> words = [c0, c1, c2, c3];
            for (int j = 0; j < 4 && i + j < values.Length; j++)
                values[i + j] = ((words[j] >> 8) * (1f / (1 << 24)) * 2f - 1f) * bound;
        }
    }
}
