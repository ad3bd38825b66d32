// Deterministic host arrays for the tests: uniform data with special values mixed in, index lists with repeats,
// and the poison value that fills guard regions and not-yet-written outputs.
namespace Vae.Tests.Support;

public static class HostData
{
    /// <summary>A quiet NaN with a recognizable payload: guard regions and assigned outputs start with it.</summary>
    public static readonly float Poison = BitConverter.Int32BitsToSingle(0x7FC0_BEEF);

    /// <summary>Guard value of int buffers.</summary>
    public const int IntPoison = -0x3EAD_BEEF;

    public static float[] Uniform(System.Random rng, int length, float low, float high)
    {
        var data = new float[length];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(low + (high - low) * rng.NextDouble());
        return data;
    }

    /// <summary>Uniform in [low, high) with a <paramref name="fraction"/> of the elements replaced by one of <paramref name="specials"/>.</summary>
    public static float[] WithSpecials(System.Random rng, int length, float low, float high, float[] specials, double fraction)
    {
        var data = Uniform(rng, length, low, high);
        for (int i = 0; i < data.Length; i++)
        {
            if (rng.NextDouble() < fraction) data[i] = specials[rng.Next(specials.Length)];
        }
        return data;
    }

    /// <summary>Standard normal numbers times <paramref name="std"/> (Box-Muller in double; test data only).</summary>
    public static float[] Normal(System.Random rng, int length, double std = 1)
    {
        var data = new float[length];
        for (int i = 0; i < data.Length; i++)
        {
            double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
            data[i] = (float)(std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return data;
    }

    public static float[] Filled(int length, float value)
    {
        var data = new float[length];
        data.AsSpan().Fill(value);
        return data;
    }

    /// <summary><paramref name="count"/> indices in [0, limit); about a third repeat an earlier index.</summary>
    public static int[] Indices(System.Random rng, int count, int limit)
    {
        var indices = new int[count];
        for (int i = 0; i < count; i++)
        {
            indices[i] = i > 0 && rng.Next(3) == 0 ? indices[rng.Next(i)] : rng.Next(limit);
        }
        return indices;
    }
}
