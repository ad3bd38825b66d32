// Comparison of a backend's results with the reference: absolute + relative tolerance (or a bound per element), bitwise
// equality for data movement and random numbers. A failure lists how many elements differ and the first few, with
// index, got, want and the bound, so one line shows what went wrong.
using System.Globalization;
using System.Text;
using Xunit.Sdk;

namespace Vae.Tests.Support;

public static class Tolerance
{
    /// <summary>Elementwise arithmetic: |got - want| &lt;= 1e-6 + 1e-5 |want| (float result vs double reference).</summary>
    public const double Abs = 1e-6, Rel = 1e-5;

    /// <summary>Elementwise transcendental functions (exp, log, tanh, sigmoid, softplus): 2e-6 + 2e-5 |want|.</summary>
    public const double TranscendentalAbs = 2e-6, TranscendentalRel = 2e-5;

    const int MismatchesShown = 8;

    /// <summary>|got[i] - want[i]| &lt;= abs + rel * |want[i]| for every i; NaN must meet NaN and infinities must be equal.</summary>
    public static void AssertClose(string what, ReadOnlySpan<float> got, ReadOnlySpan<float> want, double abs, double rel)
    {
        var bound = new double[want.Length];
        for (int i = 0; i < bound.Length; i++) bound[i] = abs + rel * Math.Abs((double)want[i]);
        AssertWithin(what, got, want, bound, $"abs {Format(abs)} + rel {Format(rel)} * |want|");
    }

    /// <summary>|got[i] - want[i]| &lt;= bound[i] for every i; NaN must meet NaN and infinities must be equal.</summary>
    public static void AssertWithin(string what, ReadOnlySpan<float> got, ReadOnlySpan<float> want, ReadOnlySpan<double> bound, string? boundText = null)
    {
        AssertSameLength(what, got.Length, want.Length);
        int bad = 0;
        var report = new StringBuilder();
        for (int i = 0; i < want.Length; i++)
        {
            double g = got[i], w = want[i], diff = Math.Abs(g - w);
            bool ok = double.IsNaN(w) ? double.IsNaN(g)
                : double.IsInfinity(w) || double.IsInfinity(g) ? g == w
                : diff <= bound[i];
            if (ok) continue;
            if (bad++ < MismatchesShown)
                report.Append(CultureInfo.InvariantCulture, $"\n  [{i}] got {Format(got[i])} want {Format(want[i])} |diff| {Format(diff)} > bound {Format(bound[i])}");
        }
        if (bad > 0)
            throw new XunitException($"{what}: {bad} of {want.Length} elements differ beyond {boundText ?? "the per-element bound"}; first mismatches:{report}");
    }

    /// <summary>got and want hold the same bits (NaN payloads and the sign of zero included).</summary>
    public static void AssertBitwiseEqual(string what, ReadOnlySpan<float> got, ReadOnlySpan<float> want)
    {
        AssertSameLength(what, got.Length, want.Length);
        int bad = 0;
        var report = new StringBuilder();
        for (int i = 0; i < want.Length; i++)
        {
            int g = BitConverter.SingleToInt32Bits(got[i]), w = BitConverter.SingleToInt32Bits(want[i]);
            if (g == w) continue;
            if (bad++ < MismatchesShown)
                report.Append(CultureInfo.InvariantCulture, $"\n  [{i}] got {Format(got[i])} (0x{g:X8}) want {Format(want[i])} (0x{w:X8})");
        }
        if (bad > 0) throw new XunitException($"{what}: {bad} of {want.Length} elements are not bitwise equal; first mismatches:{report}");
    }

    /// <summary>Integer results (indices, flags) must be equal.</summary>
    public static void AssertEqual(string what, ReadOnlySpan<int> got, ReadOnlySpan<int> want)
    {
        AssertSameLength(what, got.Length, want.Length);
        int bad = 0;
        var report = new StringBuilder();
        for (int i = 0; i < want.Length; i++)
        {
            if (got[i] == want[i]) continue;
            if (bad++ < MismatchesShown) report.Append(CultureInfo.InvariantCulture, $"\n  [{i}] got {got[i]} want {want[i]}");
        }
        if (bad > 0) throw new XunitException($"{what}: {bad} of {want.Length} elements differ; first mismatches:{report}");
    }

    public static string Format(double value) => value.ToString("G9", CultureInfo.InvariantCulture);

    public static string Format(float value) => value.ToString("G9", CultureInfo.InvariantCulture);

    static void AssertSameLength(string what, int got, int want)
    {
        if (got != want) throw new XunitException($"{what}: got {got} elements, want {want}.");
    }
}
