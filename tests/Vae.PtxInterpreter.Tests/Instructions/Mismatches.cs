// Collects element-wise mismatches between interpreter results and the C# model of an instruction, and fails the
// test with the first ones (instruction, inputs, expected and actual values with their bit patterns).
using System.Globalization;
using Xunit;

namespace Vae.PtxInterpreter.Tests.Instructions;

internal sealed class Mismatches
{
    private const int MaxReported = 15;
    private readonly List<string> _reported = [];
    private readonly SortedDictionary<string, int> _perInstruction = new(StringComparer.Ordinal);
    private int _count;
    private int _checked;

    /// <summary>Records one comparison of <paramref name="instruction"/>; <paramref name="describe"/> is only called for a mismatch.</summary>
    public void Check(bool matches, string instruction, Func<string> describe)
    {
        _checked++;
        if (matches)
            return;
        _count++;
        _perInstruction[instruction] = _perInstruction.GetValueOrDefault(instruction) + 1;
        if (_reported.Count < MaxReported)
            _reported.Add(describe());
    }

    /// <summary>Compares every element of <paramref name="actual"/> with <paramref name="expected"/>(i).</summary>
    public void Each<T>(string instruction, T[] actual, Func<int, T> expected, Func<T, T, bool> equal, Func<int, string> inputs, Func<T, string> format)
    {
        for (int i = 0; i < actual.Length; i++)
        {
            T want = expected(i);
            T got = actual[i];
            Check(equal(want, got), instruction, () => $"{instruction} [{i}] {inputs(i)}: expected {format(want)}, got {format(got)}");
        }
    }

    public void AssertNone()
    {
        Assert.True(_checked > 0, "nothing was compared");
        if (_count > 0)
        {
            string counts = string.Join(", ", _perInstruction.Select(p => $"{p.Key}: {p.Value}"));
            Assert.Fail($"{_count} of {_checked} results differ from the model ({counts}); the first {_reported.Count}:\n  " + string.Join("\n  ", _reported));
        }
    }
}

/// <summary>Formatting and comparison helpers shared by the instruction tests.</summary>
internal static class Show
{
    public static string F32(float x) => string.Create(CultureInfo.InvariantCulture, $"{x:R} (0x{BitConverter.SingleToUInt32Bits(x):X8})");

    public static string F64(double x) => string.Create(CultureInfo.InvariantCulture, $"{x:R} (0x{BitConverter.DoubleToUInt64Bits(x):X16})");

    public static string U32(uint x) => string.Create(CultureInfo.InvariantCulture, $"0x{x:X8} ({(int)x})");

    public static string U64(ulong x) => string.Create(CultureInfo.InvariantCulture, $"0x{x:X16} ({(long)x})");

    public static string U16(ushort x) => string.Create(CultureInfo.InvariantCulture, $"0x{x:X4}");

    public static string U8(byte x) => string.Create(CultureInfo.InvariantCulture, $"0x{x:X2}");

    /// <summary>Bit-exact equality, except that any NaN matches any NaN (PTX leaves single-precision NaN payloads unspecified).</summary>
    public static bool SameF32(float expected, float actual)
        => float.IsNaN(expected) ? float.IsNaN(actual) : BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(actual);

    public static bool SameF64(double expected, double actual)
        => double.IsNaN(expected) ? double.IsNaN(actual) : BitConverter.DoubleToUInt64Bits(expected) == BitConverter.DoubleToUInt64Bits(actual);

    /// <summary>The spacing of f32 values at the magnitude of <paramref name="x"/> (the subnormal spacing near zero).</summary>
    public static double UlpF32(double x)
    {
        if (x == 0 || !double.IsFinite(x))
            return Math.ScaleB(1.0, -149);
        int exponent = Math.Max(Math.ILogB(x), -126);
        return Math.ScaleB(1.0, exponent - 23);
    }

    /// <summary>True when <paramref name="actual"/> is within <paramref name="ulps"/> f32 ulps of the exact value, with exact matches
    /// required for NaN and infinities.</summary>
    public static bool WithinUlpsF32(double exact, float actual, double ulps)
    {
        if (double.IsNaN(exact))
            return float.IsNaN(actual);
        if (double.IsInfinity(exact))
            return (double)actual == exact;
        if (!float.IsFinite(actual))
            return false;
        return Math.Abs(actual - exact) <= ulps * UlpF32(exact);
    }
}
