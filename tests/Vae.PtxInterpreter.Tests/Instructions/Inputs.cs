// Input sets for the instruction tests: hand-picked edge cases combined pairwise, followed by seeded random values
// (fixed seeds, so every run checks the same elements).
namespace Vae.PtxInterpreter.Tests.Instructions;

internal static class Inputs
{
    public static readonly uint[] EdgeWords =
    [
        0, 1, 2, 3, 7, 0xFF, 0x100, 0xFFFF, 0x10000, 0x12345678, 0x7FFFFFFE, 0x7FFFFFFF,
        0x80000000, 0x80000001, 0xDEADBEEF, 0xFFFF0000, 0xFFFFFFF9, 0xFFFFFFFE, 0xFFFFFFFF,
    ];

    public static readonly ulong[] EdgeLongs =
    [
        0, 1, 2, 3, 0xFFFFFFFF, 0x100000000, 0x123456789ABCDEF0, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000,
        0x8000000000000001, 0xFFFFFFFF00000000, 0xFFFFFFFFFFFFFFFE, 0xFFFFFFFFFFFFFFFF,
    ];

    public static readonly float[] EdgeFloats =
    [
        0f, -0f, 1f, -1f, 0.5f, -0.5f, 1.5f, 3f, float.MaxValue, -float.MaxValue, float.MinValue / 2,
        float.PositiveInfinity, float.NegativeInfinity, float.NaN, BitConverter.UInt32BitsToSingle(0xFFC00000),
        float.Epsilon, -float.Epsilon, BitConverter.UInt32BitsToSingle(0x00800000), BitConverter.UInt32BitsToSingle(0x807FFFFF),
        BitConverter.UInt32BitsToSingle(0x3F800001), 16777216f, 0.1f,
    ];

    /// <summary>Every ordered pair of <paramref name="edges"/>, then <paramref name="randomCount"/> pairs from <paramref name="random"/>.</summary>
    public static (T[] A, T[] B) Pairs<T>(T[] edges, int randomCount, Func<T> random)
    {
        var a = new List<T>();
        var b = new List<T>();
        foreach (T x in edges)
        {
            foreach (T y in edges)
            {
                a.Add(x);
                b.Add(y);
            }
        }
        for (int i = 0; i < randomCount; i++)
        {
            a.Add(random());
            b.Add(random());
        }
        return (a.ToArray(), b.ToArray());
    }

    /// <summary><paramref name="count"/> values from <paramref name="next"/>.</summary>
    public static T[] Many<T>(int count, Func<T> next)
    {
        var values = new T[count];
        for (int i = 0; i < count; i++)
            values[i] = next();
        return values;
    }

    /// <summary>Words biased toward interesting ones: an edge word, a small value, or a uniformly random word.</summary>
    public static uint Word(Random random) => random.Next(4) switch
    {
        0 => EdgeWords[random.Next(EdgeWords.Length)],
        1 => (uint)random.Next(-40, 41),
        _ => (uint)random.NextInt64(0, 1L << 32),
    };

    public static ulong Long(Random random) => random.Next(4) switch
    {
        0 => EdgeLongs[random.Next(EdgeLongs.Length)],
        1 => (ulong)random.Next(-40, 41),
        2 => (ulong)(long)(int)Word(random),
        _ => (ulong)random.NextInt64() ^ ((ulong)random.Next(2) << 63),
    };

    /// <summary>A float with a random sign, a binary exponent in [minExponent, maxExponent] and a random significand.</summary>
    public static float Float(Random random, int minExponent, int maxExponent)
    {
        uint sign = (uint)random.Next(2) << 31;
        uint biased = (uint)(random.Next(minExponent, maxExponent + 1) + 127);
        uint fraction = (uint)random.Next(1 << 23);
        return BitConverter.UInt32BitsToSingle(sign | (biased << 23) | fraction);
    }

    /// <summary>A subnormal float with a random sign.</summary>
    public static float Subnormal(Random random)
    {
        uint sign = (uint)random.Next(2) << 31;
        return BitConverter.UInt32BitsToSingle(sign | (uint)random.Next(1, 1 << 23));
    }

    /// <summary>A double with a random sign, a binary exponent in [minExponent, maxExponent] and a random significand.</summary>
    public static double Double(Random random, int minExponent, int maxExponent)
    {
        ulong sign = (ulong)random.Next(2) << 63;
        ulong biased = (ulong)(random.Next(minExponent, maxExponent + 1) + 1023);
        ulong fraction = (ulong)random.NextInt64(1L << 52);
        return BitConverter.UInt64BitsToDouble(sign | (biased << 52) | fraction);
    }
}
