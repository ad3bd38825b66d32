// FsCheck 3 generators for the shapes of the primitive tests. Data itself comes from HostData, seeded by a generated
// seed, so a failing case prints as a short record (shape + seed) and replays exactly.
using FsCheck;
using FsCheck.Fluent;

namespace Vae.Tests.Support;

public static class Generators
{
    /// <summary>Element counts large enough that every backend splits the work over its threads.</summary>
    public static readonly int[] LargeLengths = [50_000, 65_537];

    /// <summary>
    /// Lengths 0..65 (every remainder of 4-, 8- and 16-wide vectors, with and without a full unrolled block),
    /// sizes around powers of two, and large sizes that run multi-threaded.
    /// </summary>
    public static Gen<int> Length { get; } = Gen.Frequency(
        (10, Gen.Choose(0, 65)),
        (2, Gen.Elements(new[] { 127, 128, 129, 255, 256, 257, 1000, 4097 })),
        (1, Gen.Elements(LargeLengths)));

    /// <summary>Row counts (batch sizes): tiny, odd, powers of two, and large.</summary>
    public static Gen<int> Rows { get; } = Gen.Frequency(
        (6, Gen.Choose(0, 9)),
        (3, Gen.Elements(new[] { 16, 17, 31, 64, 128 })),
        (1, Gen.Elements(new[] { 256, 1000 })));

    /// <summary>Column counts (features): every vector remainder, plus VAE widths (20, 400, 784).</summary>
    public static Gen<int> Cols { get; } = Gen.Frequency(
        (8, Gen.Choose(0, 65)),
        (2, Gen.Elements(new[] { 100, 127, 129, 400, 784 })));

    /// <summary>One GEMM dimension: mostly small and odd (edge tiles), sometimes several register tiles, sometimes large.</summary>
    public static Gen<int> GemmDim { get; } = Gen.Frequency(
        (6, Gen.Choose(0, 17)),
        (3, Gen.Choose(18, 70)),
        (1, Gen.Elements(new[] { 128, 131, 200 })));

    /// <summary>Seed for HostData.</summary>
    public static Gen<int> Seed { get; } = Gen.Choose(0, int.MaxValue);

    public static Gen<bool> Bool { get; } = Gen.Elements(new[] { false, true });

    /// <summary>A (rows, cols) shape with at most <paramref name="maxElements"/> elements (cols shrinks to fit).</summary>
    public static Gen<(int Rows, int Cols)> Matrix(int maxElements) =>
        from rows in Rows
        from cols in Cols
        select (rows, rows == 0 ? cols : Math.Min(cols, maxElements / rows));

    /// <summary>One of the given values, uniformly.</summary>
    public static Gen<T> OneOf<T>(params T[] values) => Gen.Elements(values);
}
