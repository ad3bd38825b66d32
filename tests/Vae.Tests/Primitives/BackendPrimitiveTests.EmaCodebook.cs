// EmaCodebook (the EMA vector quantizer's codebook from Laplace-smoothed statistics) on every backend: the interface
// fixes the arithmetic (double, n summed in index order, the division last, one rounding), so the result must match
// the reference and a host computation of the formula bit for bit, with zero and fractional cluster sizes, epsilon 0,
// codes without columns, and views longer than the shape.
using FsCheck;
using FsCheck.Fluent;
using Vae.Tests.Support;
using Xunit;
using Xunit.Sdk;

namespace Vae.Tests.Primitives;

public abstract partial class BackendPrimitiveTests
{
    public sealed record EmaCodebookCase(int Codes, int Cols, float Epsilon, int Seed);

    static readonly float[] EmaEpsilons = [1e-5f, 0f, 0.5f];

    static Gen<EmaCodebookCase> EmaCodebookCases { get; } =
        from codes in Gen.Frequency((4, Gen.Choose(1, 40)), (1, Gen.Elements(new[] { 128, 257, 600 })))
        from cols in Gen.Frequency((4, Gen.Choose(0, 33)), (1, Gen.Elements(new[] { 64, 65 })))
        from epsilon in Generators.OneOf(EmaEpsilons)
        from seed in Generators.Seed
        select new EmaCodebookCase(codes, cols, epsilon, seed);

    static IEnumerable<EmaCodebookCase> EmaCodebookSweep()
    {
        for (int cols = 0; cols <= 17; cols++) yield return new EmaCodebookCase(9, cols, EmaEpsilons[cols % 3], 8000 + cols);
        yield return new EmaCodebookCase(0, 4, 1e-5f, 8100);
        yield return new EmaCodebookCase(300, 16, 1e-5f, 8101);   // two blocks of the CUDA kernel and more
    }

    /// <summary>
    /// Cluster sizes: a quarter exactly 0 (decayed away; nonzero with epsilon > 0, else set to 0.25), the rest fractional
    /// in (0, 40); sums uniform in [-30, 30].
    /// </summary>
    static (float[] Sizes, float[] Sums) EmaCodebookData(EmaCodebookCase c, System.Random rng)
    {
        var sizes = new float[c.Codes];
        for (int k = 0; k < c.Codes; k++)
            sizes[k] = rng.Next(4) == 0 ? (c.Epsilon > 0 ? 0f : 0.25f) : (float)(40 * rng.NextDouble() + 1e-3);
        return (sizes, HostData.Uniform(rng, c.Codes * c.Cols, -30, 30));
    }

    void CheckEmaCodebook(EmaCodebookCase c)
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        var (sizes, sums) = EmaCodebookData(c, rng);
        var ts = pair.Upload(sizes, extra: rng.Next(3));
        var tm = pair.Upload(sums, extra: rng.Next(3));
        var book = pair.Output(c.Codes * c.Cols, extra: rng.Next(3));

        pair.Run((be, s) => be.EmaCodebook(ts[s], tm[s], book[s], c.Codes, c.Cols, c.Epsilon));

        var (got, want) = pair.Download(book);
        double n = 0;
        foreach (float size in sizes) n += size;
        for (int k = 0; k < c.Codes; k++)
        {
            double smoothed = (sizes[k] + (double)c.Epsilon) / (n + c.Codes * (double)c.Epsilon) * n;
            for (int j = 0; j < c.Cols; j++)
            {
                int i = k * c.Cols + j;
                float exact = (float)(sums[i] / smoothed);
                if (BitConverter.SingleToInt32Bits(got[i]) != BitConverter.SingleToInt32Bits(exact)
                    || BitConverter.SingleToInt32Bits(want[i]) != BitConverter.SingleToInt32Bits(exact))
                    throw new XunitException($"code {k}, column {j}: backend {got[i]:R}, reference {want[i]:R}, formula {exact:R} (size {sizes[k]:R}, sum {sums[i]:R}, n {n:R}).");
            }
        }
        pair.AssertGuardsIntact();
    }

    [Fact]
    public void EmaCodebook_matches_reference_and_the_formula_bit_for_bit()
    {
        Sweep(EmaCodebookSweep(), CheckEmaCodebook);
        PropertyRunner.Check(EmaCodebookCases, CheckEmaCodebook, Cases);
    }
}
