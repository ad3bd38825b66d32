// The random-number stack behind RandomNormal: Philox4x32-10 against the published Random123 known-answer vectors,
// the PhiloxNormal stream against the double-precision Box-Muller formula it specifies, its distribution (moments,
// Kolmogorov-Smirnov distance to the normal CDF, independence of neighbours and of seeds), the accuracy of its float
// Log/SinTurns/CosTurns, and every backend's RandomNormal bit for bit against PhiloxNormal.Sample.
using Vae.Random;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests;

public sealed class RandomTests
{
    const int SampleCount = 1_000_000;

    // ---------------------------------------------------------------- Philox4x32-10

    [Theory]
    [InlineData(0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [InlineData(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [InlineData(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void Philox4x32x10_matches_the_Random123_known_answers(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint o0, uint o1, uint o2, uint o3)
    {
        Philox.Philox4x32x10(ref c0, ref c1, ref c2, ref c3, k0, k1);
        Assert.Equal([o0, o1, o2, o3], new[] { c0, c1, c2, c3 });
    }

    // ---------------------------------------------------------------- the stream specification

    /// <summary>
    /// Sample(seed, j) against the spec evaluated in double: block j/4, lane j%4, u1 = ((a >> 8) + 1) 2^-24,
    /// angle = 2 pi (c >> 8) 2^-24, r = sqrt(-2 ln u1), r cos or r sin. Bound: |got - exact| &lt;= 3e-7 r
    /// (the float Log, sqrt, sin/cos and product; measured 1.8e-7 r).
    /// </summary>
    [Theory]
    [InlineData(0ul, 0ul)]
    [InlineData(0x1234_5678_9ABC_DEF0ul, 0ul)]
    [InlineData(ulong.MaxValue, (1ul << 34) + 2)]
    public void Sample_follows_the_Box_Muller_specification(ulong seed, ulong firstIndex)
    {
        for (ulong j = firstIndex; j < firstIndex + 100_000; j++)
        {
            ulong block = j >> 2;
            uint x0 = (uint)block, x1 = (uint)(block >> 32), x2 = 0, x3 = 0;
            Philox.Philox4x32x10(ref x0, ref x1, ref x2, ref x3, (uint)seed, (uint)(seed >> 32));
            int lane = (int)(j & 3);
            uint a = lane < 2 ? x0 : x2, c = lane < 2 ? x1 : x3;
            double r = Math.Sqrt(-2 * Math.Log(((a >> 8) + 1) / 16777216.0));
            double angle = 2 * Math.PI * (c >> 8) / 16777216.0;
            double exact = (lane & 1) == 0 ? r * Math.Cos(angle) : r * Math.Sin(angle);
            float got = PhiloxNormal.Sample(seed, j);
            Assert.True(Math.Abs(got - exact) <= 3e-7 * r, $"Sample({seed}, {j}) = {got:G9}, want {exact:G9} (r = {r:G9})");
        }
    }

    [Fact]
    public void SampleBlock_equals_four_samples()
    {
        var rng = new System.Random(3);
        Span<float> four = stackalloc float[4];
        for (int i = 0; i < 1000; i++)
        {
            ulong seed = (ulong)rng.NextInt64() * 3, block = (ulong)rng.NextInt64(0, long.MaxValue) >> (1 + rng.Next(63));
            PhiloxNormal.SampleBlock(seed, block, four);
            for (int lane = 0; lane < 4; lane++)
                Assert.Equal(BitConverter.SingleToInt32Bits(PhiloxNormal.Sample(seed, 4 * block + (ulong)lane)), BitConverter.SingleToInt32Bits(four[lane]));
        }
    }

    // ---------------------------------------------------------------- distribution

    static float[] Stream(ulong seed, ulong offset, int count)
    {
        var samples = new float[count];
        for (int i = 0; i < count; i++) samples[i] = PhiloxNormal.Sample(seed, offset + (ulong)i);
        return samples;
    }

    /// <summary>
    /// 1e6 samples; each moment must lie within 5 standard errors of the normal's value: mean 0 (SE 1/sqrt n = 1e-3),
    /// variance 1 (SE sqrt(2/n)), skewness 0 (SE sqrt(6/n)), kurtosis 3 (SE sqrt(24/n)).
    /// </summary>
    [Theory]
    [InlineData(0ul)]
    [InlineData(0xDEAD_BEEF_CAFE_F00Dul)]
    public void Moments_are_those_of_a_standard_normal(ulong seed)
    {
        var x = Stream(seed, 0, SampleCount);
        double n = x.Length, mean = 0;
        foreach (float v in x) mean += v;
        mean /= n;
        double m2 = 0, m3 = 0, m4 = 0;
        foreach (float v in x)
        {
            double d = v - mean, d2 = d * d;
            m2 += d2;
            m3 += d2 * d;
            m4 += d2 * d2;
        }
        m2 /= n;
        m3 /= n;
        m4 /= n;
        double skewness = m3 / Math.Pow(m2, 1.5), kurtosis = m4 / (m2 * m2);
        Assert.True(Math.Abs(mean) < 5 / Math.Sqrt(n), $"mean {mean}");
        Assert.True(Math.Abs(m2 - 1) < 5 * Math.Sqrt(2 / n), $"variance {m2}");
        Assert.True(Math.Abs(skewness) < 5 * Math.Sqrt(6 / n), $"skewness {skewness}");
        Assert.True(Math.Abs(kurtosis - 3) < 5 * Math.Sqrt(24 / n), $"kurtosis {kurtosis}");
    }

    /// <summary>
    /// Kolmogorov-Smirnov distance D between the empirical CDF of 1e6 samples and the normal CDF: sqrt(n) D &lt; 2.5
    /// (the 1e-5 tail of the Kolmogorov distribution; a typical value is 0.9).
    /// </summary>
    [Fact]
    public void Empirical_cdf_is_close_to_the_normal_cdf()
    {
        var x = Stream(42, 0, SampleCount);
        Array.Sort(x);
        double n = x.Length, distance = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double cdf = NormalCdf(x[i]);
            distance = Math.Max(distance, Math.Max((i + 1) / n - cdf, cdf - i / n));
        }
        Assert.True(Math.Sqrt(n) * distance < 2.5, $"sqrt(n) D = {Math.Sqrt(n) * distance}");
        Assert.True(x[0] > -6 && x[^1] < 6, $"range [{x[0]}, {x[^1]}] exceeds the +-5.77 that u1 >= 2^-24 allows");
    }

    /// <summary>Neighbouring samples (same Box-Muller pair, same Philox block, next block) are uncorrelated, and so are their squares.</summary>
    [Fact]
    public void Neighbouring_samples_are_uncorrelated()
    {
        var x = Stream(7, 0, SampleCount);
        var squares = new float[x.Length];
        for (int i = 0; i < x.Length; i++) squares[i] = x[i] * x[i];
        double bound = 5 / Math.Sqrt(x.Length);
        foreach (int lag in new[] { 1, 2, 3, 4 })
        {
            double values = Correlation(x.AsSpan(0, x.Length - lag), x.AsSpan(lag));
            double magnitudes = Correlation(squares.AsSpan(0, x.Length - lag), squares.AsSpan(lag));
            Assert.True(Math.Abs(values) < bound, $"lag {lag}: correlation {values}");
            Assert.True(Math.Abs(magnitudes) < bound, $"lag {lag}: correlation of squares {magnitudes}");
        }
    }

    /// <summary>Seeds differing in the low or the high word, and far-apart offsets, give unrelated streams.</summary>
    [Fact]
    public void Different_seeds_and_offsets_give_different_streams()
    {
        const int count = 20_000;
        var streams = new List<(string Name, float[] Data)>
        {
            ("seed 0", Stream(0, 0, count)),
            ("seed 1", Stream(1, 0, count)),
            ("seed 2^32", Stream(1ul << 32, 0, count)),
            ("seed 2^32 + 1", Stream((1ul << 32) + 1, 0, count)),
            ("seed max", Stream(ulong.MaxValue, 0, count)),
            ("seed 0, offset 2^34", Stream(0, 1ul << 34, count)),
            ("seed 0, offset 2^20", Stream(0, 1ul << 20, count)),
        };
        double bound = 5 / Math.Sqrt(count);
        for (int i = 0; i < streams.Count; i++)
        {
            for (int j = i + 1; j < streams.Count; j++)
            {
                var (a, b) = (streams[i].Data, streams[j].Data);
                int equal = 0;
                for (int k = 0; k < count; k++) if (a[k] == b[k]) equal++;
                double correlation = Correlation(a, b);
                Assert.True(equal < 5, $"{streams[i].Name} and {streams[j].Name} share {equal} of {count} values");
                Assert.True(Math.Abs(correlation) < bound, $"{streams[i].Name} and {streams[j].Name}: correlation {correlation}");
            }
        }
    }

    // ---------------------------------------------------------------- float Log / SinTurns / CosTurns

    /// <summary>
    /// PhiloxNormal.Log vs Math.Log: relative error &lt;= 2e-7 (measured 1.5e-7) over every u1 value the stream uses
    /// ((i + 1) 2^-24) and over 4096 mantissas of every normal binade.
    /// </summary>
    [Fact]
    public void Log_is_accurate_to_2e7_relative()
    {
        double worst = 0;
        float worstAt = 0;
        void Check(float x)
        {
            double exact = Math.Log(x), error = Math.Abs(PhiloxNormal.Log(x) - exact);
            double relative = exact == 0 ? error : error / Math.Abs(exact);
            if (relative > worst) (worst, worstAt) = (relative, x);
        }
        for (uint i = 0; i < 1u << 24; i++) Check((i + 1) * (1f / 16777216f));
        for (int exponent = -126; exponent <= 127; exponent++)
            for (int mantissa = 0; mantissa < 4096; mantissa++) Check(MathF.ScaleB(1 + mantissa / 4096f + 1 / 8192f, exponent));
        Assert.True(worst <= 2e-7, $"relative error {worst} at {worstAt:G9}");
        Assert.Equal(0f, PhiloxNormal.Log(1f));
    }

    /// <summary>SinTurns/CosTurns(k) vs Math.Sin/Cos(2 pi k / 2^24) for every k: absolute error &lt;= 1.2e-7 (measured 8.3e-8).</summary>
    [Fact]
    public void SinTurns_and_CosTurns_are_accurate_to_1_2e7_absolute()
    {
        double worstSin = 0, worstCos = 0;
        uint worstSinAt = 0, worstCosAt = 0;
        for (uint k = 0; k < 1u << 24; k++)
        {
            double angle = 2 * Math.PI * k / 16777216.0;
            double sinError = Math.Abs(PhiloxNormal.SinTurns(k) - Math.Sin(angle));
            double cosError = Math.Abs(PhiloxNormal.CosTurns(k) - Math.Cos(angle));
            if (sinError > worstSin) (worstSin, worstSinAt) = (sinError, k);
            if (cosError > worstCos) (worstCos, worstCosAt) = (cosError, k);
        }
        Assert.True(worstSin <= 1.2e-7, $"SinTurns error {worstSin} at k = {worstSinAt}");
        Assert.True(worstCos <= 1.2e-7, $"CosTurns error {worstCos} at k = {worstCosAt}");
        // Quarter turns are exact.
        Assert.Equal([0f, 1f, 0f, -1f], new[] { PhiloxNormal.SinTurns(0), PhiloxNormal.SinTurns(1u << 22), PhiloxNormal.SinTurns(1u << 23), PhiloxNormal.SinTurns(3u << 22) }.Select(v => v + 0f));
        Assert.Equal([1f, 0f, -1f, 0f], new[] { PhiloxNormal.CosTurns(0), PhiloxNormal.CosTurns(1u << 22), PhiloxNormal.CosTurns(1u << 23), PhiloxNormal.CosTurns(3u << 22) }.Select(v => v + 0f));
    }

    // ---------------------------------------------------------------- RandomNormal on the backends

    public static TheoryData<string> BackendNames => new() { "cpu", "cpu-1", "cpu-3", "reference" };

    static readonly ulong[] Offsets = [0, 1, 2, 3, 5, 4095, (1ul << 32) - 3, (1ul << 34) + 1];
    static readonly int[] Lengths = [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65, 1000, 50_001];

    /// <summary>output[i] = PhiloxNormal.Sample(seed, offset + i) bitwise, for views at unaligned positions of their buffer.</summary>
    [Theory]
    [MemberData(nameof(BackendNames))]
    public void RandomNormal_equals_PhiloxNormal_Sample_bitwise(string backendName)
    {
        using var backend = Backends.Create(backendName);
        using var buffer = backend.Allocate((50_001 + 16) * sizeof(float));
        int position = 0;
        foreach (ulong offset in Offsets)
        {
            foreach (int length in Lengths)
            {
                ulong seed = offset * 31 + (ulong)length;
                var output = buffer.AsSpan<float>().Slice(position++ % 16, length);
                backend.RandomNormal(output, seed, offset);
                var got = new float[length];
                backend.Download(output, got);
                var want = new float[length];
                for (int i = 0; i < length; i++) want[i] = PhiloxNormal.Sample(seed, offset + (ulong)i);
                Tolerance.AssertBitwiseEqual($"RandomNormal(length {length}, seed {seed}, offset {offset})", got, want);
            }
        }
    }

    /// <summary>Any split of a range into two calls (offset + cut for the second) gives the same numbers as one call.</summary>
    [Theory]
    [MemberData(nameof(BackendNames))]
    public void RandomNormal_split_into_two_calls_equals_one_call(string backendName)
    {
        using var backend = Backends.Create(backendName);
        const int length = 4099;
        using var buffer = backend.Allocate(2 * length * sizeof(float));
        var whole = buffer.AsSpan<float>().Slice(0, length);
        var parts = buffer.AsSpan<float>().Slice(length, length);
        var want = new float[length];
        var got = new float[length];
        foreach (ulong offset in new[] { 0ul, 3ul, (1ul << 33) + 2 })
        {
            backend.RandomNormal(whole, 99, offset);
            backend.Download(whole, want);
            foreach (int cut in new[] { 0, 1, 2, 3, 4, 5, 13, 16, 17, 1000, 4098, length })
            {
                backend.RandomNormal(parts.Slice(0, cut), 99, offset);
                backend.RandomNormal(parts.Slice(cut), 99, offset + (ulong)cut);
                backend.Download(parts, got);
                Tolerance.AssertBitwiseEqual($"offset {offset}, cut at {cut}", got, want);
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    static double Correlation(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double n = a.Length, meanA = 0, meanB = 0;
        for (int i = 0; i < a.Length; i++)
        {
            meanA += a[i];
            meanB += b[i];
        }
        meanA /= n;
        meanB /= n;
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double da = a[i] - meanA, db = b[i] - meanB;
            ab += da * db;
            aa += da * da;
            bb += db * db;
        }
        return ab / Math.Sqrt(aa * bb);
    }

    /// <summary>
    /// Standard normal CDF from erfc by Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7, far below the
    /// 2.5e-3 resolution of the Kolmogorov-Smirnov test above).
    /// </summary>
    static double NormalCdf(double x)
    {
        double z = Math.Abs(x) / Math.Sqrt(2);
        double t = 1 / (1 + 0.3275911 * z);
        double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        double erfc = poly * Math.Exp(-z * z);
        return x >= 0 ? 1 - 0.5 * erfc : 0.5 * erfc;
    }
}
