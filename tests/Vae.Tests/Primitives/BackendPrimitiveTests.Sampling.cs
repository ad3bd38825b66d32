// Reparameterization (with log-variances outside the clamp and exactly on its bounds), RandomNormal (bit-exact
// against the PhiloxNormal specification), row gather/scatter (repeated indices) and NearestCode (ties between
// duplicate codebook rows go to the lowest index), against the reference and, where the result is exact, the host.
using FsCheck;
using FsCheck.Fluent;
using Vae.Random;
using Vae.Tests.Support;
using Xunit;
using Xunit.Sdk;

namespace Vae.Tests.Primitives;

public abstract partial class BackendPrimitiveTests
{
    // ---------------------------------------------------------------- reparameterization

    public sealed record ReparameterizeCase(int Length, float MinLogVar, float MaxLogVar, int Seed);

    static readonly (float Min, float Max)[] Clamps =
        [(Reparameterization.MinLogVar, Reparameterization.MaxLogVar), (-6f, 4f), (-2f, 2f), (0.5f, 0.5f)];

    static Gen<ReparameterizeCase> ReparameterizeCases { get; } =
        from length in Generators.Length
        from clamp in Generators.OneOf(Clamps)
        from seed in Generators.Seed
        select new ReparameterizeCase(length, clamp.Min, clamp.Max, seed);

    static IEnumerable<ReparameterizeCase> ReparameterizeSweep()
    {
        foreach (int n in SweepLengths()) yield return new ReparameterizeCase(n, Clamps[n % Clamps.Length].Min, Clamps[n % Clamps.Length].Max, 5000 + n);
    }

    /// <summary>Log-variances 6 beyond both clamp bounds, with one element in ten exactly on a bound.</summary>
    static (float[] Mu, float[] LogVar, float[] Eps) ReparameterizeData(ReparameterizeCase c, System.Random rng) =>
        (HostData.Uniform(rng, c.Length, -2, 2),
         HostData.WithSpecials(rng, c.Length, c.MinLogVar - 6, c.MaxLogVar + 6, [c.MinLogVar, c.MaxLogVar], 0.1),
         HostData.Normal(rng, c.Length));

    void CheckReparameterizeForward(ReparameterizeCase c)
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        var (mu, logVar, eps) = ReparameterizeData(c, rng);
        var tm = pair.Upload(mu);
        var tv = pair.Upload(logVar);
        var te = pair.Upload(eps);
        var z = pair.Output(c.Length);

        pair.Run((be, s) => be.ReparameterizeForward(tm[s], tv[s], te[s], z[s], c.MinLogVar, c.MaxLogVar));

        var (got, want) = pair.Download(z);
        Tolerance.AssertWithin("z", got, want, Bound(c.Length, i =>
            Math.Abs(mu[i]) + Math.Exp(0.5 * Math.Clamp(logVar[i], c.MinLogVar, c.MaxLogVar)) * Math.Abs(eps[i]),
            abs: Tolerance.TranscendentalAbs, rel: Tolerance.TranscendentalRel));
        pair.AssertGuardsIntact();
    }

    void CheckReparameterizeBackward(ReparameterizeCase c)
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        var (_, logVar, eps) = ReparameterizeData(c, rng);
        float[] dz = HostData.Uniform(rng, c.Length, -2, 2);
        var tv = pair.Upload(logVar);
        var te = pair.Upload(eps);
        var tdz = pair.Upload(dz);
        var dMu = pair.Output(c.Length);
        var dLogVar = pair.Output(c.Length);

        pair.Run((be, s) => be.ReparameterizeBackward(tv[s], te[s], tdz[s], dMu[s], dLogVar[s], c.MinLogVar, c.MaxLogVar));

        var (gotMu, wantMu) = pair.Download(dMu);
        Tolerance.AssertBitwiseEqual("dMu vs reference", gotMu, wantMu);
        Tolerance.AssertBitwiseEqual("dMu vs dz", gotMu, dz);
        var (got, want) = pair.Download(dLogVar);
        Tolerance.AssertClose("dLogVar", got, want, Tolerance.TranscendentalAbs, Tolerance.TranscendentalRel);
        for (int i = 0; i < c.Length; i++)
        {
            bool clamped = logVar[i] < c.MinLogVar || logVar[i] > c.MaxLogVar;
            if (clamped && got[i] != 0f)
                throw new XunitException($"dLogVar[{i}] = {got[i]} for logVar {logVar[i]} outside [{c.MinLogVar}, {c.MaxLogVar}]; want 0.");
            if (!clamped && dz[i] != 0f && eps[i] != 0f && got[i] == 0f)
                throw new XunitException($"dLogVar[{i}] = 0 for logVar {logVar[i]} inside [{c.MinLogVar}, {c.MaxLogVar}] (bounds included).");
        }
        pair.AssertGuardsIntact();
    }

    [Fact]
    public void ReparameterizeForward_clamps_like_reference()
    {
        Sweep(ReparameterizeSweep(), CheckReparameterizeForward);
        PropertyRunner.Check(ReparameterizeCases, CheckReparameterizeForward, Cases);
    }

    [Fact]
    public void ReparameterizeBackward_zeroes_clamped_gradients_like_reference()
    {
        Sweep(ReparameterizeSweep(), CheckReparameterizeBackward);
        PropertyRunner.Check(ReparameterizeCases, CheckReparameterizeBackward, Cases);
    }

    // ---------------------------------------------------------------- RandomNormal

    public sealed record RandomCase(int Length, ulong Seed, ulong Offset);

    static Gen<ulong> AnyULong { get; } =
        from hi in Gen.Choose(int.MinValue, int.MaxValue)
        from lo in Gen.Choose(int.MinValue, int.MaxValue)
        select ((ulong)(uint)hi << 32) | (uint)lo;

    static Gen<RandomCase> RandomCases { get; } =
        from length in Generators.Length
        from seed in Gen.Frequency((1, Generators.OneOf(0UL, 1UL, 42UL, 0xFFFF_FFFFUL, 1UL << 32, ulong.MaxValue)), (2, AnyULong))
        from offset in Gen.Frequency(
            (3, Gen.Choose(0, 9).Select(o => (ulong)o)),
            (1, Generators.OneOf((1UL << 32) + 1, (1UL << 34) + 3, ulong.MaxValue - 70)),
            (2, AnyULong))
        select new RandomCase(length, seed, Math.Min(offset, ulong.MaxValue - (ulong)length));

    /// <summary>output[i] is normal number offset + i of stream seed, bit for bit, on both backends and on the host.</summary>
    void CheckRandomNormal(RandomCase c)
    {
        using var pair = NewPair((int)c.Seed ^ c.Length);
        var output = pair.Output(c.Length);

        pair.Run((be, s) => be.RandomNormal(output[s], c.Seed, c.Offset));

        var (got, want) = pair.Download(output);
        var host = new float[c.Length];
        for (int i = 0; i < host.Length; i++) host[i] = PhiloxNormal.Sample(c.Seed, c.Offset + (ulong)i);
        Tolerance.AssertBitwiseEqual("output vs PhiloxNormal.Sample", got, host);
        Tolerance.AssertBitwiseEqual("output vs reference", got, want);
        pair.AssertGuardsIntact();
    }

    [Fact]
    public void RandomNormal_is_bit_exact()
    {
        var sweep = new List<RandomCase>();
        foreach (int n in SweepLengths()) sweep.Add(new RandomCase(n, 7, (ulong)n % 5));
        Sweep(sweep, CheckRandomNormal);
        PropertyRunner.Check(RandomCases, CheckRandomNormal, Cases);
    }

    [Fact]
    public void RandomNormal_split_into_two_calls_equals_one_call() => PropertyRunner.Check(
        from c in RandomCases
        from cut in Gen.Choose(0, c.Length)
        select (Case: c, Cut: cut),
        t =>
        {
            var (c, cut) = t;
            using var pair = NewPair(cut);
            var whole = pair.Output(c.Length);
            var parts = pair.Output(c.Length);
            pair.Run((be, s) =>
            {
                be.RandomNormal(whole[s], c.Seed, c.Offset);
                be.RandomNormal(parts[s].Slice(0, cut), c.Seed, c.Offset);
                be.RandomNormal(parts[s].Slice(cut), c.Seed, c.Offset + (ulong)cut);
            });
            var (gotWhole, _) = pair.Download(whole);
            var (gotParts, _) = pair.Download(parts);
            Tolerance.AssertBitwiseEqual($"two calls cut at {cut} vs one call", gotParts, gotWhole);
        }, Cases);

    // ---------------------------------------------------------------- gather / scatter

    public sealed record IndexingCase(int TableRows, int Count, int Cols, int Seed);

    static Gen<IndexingCase> IndexingCases { get; } =
        from tableRows in Gen.Frequency((4, Gen.Choose(1, 12)), (2, Gen.Choose(13, 300)), (1, Gen.Elements(new[] { 1000, 5000 })))
        from count in Generators.Rows
        from cols in Generators.Cols
        from seed in Generators.Seed
        select new IndexingCase(tableRows, count, (long)Math.Max(tableRows, count) * cols > 400_000 ? cols % 66 : cols, seed);

    static IEnumerable<IndexingCase> IndexingSweep()
    {
        for (int cols = 0; cols <= 65; cols++) yield return new IndexingCase(5, 9, cols, 6000 + cols);
        yield return new IndexingCase(1, 0, 4, 6100);
        yield return new IndexingCase(1000, 256, 400, 6101);
    }

    void CheckGatherRows(IndexingCase c)
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        float[] table = HostData.Uniform(rng, c.TableRows * c.Cols, -3, 3);
        int[] indices = HostData.Indices(rng, c.Count, c.TableRows);
        var tt = pair.Upload(table, extra: rng.Next(3));
        var ti = pair.Upload(indices, extra: rng.Next(3));
        var output = pair.Output(c.Count * c.Cols, extra: rng.Next(3));

        pair.Run((be, s) => be.GatherRows(tt[s], ti[s], output[s], c.TableRows, c.Count, c.Cols));

        var (got, want) = pair.Download(output);
        var host = new float[c.Count * c.Cols];
        for (int i = 0; i < c.Count; i++) table.AsSpan(indices[i] * c.Cols, c.Cols).CopyTo(host.AsSpan(i * c.Cols));
        Tolerance.AssertBitwiseEqual("output vs reference", got, want);
        Tolerance.AssertBitwiseEqual("output vs table rows", got, host);
        pair.AssertGuardsIntact();
    }

    void CheckScatterAddRows(IndexingCase c)
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        float[] dOutput = HostData.Uniform(rng, c.Count * c.Cols, -1, 1);
        float[] dTable0 = HostData.Uniform(rng, c.TableRows * c.Cols, -1, 1);
        int[] indices = HostData.Indices(rng, c.Count, c.TableRows);
        var tdo = pair.Upload(dOutput, extra: rng.Next(3));
        var ti = pair.Upload(indices, extra: rng.Next(3));
        var dTable = pair.Upload(dTable0, extra: rng.Next(3));

        pair.Run((be, s) => be.ScatterAddRows(tdo[s], ti[s], dTable[s], c.TableRows, c.Count, c.Cols));

        var (got, want) = pair.Download(dTable);
        var magnitude = new double[dTable0.Length];
        for (int i = 0; i < magnitude.Length; i++) magnitude[i] = Math.Abs(dTable0[i]);
        for (int i = 0; i < c.Count; i++)
            for (int j = 0; j < c.Cols; j++) magnitude[indices[i] * c.Cols + j] += Math.Abs(dOutput[i * c.Cols + j]);
        Tolerance.AssertWithin("dTable", got, want, Bound(magnitude.Length, i => magnitude[i], rel: Tolerance.Rel));
        pair.AssertGuardsIntact();
    }

    [Fact]
    public void GatherRows_matches_reference_bitwise()
    {
        Sweep(IndexingSweep(), CheckGatherRows);
        PropertyRunner.Check(IndexingCases, CheckGatherRows, Cases);
    }

    [Fact]
    public void ScatterAddRows_accumulates_repeated_indices_like_reference()
    {
        Sweep(IndexingSweep(), CheckScatterAddRows);
        PropertyRunner.Check(IndexingCases, CheckScatterAddRows, Cases);
    }

    // ---------------------------------------------------------------- nearest code

    public sealed record NearestCodeCase(int Rows, int Codes, int Cols, int Seed);

    static Gen<NearestCodeCase> NearestCodeCases { get; } =
        from rows in Generators.Rows
        from codes in Gen.Frequency((4, Gen.Choose(1, 40)), (1, Gen.Elements(new[] { 64, 256, 512 })))
        from cols in Gen.Frequency((4, Gen.Choose(0, 65)), (1, Gen.Elements(new[] { 64, 100 })))
        from seed in Generators.Seed
        select new NearestCodeCase(Math.Min(rows, 4_000_000 / Math.Max(1, codes * cols)), codes, cols, seed);

    static IEnumerable<NearestCodeCase> NearestCodeSweep()
    {
        for (int cols = 0; cols <= 65; cols++) yield return new NearestCodeCase(6, 9, cols, 7000 + cols);
        yield return new NearestCodeCase(0, 3, 4, 7100);
        yield return new NearestCodeCase(256, 512, 64, 7101);
    }

    /// <summary>
    /// A codebook in [-1, 1] where about a quarter of the rows duplicate another row (so ties exist on both sides of
    /// the original), and inputs that are either a code exactly (distance 0, tied among its duplicates), a code plus
    /// noise of 1e-3, or uniform.
    /// </summary>
    static (float[] X, float[] Codebook) NearestCodeData(NearestCodeCase c, System.Random rng)
    {
        float[] codebook = HostData.Uniform(rng, c.Codes * c.Cols, -1, 1);
        for (int j = 0; j < c.Codes; j++)
        {
            if (rng.Next(4) != 0) continue;
            int source = rng.Next(c.Codes);
            codebook.AsSpan(source * c.Cols, c.Cols).CopyTo(codebook.AsSpan(j * c.Cols));
        }
        float[] x = HostData.Uniform(rng, c.Rows * c.Cols, -1.5f, 1.5f);
        for (int r = 0; r < c.Rows; r++)
        {
            int kind = rng.Next(5), code = rng.Next(c.Codes);
            if (kind >= 3) continue;
            for (int k = 0; k < c.Cols; k++)
                x[r * c.Cols + k] = codebook[code * c.Cols + k] + (kind == 0 ? 0f : (float)(1e-3 * (rng.NextDouble() - 0.5)));
        }
        return (x, codebook);
    }

    /// <summary>
    /// For each row the chosen code must be optimal within tol_r = 1e-5 (1 + |x_r|^2 + max_j |c_j|^2) of the exact
    /// (double) minimum, must not have an identical codebook row at a lower index, must equal the reference's choice
    /// whenever the nearest code with different contents is more than 2 tol_r further away, and its distance must be
    /// within tol_r of the exact one and of the reference's.
    /// </summary>
    void CheckNearestCode(NearestCodeCase c)
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        var (x, codebook) = NearestCodeData(c, rng);
        var tx = pair.Upload(x, extra: rng.Next(3));
        var tc = pair.Upload(codebook, extra: rng.Next(3));
        var indices = pair.Upload(Enumerable.Repeat(HostData.IntPoison, c.Rows).ToArray(), extra: rng.Next(3));
        var distances = pair.Output(c.Rows, extra: rng.Next(3));

        pair.Run((be, s) => be.NearestCode(tx[s], tc[s], indices[s], distances[s], c.Rows, c.Codes, c.Cols));

        var (gotIndex, wantIndex) = pair.Download(indices);
        var (gotDistance, wantDistance) = pair.Download(distances);
        double maxCodeNorm = 0;
        for (int j = 0; j < c.Codes; j++) maxCodeNorm = Math.Max(maxCodeNorm, SquaredDistance(codebook.AsSpan(j * c.Cols, c.Cols), new float[c.Cols]));
        var exact = new double[c.Codes];
        for (int r = 0; r < c.Rows; r++)
        {
            var row = x.AsSpan(r * c.Cols, c.Cols);
            int best = 0;
            for (int j = 0; j < c.Codes; j++)
            {
                exact[j] = SquaredDistance(row, codebook.AsSpan(j * c.Cols, c.Cols));
                if (exact[j] < exact[best]) best = j;
            }
            double gap = double.PositiveInfinity;
            for (int j = 0; j < c.Codes; j++)
            {
                if (!SameRow(codebook, c.Cols, j, best)) gap = Math.Min(gap, exact[j] - exact[best]);
            }
            double tol = 1e-5 * (1 + SquaredDistance(row, new float[c.Cols]) + maxCodeNorm);
            foreach (var (who, index, distance) in new[] { ("backend", gotIndex[r], gotDistance[r]), ("reference", wantIndex[r], wantDistance[r]) })
            {
                string at = $"row {r}: {who} chose code {index}";
                if ((uint)index >= (uint)c.Codes) throw new XunitException($"{at}, outside [0, {c.Codes}).");
                if (exact[index] > exact[best] + tol)
                    throw new XunitException($"{at} at squared distance {exact[index]}, but code {best} is at {exact[best]} (tolerance {tol}).");
                for (int j = 0; j < index; j++)
                {
                    if (SameRow(codebook, c.Cols, j, index))
                        throw new XunitException($"{at}, but code {j} < {index} is identical: ties must go to the lowest index.");
                }
                if (!(Math.Abs(distance - exact[index]) <= tol))
                    throw new XunitException($"{at} and reported distance {distance}; its exact squared distance is {exact[index]} (tolerance {tol}).");
            }
            if (gap > 2 * tol && gotIndex[r] != wantIndex[r])
                throw new XunitException($"row {r}: backend chose code {gotIndex[r]}, reference {wantIndex[r]}, and no other code is within {gap} of the nearest.");
            if (!(Math.Abs(gotDistance[r] - wantDistance[r]) <= tol))
                throw new XunitException($"row {r}: distance {gotDistance[r]} vs reference {wantDistance[r]} (tolerance {tol}).");
        }
        pair.AssertGuardsIntact();
    }

    static double SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int k = 0; k < a.Length; k++)
        {
            double d = a[k] - (double)b[k];
            sum += d * d;
        }
        return sum;
    }

    static bool SameRow(float[] codebook, int cols, int i, int j) =>
        codebook.AsSpan(i * cols, cols).SequenceEqual(codebook.AsSpan(j * cols, cols));

    [Fact]
    public void NearestCode_matches_reference_and_breaks_ties_to_the_lowest_index()
    {
        Sweep(NearestCodeSweep(), CheckNearestCode);
        PropertyRunner.Check(NearestCodeCases, CheckNearestCode, Cases);
    }
}
