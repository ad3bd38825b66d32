// Optimizer primitives against the reference: Adam and AdamW over several consecutive steps (each backend keeps its
// own m and v), GlobalNorm (double accumulation), ClipByNorm, and AllFinite with NaN/Inf anywhere, tails included.
using FsCheck;
using FsCheck.Fluent;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Primitives;

public abstract partial class BackendPrimitiveTests
{
    // ---------------------------------------------------------------- Adam / AdamW

    public sealed record AdamCase(int Length, AdamSettings Settings, int StartStep, int Steps, int Seed);

    static readonly AdamSettings[] AdamVariants =
    [
        new AdamSettings(),
        new AdamSettings(LearningRate: 1e-2f, Beta1: 0.8f, Beta2: 0.99f, Epsilon: 1e-6f, WeightDecay: 0.1f),            // Adam + L2
        new AdamSettings(LearningRate: 1e-2f, WeightDecay: 0.05f, Decoupled: true),                                      // AdamW
        new AdamSettings(LearningRate: 3e-4f, Beta1: 0f, Beta2: 0.5f, Epsilon: 1e-3f, WeightDecay: 0.01f, Decoupled: true),
        new AdamSettings(LearningRate: 0f),
    ];

    static Gen<AdamCase> AdamCases { get; } =
        from length in Generators.Length
        from settings in Generators.OneOf(AdamVariants)
        from startStep in Generators.OneOf(1, 2, 1000)
        from steps in Gen.Choose(1, 5)
        from seed in Generators.Seed
        select new AdamCase(length, settings, startStep, steps, seed);

    /// <summary>Runs steps startStep .. startStep + steps - 1 with fresh gradients and compares p, m, v after each.</summary>
    void CheckAdam(AdamCase c)
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        bool fresh = c.StartStep == 1;
        var parameters = pair.Upload(HostData.Uniform(rng, c.Length, -1, 1));
        var m = pair.Upload(fresh ? new float[c.Length] : HostData.Uniform(rng, c.Length, -0.1f, 0.1f));
        var v = pair.Upload(fresh ? new float[c.Length] : HostData.Uniform(rng, c.Length, 0, 0.01f));
        var gradients = pair.Upload(new float[c.Length]);
        float[] hostGradients = [];
        for (int step = c.StartStep; step < c.StartStep + c.Steps; step++)
        {
            hostGradients = HostData.WithSpecials(rng, c.Length, -1, 1, [0f, 1e-4f, -1e-4f, 10f], 0.1);
            pair.Overwrite(gradients, hostGradients);

            pair.Run((be, s) => be.AdamStep(parameters[s], gradients[s], m[s], v[s], c.Settings, step));

            foreach (var (name, view) in new[] { ("parameters", parameters), ("m", m), ("v", v) })
            {
                var (got, want) = pair.Download(view);
                Tolerance.AssertClose($"{name} after step {step}", got, want, Tolerance.Abs, Tolerance.Rel);
            }
        }
        var (gotGradients, _) = pair.Download(gradients);
        Tolerance.AssertBitwiseEqual("gradients (an input)", gotGradients, hostGradients);
        pair.AssertGuardsIntact();
    }

    [Fact]
    public void AdamStep_matches_reference_over_several_steps()
    {
        var sweep = new List<AdamCase>();
        foreach (int n in SweepLengths()) sweep.Add(new AdamCase(n, AdamVariants[n % AdamVariants.Length], 1, 3, 8000 + n));
        Sweep(sweep, CheckAdam);
        PropertyRunner.Check(AdamCases, CheckAdam, Cases);
    }

    // ---------------------------------------------------------------- norms

    public sealed record NormCase(int Length, float Magnitude, int Seed);

    // 1e18: the squares fit in float but their sum does not, so only a double accumulation gets the norm right.
    static Gen<NormCase> NormCases { get; } =
        from length in Generators.Length
        from magnitude in Generators.OneOf(1f, 1e-3f, 1e3f, 1e18f)
        from seed in Generators.Seed
        select new NormCase(length, magnitude, seed);

    static double HostNorm(float[] x)
    {
        double sum = 0;
        foreach (float v in x) sum += (double)v * v;
        return Math.Sqrt(sum);
    }

    void CheckGlobalNorm(NormCase c)
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        float[] x = HostData.Uniform(rng, c.Length, -c.Magnitude, c.Magnitude);
        var tx = pair.Upload(x);
        var result = pair.Output(1, extra: rng.Next(2));

        pair.Run((be, s) => be.GlobalNorm(tx[s], result[s]));

        var (got, want) = pair.Download(result);
        float exact = (float)HostNorm(x);
        double[] bound = [3e-7 * exact];
        Tolerance.AssertWithin("result vs reference", got, want, bound);
        Tolerance.AssertWithin("result vs double norm", got, [exact], bound);
        pair.AssertGuardsIntact();
    }

    [Fact]
    public void GlobalNorm_accumulates_in_double_like_reference()
    {
        var sweep = new List<NormCase>();
        foreach (int n in SweepLengths()) sweep.Add(new NormCase(n, n % 2 == 0 ? 1f : 1e18f, 9000 + n));
        Sweep(sweep, CheckGlobalNorm);
        PropertyRunner.Check(NormCases, CheckGlobalNorm, Cases);
    }

    public sealed record ClipCase(int Length, float Ratio, int Seed);

    /// <summary>
    /// maxNorm = ratio * norm (ratio itself when x is empty, as maxNorm must be &gt; 0): ratios below 1 scale x down (1e-3
    /// almost to zero), 1 and above leave it (almost) unchanged.
    /// </summary>
    void CheckClipByNorm(ClipCase c)
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        float[] x = HostData.Uniform(rng, c.Length, -2, 2);
        float norm = (float)HostNorm(x);
        float maxNorm = norm > 0 ? c.Ratio * norm : c.Ratio;
        var tx = pair.Upload(x);
        var tn = pair.Upload([norm], extra: rng.Next(2));

        pair.Run((be, s) => be.ClipByNorm(tx[s], tn[s], maxNorm));

        var (got, want) = pair.Download(tx);
        Tolerance.AssertClose("x vs reference", got, want, Tolerance.Abs, Tolerance.Rel);
        double factor = Math.Min(1, maxNorm / (norm + 1e-6));
        var host = new float[c.Length];
        for (int i = 0; i < host.Length; i++) host[i] = (float)(x[i] * factor);
        Tolerance.AssertClose("x vs x * min(1, maxNorm / (norm + 1e-6))", got, host, Tolerance.Abs, Tolerance.Rel);
        pair.AssertGuardsIntact();
    }

    [Fact]
    public void ClipByNorm_matches_reference()
    {
        var sweep = new List<ClipCase>();
        foreach (int n in SweepLengths()) sweep.Add(new ClipCase(n, n % 3 == 0 ? 0.5f : 2f, 9500 + n));
        Sweep(sweep, CheckClipByNorm);
        PropertyRunner.Check(
            from length in Generators.Length
            from ratio in Generators.OneOf(1e-3f, 0.25f, 0.999f, 1f, 2f)
            from seed in Generators.Seed
            select new ClipCase(length, ratio, seed),
            CheckClipByNorm, Cases);
    }

    // ---------------------------------------------------------------- AllFinite

    public enum Taint { None, NaN, PositiveInfinity, NegativeInfinity, ExtremeFinite }

    public sealed record AllFiniteCase(int Length, Taint Taint, int Position, int Seed);

    void CheckAllFinite(AllFiniteCase c)
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        float[] x = HostData.Uniform(rng, c.Length, -1e3f, 1e3f);
        if (c.Length > 0)
        {
            int position = c.Position % c.Length;
            x[position] = c.Taint switch
            {
                Taint.NaN => float.NaN,
                Taint.PositiveInfinity => float.PositiveInfinity,
                Taint.NegativeInfinity => float.NegativeInfinity,
                Taint.ExtremeFinite => rng.Next(2) == 0 ? float.MaxValue : -float.Epsilon,
                _ => x[position],
            };
        }
        int expected = 1;
        foreach (float v in x) if (!float.IsFinite(v)) expected = 0;
        var tx = pair.Upload(x);
        var result = pair.Upload([HostData.IntPoison], extra: rng.Next(2));

        pair.Run((be, s) => be.AllFinite(tx[s], result[s]));

        var (got, want) = pair.Download(result);
        Tolerance.AssertEqual("result vs reference", got, want);
        Tolerance.AssertEqual("result vs host", got, [expected]);
        pair.AssertGuardsIntact();
    }

    [Fact]
    public void AllFinite_detects_nan_and_infinity_anywhere()
    {
        var sweep = new List<AllFiniteCase>();
        foreach (int n in SweepLengths())
        {
            foreach (var taint in Enum.GetValues<Taint>())
            {
                sweep.Add(new AllFiniteCase(n, taint, n - 1, 9900 + n));   // the last element: the tail path
                sweep.Add(new AllFiniteCase(n, taint, 0, 9900 + n));
            }
        }
        Sweep(sweep, CheckAllFinite);
        PropertyRunner.Check(
            from length in Generators.Length
            from taint in Generators.OneOf(Enum.GetValues<Taint>())
            from position in Gen.Choose(0, int.MaxValue)
            from seed in Generators.Seed
            select new AllFiniteCase(length, taint, position, seed),
            CheckAllFinite, Cases);
    }
}
