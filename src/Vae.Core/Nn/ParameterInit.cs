// Host-side parameter initialization for the layers in Nn: uniform and normal values drawn from counter-based Philox
// streams of a seed, so the same seed gives the same parameters on every backend and machine. A model fills one host
// array laid out like its ParameterStore and uploads it once.
using Vae.Random;

namespace Vae.Nn;

public static class ParameterInit
{
    /// <summary>values[i] uniform in [-bound, bound), from Philox stream <paramref name="stream"/> of <paramref name="seed"/>.</summary>
    public static void FillUniform(Span<float> values, float bound, ulong seed, uint stream)
    {
        Span<uint> words = stackalloc uint[4];
        for (int i = 0; i < values.Length; i += 4)
        {
            uint c0 = (uint)(i >> 2), c1 = stream, c2 = 0x5eed, c3 = 0;
            Philox.Philox4x32x10(ref c0, ref c1, ref c2, ref c3, (uint)seed, (uint)(seed >> 32));
            words[0] = c0; words[1] = c1; words[2] = c2; words[3] = c3;
            for (int j = 0; j < 4 && i + j < values.Length; j++)
                values[i + j] = ((words[j] >> 8) * (1f / (1 << 24)) * 2f - 1f) * bound;
        }
    }

    /// <summary>values[i] = std * the standard normal number (stream << 32) + i of <paramref name="seed"/> (PhiloxNormal).</summary>
    public static void FillNormal(Span<float> values, float std, ulong seed, uint stream)
    {
        ulong first = (ulong)stream << 32;
        for (int i = 0; i < values.Length; i++) values[i] = std * PhiloxNormal.Sample(seed, first + (ulong)i);
    }

    /// <summary>The part of a host array laid out by <paramref name="layout"/> that holds <paramref name="entry"/>.</summary>
    public static Span<float> Of(Span<float> hostParameters, TensorLayout layout, TensorEntry entry)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(entry);
        if (hostParameters.Length != layout.TotalLength)
            throw new ArgumentException($"hostParameters has length {hostParameters.Length} but the layout holds {layout.TotalLength} floats; pass one array laid out like the ParameterStore.", nameof(hostParameters));
        return hostParameters.Slice(entry.Offset, entry.Length);
    }
}
