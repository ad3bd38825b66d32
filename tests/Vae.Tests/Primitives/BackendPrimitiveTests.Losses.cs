// Loss forwards (per-row sums and the optional total) and backwards of every loss, against the reference.
// Row sums are compared with |got - want| <= 1e-6 cols + 2e-5 M_r, where M_r sums the magnitudes of the parts each
// element's term is computed from (so cancellation inside a term or between terms does not make the bound vanish).
using FsCheck;
using FsCheck.Fluent;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Primitives;

public abstract partial class BackendPrimitiveTests
{
    public sealed record LossCase(int Rows, int Cols, bool WithTotal, float Scale, int Seed);

    static readonly float[] GradientScales = [1f, 1f / 128, -0.5f, 3f];

    static Gen<LossCase> LossCases { get; } =
        from shape in Generators.Matrix(200_000)
        from withTotal in Generators.Bool
        from scale in Generators.OneOf(GradientScales)
        from seed in Generators.Seed
        select new LossCase(shape.Rows, shape.Cols, withTotal, scale, seed);

    static IEnumerable<LossCase> LossSweep()
    {
        // Every column remainder with a few rows, then one large batch.
        for (int cols = 0; cols <= 65; cols++) yield return new LossCase(3, cols, cols % 2 == 0, 1f / 3, 3000 + cols);
        yield return new LossCase(0, 7, true, 1f, 3100);
        yield return new LossCase(128, 784, true, 1f / 128, 3101);
    }

    static void CheckLoss(Action<LossCase> body)
    {
        Sweep(LossSweep(), body);
        PropertyRunner.Check(LossCases, body, Cases);
    }

    /// <summary>Compares perSample with per-row bounds 1e-6 cols + 2e-5 magnitude[r], and total with their sum.</summary>
    static void AssertLossForward(BackendPair pair, Twin<float> perSample, Twin<float> total, double[] magnitude, int cols)
    {
        var (got, want) = pair.Download(perSample);
        var bound = new double[magnitude.Length];
        double totalBound = 0;
        for (int r = 0; r < bound.Length; r++)
        {
            bound[r] = 1e-6 * cols + 2e-5 * magnitude[r];
            totalBound += bound[r];
        }
        Tolerance.AssertWithin("perSample", got, want, bound);
        if (total.Count == 0) return;
        var (gotTotal, wantTotal) = pair.Download(total);
        Tolerance.AssertWithin("total", gotTotal, wantTotal, [totalBound]);
    }

    static double[] Bound(int length, Func<int, double> magnitude, double abs = Tolerance.Abs, double rel = 2e-5)
    {
        var bound = new double[length];
        for (int i = 0; i < length; i++) bound[i] = abs + rel * magnitude(i);
        return bound;
    }

    // ---------------------------------------------------------------- binary cross-entropy

    static readonly float[] LogitSpecials = [0f, 40f, -40f, 15f, -15f];

    (float[] Logits, float[] Targets) BceData(LossCase c, System.Random rng)
    {
        float[] logits = HostData.WithSpecials(rng, c.Rows * c.Cols, -8, 8, LogitSpecials, 0.03);
        float[] targets = HostData.Uniform(rng, c.Rows * c.Cols, 0, 1);
        if (rng.Next(2) == 0)
        {
            for (int i = 0; i < targets.Length; i++) targets[i] = targets[i] < 0.5f ? 0f : 1f;
        }
        return (logits, targets);
    }

    [Fact]
    public void BceWithLogitsForward_matches_reference() => CheckLoss(c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        var (logits, targets) = BceData(c, rng);
        var tl = pair.Upload(logits, extra: rng.Next(3));
        var tt = pair.Upload(targets, extra: rng.Next(3));
        var perSample = pair.Output(c.Rows, extra: rng.Next(3));
        var total = OptionalTotal(pair, c.WithTotal, rng);

        pair.Run((be, s) => be.BceWithLogitsForward(tl[s], tt[s], perSample[s], total[s], c.Rows, c.Cols));

        var magnitude = new double[c.Rows];
        for (int i = 0; i < logits.Length; i++)
        {
            double l = logits[i];
            magnitude[i / c.Cols] += Math.Max(l, 0) + Math.Abs(l * targets[i]) + Math.Log(2);
        }
        AssertLossForward(pair, perSample, total, magnitude, c.Cols);
        pair.AssertGuardsIntact();
    });

    [Fact]
    public void BceWithLogitsBackward_matches_reference() => CheckLoss(c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        var (logits, targets) = BceData(c, rng);
        var tl = pair.Upload(logits, extra: rng.Next(3));
        var tt = pair.Upload(targets, extra: rng.Next(3));
        var dLogits = pair.Output(logits.Length, extra: rng.Next(3));

        pair.Run((be, s) => be.BceWithLogitsBackward(tl[s], tt[s], dLogits[s], c.Rows, c.Cols, c.Scale));

        var (got, want) = pair.Download(dLogits);
        Tolerance.AssertWithin("dLogits", got, want, Bound(got.Length, i => Math.Abs(want[i]), abs: 2e-6 * Math.Abs(c.Scale)));
        pair.AssertGuardsIntact();
    });

    // ---------------------------------------------------------------- squared error

    [Fact]
    public void MseForward_matches_reference() => CheckLoss(c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        float[] prediction = HostData.Uniform(rng, c.Rows * c.Cols, -2, 2), targets = HostData.Uniform(rng, c.Rows * c.Cols, -2, 2);
        var tp = pair.Upload(prediction, extra: rng.Next(3));
        var tt = pair.Upload(targets, extra: rng.Next(3));
        var perSample = pair.Output(c.Rows, extra: rng.Next(3));
        var total = OptionalTotal(pair, c.WithTotal, rng);

        pair.Run((be, s) => be.MseForward(tp[s], tt[s], perSample[s], total[s], c.Rows, c.Cols));

        var magnitude = new double[c.Rows];
        for (int i = 0; i < prediction.Length; i++)
        {
            double d = prediction[i] - (double)targets[i];
            magnitude[i / c.Cols] += d * d;
        }
        AssertLossForward(pair, perSample, total, magnitude, c.Cols);
        pair.AssertGuardsIntact();
    });

    [Fact]
    public void MseBackward_matches_reference() => CheckLoss(c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        float[] prediction = HostData.Uniform(rng, c.Rows * c.Cols, -2, 2), targets = HostData.Uniform(rng, c.Rows * c.Cols, -2, 2);
        var tp = pair.Upload(prediction, extra: rng.Next(3));
        var tt = pair.Upload(targets, extra: rng.Next(3));
        var dPrediction = pair.Output(prediction.Length, extra: rng.Next(3));

        pair.Run((be, s) => be.MseBackward(tp[s], tt[s], dPrediction[s], c.Rows, c.Cols, c.Scale));

        var (got, want) = pair.Download(dPrediction);
        Tolerance.AssertWithin("dPrediction", got, want,
            Bound(got.Length, i => Math.Abs(c.Scale) * 2 * (Math.Abs(prediction[i]) + Math.Abs(targets[i])), abs: 1e-6 * Math.Abs(c.Scale), rel: Tolerance.Rel));
        pair.AssertGuardsIntact();
    });

    // ---------------------------------------------------------------- Gaussian negative log-likelihood

    (float[] Mean, float[] LogVar, float[] Targets) GaussianData(LossCase c, System.Random rng) =>
        (HostData.Uniform(rng, c.Rows * c.Cols, -2, 2),
         HostData.WithSpecials(rng, c.Rows * c.Cols, -4, 4, [0f, -9f, 9f], 0.05),
         HostData.Uniform(rng, c.Rows * c.Cols, -2, 2));

    [Fact]
    public void GaussianNllForward_matches_reference() => CheckLoss(c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        var (mean, logVar, targets) = GaussianData(c, rng);
        var tm = pair.Upload(mean, extra: rng.Next(3));
        var tv = pair.Upload(logVar, extra: rng.Next(3));
        var tt = pair.Upload(targets, extra: rng.Next(3));
        var perSample = pair.Output(c.Rows, extra: rng.Next(3));
        var total = OptionalTotal(pair, c.WithTotal, rng);

        pair.Run((be, s) => be.GaussianNllForward(tm[s], tv[s], tt[s], perSample[s], total[s], c.Rows, c.Cols));

        var magnitude = new double[c.Rows];
        for (int i = 0; i < mean.Length; i++)
        {
            double d = targets[i] - (double)mean[i];
            magnitude[i / c.Cols] += 0.5 * (Math.Log(2 * Math.PI) + Math.Abs(logVar[i]) + d * d * Math.Exp(-logVar[i]));
        }
        AssertLossForward(pair, perSample, total, magnitude, c.Cols);
        pair.AssertGuardsIntact();
    });

    [Fact]
    public void GaussianNllBackward_matches_reference() => CheckLoss(c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        var (mean, logVar, targets) = GaussianData(c, rng);
        var tm = pair.Upload(mean, extra: rng.Next(3));
        var tv = pair.Upload(logVar, extra: rng.Next(3));
        var tt = pair.Upload(targets, extra: rng.Next(3));
        var dMean = pair.Output(mean.Length, extra: rng.Next(3));
        var dLogVar = pair.Output(mean.Length, extra: rng.Next(3));

        pair.Run((be, s) => be.GaussianNllBackward(tm[s], tv[s], tt[s], dMean[s], dLogVar[s], c.Rows, c.Cols, c.Scale));

        double scale = Math.Abs(c.Scale);
        var (gotMean, wantMean) = pair.Download(dMean);
        var (gotLogVar, wantLogVar) = pair.Download(dLogVar);
        // d^2 e^-lv is the size of the parts that dLogVar = 0.5 scale (1 - d^2 e^-lv) cancels.
        Tolerance.AssertWithin("dMean", gotMean, wantMean, Bound(mean.Length, i => Math.Abs(wantMean[i]), abs: 1e-6 * scale));
        Tolerance.AssertWithin("dLogVar", gotLogVar, wantLogVar, Bound(mean.Length, i =>
        {
            double d = targets[i] - (double)mean[i];
            return scale * 0.5 * (1 + d * d * Math.Exp(-logVar[i]));
        }, abs: 1e-6 * scale));
        pair.AssertGuardsIntact();
    });

    // ---------------------------------------------------------------- softmax cross-entropy

    public sealed record CrossEntropyCase(int Rows, int Classes, int IgnoreIndex, bool WithTotal, float Scale, int Seed);

    static Gen<CrossEntropyCase> CrossEntropyCases { get; } =
        from rows in Generators.Rows
        from classes in Gen.Frequency((6, Gen.Choose(1, 40)), (1, Gen.Elements(new[] { 64, 65, 100, 1000 })))
        from ignoreIndex in Generators.OneOf(-100, -1, 0)
        from withTotal in Generators.Bool
        from scale in Generators.OneOf(GradientScales)
        from seed in Generators.Seed
        select new CrossEntropyCase(rows, (long)rows * classes > 200_000 ? classes % 41 + 1 : classes, ignoreIndex, withTotal, scale, seed);

    static IEnumerable<CrossEntropyCase> CrossEntropySweep()
    {
        for (int classes = 1; classes <= 65; classes++) yield return new CrossEntropyCase(4, classes, -100, classes % 2 == 0, 0.25f, 4000 + classes);
        yield return new CrossEntropyCase(0, 10, -100, true, 1f, 4100);
        yield return new CrossEntropyCase(128, 784, -1, true, 1f / 128, 4101);
    }

    /// <summary>
    /// Logits in [-10, 10]; about one row in ten is shifted by +-80, which overflows or underflows exp in float unless
    /// the row maximum is subtracted. About one target in five is the ignore index.
    /// </summary>
    static (float[] Logits, int[] Targets) CrossEntropyData(CrossEntropyCase c, System.Random rng)
    {
        float[] logits = HostData.Uniform(rng, c.Rows * c.Classes, -10, 10);
        var targets = new int[c.Rows];
        for (int r = 0; r < c.Rows; r++)
        {
            targets[r] = rng.Next(5) == 0 ? c.IgnoreIndex : rng.Next(c.Classes);
            if (rng.Next(10) == 0)
            {
                float shift = rng.Next(2) == 0 ? 80f : -80f;
                for (int j = 0; j < c.Classes; j++) logits[r * c.Classes + j] += shift;
            }
        }
        return (logits, targets);
    }

    void CheckCrossEntropyForward(CrossEntropyCase c)
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        var (logits, targets) = CrossEntropyData(c, rng);
        var tl = pair.Upload(logits, extra: rng.Next(3));
        var tt = pair.Upload(targets, extra: rng.Next(3));
        var perSample = pair.Output(c.Rows, extra: rng.Next(3));
        var total = OptionalTotal(pair, c.WithTotal, rng);

        pair.Run((be, s) => be.CrossEntropyForward(tl[s], tt[s], perSample[s], total[s], c.Rows, c.Classes, c.IgnoreIndex));

        // The parts of a row's loss are logsumexp (about the row maximum) and the target's logit.
        var magnitude = new double[c.Rows];
        for (int r = 0; r < c.Rows; r++)
        {
            if (targets[r] == c.IgnoreIndex) continue;
            double max = double.NegativeInfinity;
            for (int j = 0; j < c.Classes; j++) max = Math.Max(max, logits[r * c.Classes + j]);
            magnitude[r] = Math.Abs(max) + Math.Log(c.Classes) + Math.Abs(logits[r * c.Classes + targets[r]]);
        }
        AssertLossForward(pair, perSample, total, magnitude, c.Classes);
        var (got, _) = pair.Download(perSample);
        for (int r = 0; r < c.Rows; r++)
        {
            if (targets[r] == c.IgnoreIndex && got[r] != 0f)
                throw new Xunit.Sdk.XunitException($"perSample[{r}] = {got[r]} for a row whose target is the ignore index {c.IgnoreIndex}; want 0.");
        }
        pair.AssertGuardsIntact();
    }

    void CheckCrossEntropyBackward(CrossEntropyCase c)
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        var (logits, targets) = CrossEntropyData(c, rng);
        var tl = pair.Upload(logits, extra: rng.Next(3));
        var tt = pair.Upload(targets, extra: rng.Next(3));
        var dLogits = pair.Output(logits.Length, extra: rng.Next(3));

        pair.Run((be, s) => be.CrossEntropyBackward(tl[s], tt[s], dLogits[s], c.Rows, c.Classes, c.IgnoreIndex, c.Scale));

        var (got, want) = pair.Download(dLogits);
        Tolerance.AssertWithin("dLogits", got, want, Bound(got.Length, i => Math.Abs(want[i]), abs: 2e-6 * Math.Abs(c.Scale)));
        for (int r = 0; r < c.Rows; r++)
        {
            if (targets[r] != c.IgnoreIndex) continue;
            for (int j = 0; j < c.Classes; j++)
            {
                if (got[r * c.Classes + j] != 0f)
                    throw new Xunit.Sdk.XunitException($"dLogits[{r}, {j}] = {got[r * c.Classes + j]} in a row whose target is the ignore index {c.IgnoreIndex}; want 0.");
            }
        }
        pair.AssertGuardsIntact();
    }

    [Fact]
    public void CrossEntropyForward_matches_reference()
    {
        Sweep(CrossEntropySweep(), CheckCrossEntropyForward);
        PropertyRunner.Check(CrossEntropyCases, CheckCrossEntropyForward, Cases);
    }

    [Fact]
    public void CrossEntropyBackward_matches_reference()
    {
        Sweep(CrossEntropySweep(), CheckCrossEntropyBackward);
        PropertyRunner.Check(CrossEntropyCases, CheckCrossEntropyBackward, Cases);
    }

    // ---------------------------------------------------------------- KL divergences

    static (float[] Mu, float[] LogVar) KlData(LossCase c, System.Random rng) =>
        (HostData.Uniform(rng, c.Rows * c.Cols, -3, 3), HostData.WithSpecials(rng, c.Rows * c.Cols, -5, 5, [0f, 1e-4f, -1e-4f], 0.05));

    [Fact]
    public void KlStandardNormalForward_matches_reference() => CheckLoss(c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        var (mu, logVar) = KlData(c, rng);
        var tm = pair.Upload(mu, extra: rng.Next(3));
        var tv = pair.Upload(logVar, extra: rng.Next(3));
        var perSample = pair.Output(c.Rows, extra: rng.Next(3));
        var total = OptionalTotal(pair, c.WithTotal, rng);

        pair.Run((be, s) => be.KlStandardNormalForward(tm[s], tv[s], perSample[s], total[s], c.Rows, c.Cols));

        var magnitude = new double[c.Rows];
        for (int i = 0; i < mu.Length; i++)
            magnitude[i / c.Cols] += 0.5 * (1 + Math.Abs(logVar[i]) + mu[i] * (double)mu[i] + Math.Exp(logVar[i]));
        AssertLossForward(pair, perSample, total, magnitude, c.Cols);
        pair.AssertGuardsIntact();
    });

    [Fact]
    public void KlStandardNormalBackward_accumulates_like_reference() => CheckLoss(c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        var (mu, logVar) = KlData(c, rng);
        float[] dMu0 = HostData.Uniform(rng, mu.Length, -1, 1), dLogVar0 = HostData.Uniform(rng, mu.Length, -1, 1);
        var tm = pair.Upload(mu, extra: rng.Next(3));
        var tv = pair.Upload(logVar, extra: rng.Next(3));
        var dMu = pair.Upload(dMu0, extra: rng.Next(3));
        var dLogVar = pair.Upload(dLogVar0, extra: rng.Next(3));

        pair.Run((be, s) => be.KlStandardNormalBackward(tm[s], tv[s], dMu[s], dLogVar[s], c.Rows, c.Cols, c.Scale));

        double scale = Math.Abs(c.Scale);
        var (gotMu, wantMu) = pair.Download(dMu);
        var (gotLogVar, wantLogVar) = pair.Download(dLogVar);
        Tolerance.AssertWithin("dMu", gotMu, wantMu, Bound(mu.Length, i => Math.Abs(dMu0[i]) + scale * Math.Abs(mu[i])));
        Tolerance.AssertWithin("dLogVar", gotLogVar, wantLogVar, Bound(mu.Length, i => Math.Abs(dLogVar0[i]) + scale * 0.5 * (Math.Exp(logVar[i]) + 1)));
        pair.AssertGuardsIntact();
    });

    static (float[] MuQ, float[] LogVarQ, float[] MuP, float[] LogVarP) KlGaussianData(LossCase c, System.Random rng)
    {
        int n = c.Rows * c.Cols;
        float[] muQ = HostData.Uniform(rng, n, -2, 2), logVarQ = HostData.Uniform(rng, n, -3, 3);
        float[] muP = HostData.Uniform(rng, n, -2, 2), logVarP = HostData.Uniform(rng, n, -3, 3);
        for (int i = 0; i < n; i++)
        {
            if (rng.Next(20) != 0) continue;   // q = p exactly: the term is 0 and its gradients too
            muP[i] = muQ[i];
            logVarP[i] = logVarQ[i];
        }
        return (muQ, logVarQ, muP, logVarP);
    }

    [Fact]
    public void KlGaussianForward_matches_reference() => CheckLoss(c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        var (muQ, logVarQ, muP, logVarP) = KlGaussianData(c, rng);
        var tmq = pair.Upload(muQ, extra: rng.Next(3));
        var tvq = pair.Upload(logVarQ, extra: rng.Next(3));
        var tmp = pair.Upload(muP, extra: rng.Next(3));
        var tvp = pair.Upload(logVarP, extra: rng.Next(3));
        var perSample = pair.Output(c.Rows, extra: rng.Next(3));
        var total = OptionalTotal(pair, c.WithTotal, rng);

        pair.Run((be, s) => be.KlGaussianForward(tmq[s], tvq[s], tmp[s], tvp[s], perSample[s], total[s], c.Rows, c.Cols));

        var magnitude = new double[c.Rows];
        for (int i = 0; i < muQ.Length; i++)
        {
            double d = muQ[i] - (double)muP[i];
            magnitude[i / c.Cols] += 0.5 * (Math.Abs(logVarP[i]) + Math.Abs(logVarQ[i]) + (Math.Exp(logVarQ[i]) + d * d) * Math.Exp(-logVarP[i]) + 1);
        }
        AssertLossForward(pair, perSample, total, magnitude, c.Cols);
        pair.AssertGuardsIntact();
    });

    [Fact]
    public void KlGaussianBackward_accumulates_like_reference() => CheckLoss(c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        var (muQ, logVarQ, muP, logVarP) = KlGaussianData(c, rng);
        int n = muQ.Length;
        float[][] initial = [HostData.Uniform(rng, n, -1, 1), HostData.Uniform(rng, n, -1, 1), HostData.Uniform(rng, n, -1, 1), HostData.Uniform(rng, n, -1, 1)];
        var tmq = pair.Upload(muQ, extra: rng.Next(3));
        var tvq = pair.Upload(logVarQ, extra: rng.Next(3));
        var tmp = pair.Upload(muP, extra: rng.Next(3));
        var tvp = pair.Upload(logVarP, extra: rng.Next(3));
        var dMuQ = pair.Upload(initial[0], extra: rng.Next(3));
        var dLogVarQ = pair.Upload(initial[1], extra: rng.Next(3));
        var dMuP = pair.Upload(initial[2], extra: rng.Next(3));
        var dLogVarP = pair.Upload(initial[3], extra: rng.Next(3));

        pair.Run((be, s) => be.KlGaussianBackward(tmq[s], tvq[s], tmp[s], tvp[s], dMuQ[s], dLogVarQ[s], dMuP[s], dLogVarP[s], c.Rows, c.Cols, c.Scale));

        double scale = Math.Abs(c.Scale);
        double MuMagnitude(int i) => scale * Math.Abs(muQ[i] - (double)muP[i]) * Math.Exp(-logVarP[i]);
        double LogVarQMagnitude(int i) => scale * 0.5 * (Math.Exp(logVarQ[i] - (double)logVarP[i]) + 1);
        double LogVarPMagnitude(int i)
        {
            double d = muQ[i] - (double)muP[i];
            return scale * 0.5 * (1 + (Math.Exp(logVarQ[i]) + d * d) * Math.Exp(-logVarP[i]));
        }
        var outputs = new (string Name, Twin<float> View, Func<int, double> Magnitude, float[] Initial)[]
        {
            ("dMuQ", dMuQ, MuMagnitude, initial[0]),
            ("dLogVarQ", dLogVarQ, LogVarQMagnitude, initial[1]),
            ("dMuP", dMuP, MuMagnitude, initial[2]),
            ("dLogVarP", dLogVarP, LogVarPMagnitude, initial[3]),
        };
        foreach (var (name, view, magnitude, init) in outputs)
        {
            var (got, want) = pair.Download(view);
            Tolerance.AssertWithin(name, got, want, Bound(n, i => Math.Abs(init[i]) + magnitude(i)));
        }
        pair.AssertGuardsIntact();
    });

    // ---------------------------------------------------------------- free bits (KL floor per latent dimension)

    static IEnumerable<LossCase> FreeBitsSweep()
    {
        foreach (var c in LossSweep()) yield return c;
        // Every row count up to two warps' worth and past it, then VAE-like batches and multi-stripe, multi-threaded sizes.
        for (int rows = 1; rows <= 70; rows++) yield return new LossCase(rows, 5, false, 1f / rows, 3200 + rows);
        yield return new LossCase(128, 20, false, 1f / 128, 3300);
        yield return new LossCase(1000, 20, false, 1f / 1000, 3301);
        yield return new LossCase(33, 129, false, -0.5f, 3302);
        yield return new LossCase(256, 784, false, 3f, 3303);
    }

    static void CheckFreeBits(Action<LossCase> body)
    {
        Sweep(FreeBitsSweep(), body);
        PropertyRunner.Check(LossCases, body, Cases);
    }

    /// <summary>
    /// The batch-mean KL of each column computed here in double from the float inputs, and the bound a backend's float
    /// result is held to: 1e-6 + 2e-5 (sum over the column of the magnitudes of each term's parts) / rows.
    /// </summary>
    static (double[] Means, double[] Bounds) HostKlPerDimension(float[] mu, float[] logVar, int rows, int cols)
    {
        var means = new double[cols];
        var bounds = new double[cols];
        for (int c = 0; c < cols; c++)
        {
            double sum = 0, magnitude = 0;
            for (int r = 0; r < rows; r++)
            {
                double m = mu[r * cols + c], lv = logVar[r * cols + c];
                sum += 1 + lv - m * m - Math.Exp(lv);
                magnitude += 0.5 * (1 + Math.Abs(lv) + m * m + Math.Exp(lv));
            }
            means[c] = rows == 0 ? 0 : -0.5 * sum / rows;
            bounds[c] = 1e-6 + 2e-5 * (rows == 0 ? 0 : magnitude / rows);
        }
        return (means, bounds);
    }

    /// <summary>
    /// A floor that no column's mean is within 4 bounds of (so every backend picks the same columns): usually the middle
    /// of a wide enough gap between two sorted means (some columns above, some below), sometimes below all of them (every
    /// column active) or above all (none).
    /// </summary>
    static float ChooseFloor(double[] means, double[] bounds, System.Random rng)
    {
        if (means.Length == 0) return 0.5f;
        double lowest = means.Min(), highest = means.Max(), widest = 4 * bounds.Max();
        int kind = rng.Next(8);
        if (kind == 0) return (float)(lowest - 1 - widest);
        if (kind == 1) return (float)(highest + 1 + widest);
        var order = Enumerable.Range(0, means.Length).OrderBy(c => means[c]).ToArray();
        var gaps = new List<float>();
        for (int k = 0; k + 1 < order.Length; k++)
        {
            double below = means[order[k]], above = means[order[k + 1]], middle = 0.5 * (below + above);
            if (middle - below > 4 * bounds[order[k]] + 1e-6 * Math.Abs(middle) && above - middle > 4 * bounds[order[k + 1]] + 1e-6 * Math.Abs(middle))
                gaps.Add((float)middle);
        }
        return gaps.Count > 0 ? gaps[rng.Next(gaps.Count)] : (float)(lowest - 1 - widest);
    }

    /// <summary>0: separate gradients; 1: dMu is mu and dLogVar is logVar; 2: dMu is logVar and dLogVar is mu (in place).</summary>
    static (Twin<float> DMu, Twin<float> DLogVar, float[] DMu0, float[] DLogVar0) FreeBitsGradients(BackendPair pair, Twin<float> tm, Twin<float> tv,
        float[] mu, float[] logVar, int mode, System.Random rng)
    {
        if (mode == 1) return (tm, tv, (float[])mu.Clone(), (float[])logVar.Clone());
        if (mode == 2) return (tv, tm, (float[])logVar.Clone(), (float[])mu.Clone());
        float[] dMu0 = HostData.Uniform(rng, mu.Length, -1, 1), dLogVar0 = HostData.Uniform(rng, mu.Length, -1, 1);
        return (pair.Upload(dMu0, extra: rng.Next(3)), pair.Upload(dLogVar0, extra: rng.Next(3)), dMu0, dLogVar0);
    }

    [Fact]
    public void KlFreeBitsBackward_matches_reference_and_the_host_means() => CheckFreeBits(c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        var (mu, logVar) = KlData(c, rng);
        var (means, bounds) = HostKlPerDimension(mu, logVar, c.Rows, c.Cols);
        float freeBits = ChooseFloor(means, bounds, rng);
        var tm = pair.Upload(mu, extra: rng.Next(3));
        var tv = pair.Upload(logVar, extra: rng.Next(3));
        var (dMu, dLogVar, dMu0, dLogVar0) = FreeBitsGradients(pair, tm, tv, mu, logVar, rng.Next(3), rng);
        var perDimension = pair.Output(c.Cols, extra: rng.Next(3));

        pair.Run((be, s) => be.KlFreeBitsBackward(tm[s], tv[s], dMu[s], dLogVar[s], perDimension[s], c.Rows, c.Cols, c.Scale, freeBits));

        var (gotMeans, wantMeans) = pair.Download(perDimension);
        Tolerance.AssertWithin("perDimension vs reference", gotMeans, wantMeans, bounds);
        Tolerance.AssertWithin("perDimension vs the host's double means", gotMeans, means.Select(m => (float)m).ToArray(), bounds);
        double scale = Math.Abs(c.Scale);
        var (gotMu, wantMu) = pair.Download(dMu);
        var (gotLogVar, wantLogVar) = pair.Download(dLogVar);
        Tolerance.AssertWithin("dMu", gotMu, wantMu, Bound(mu.Length, i => Math.Abs(dMu0[i]) + scale * Math.Abs(mu[i])));
        Tolerance.AssertWithin("dLogVar", gotLogVar, wantLogVar, Bound(mu.Length, i => Math.Abs(dLogVar0[i]) + scale * 0.5 * (Math.Exp(logVar[i]) + 1)));
        // The columns at or below the floor are not touched at all; the others moved where the gradient is not 0.
        for (int col = 0; col < c.Cols; col++)
        {
            if (gotMeans[col] > freeBits) continue;
            for (int r = 0; r < c.Rows; r++)
            {
                int i = r * c.Cols + col;
                if (BitConverter.SingleToInt32Bits(gotMu[i]) != BitConverter.SingleToInt32Bits(dMu0[i]) ||
                    BitConverter.SingleToInt32Bits(gotLogVar[i]) != BitConverter.SingleToInt32Bits(dLogVar0[i]))
                    throw new Xunit.Sdk.XunitException($"[{r}, {col}]: column mean {gotMeans[col]} <= freeBits {freeBits}, but the gradients changed " +
                        $"from ({dMu0[i]}, {dLogVar0[i]}) to ({gotMu[i]}, {gotLogVar[i]}).");
            }
        }
        pair.AssertGuardsIntact();
    });

    [Fact]
    public void KlFreeBitsBackward_with_a_zero_floor_is_the_plain_kl_backward() => CheckFreeBits(c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        var (mu, logVar) = KlData(c, rng);
        if (c.Cols > 1)
        {
            // One column at the prior exactly (mu = logVar = 0: KL 0, not above a zero floor, and a zero gradient anyway).
            int zero = rng.Next(c.Cols);
            for (int r = 0; r < c.Rows; r++) mu[r * c.Cols + zero] = logVar[r * c.Cols + zero] = 0f;
        }
        float[] dMu0 = HostData.Uniform(rng, mu.Length, -1, 1), dLogVar0 = HostData.Uniform(rng, mu.Length, -1, 1);
        var tm = pair.Upload(mu);
        var tv = pair.Upload(logVar);
        var freeMu = pair.Upload(dMu0);
        var freeLogVar = pair.Upload(dLogVar0);
        var plainMu = pair.Upload(dMu0);
        var plainLogVar = pair.Upload(dLogVar0);
        var perDimension = pair.Output(c.Cols);
        var be = pair.Test;

        be.KlFreeBitsBackward(tm.Test, tv.Test, freeMu.Test, freeLogVar.Test, perDimension.Test, c.Rows, c.Cols, c.Scale, 0f);
        be.KlStandardNormalBackward(tm.Test, tv.Test, plainMu.Test, plainLogVar.Test, c.Rows, c.Cols, c.Scale);

        var means = new float[c.Cols];
        be.Download(perDimension.Test.Slice(0, c.Cols), means);
        float[] Get(Twin<float> t)
        {
            var values = new float[t.Count];
            be.Download(t.Test.Slice(0, t.Count), values);
            return values;
        }
        float[] gotMu = Get(freeMu), gotLogVar = Get(freeLogVar), wantMu = Get(plainMu), wantLogVar = Get(plainLogVar);
        int positive = 0;
        for (int col = 0; col < c.Cols; col++)
        {
            if (means[col] > 0f)
            {
                positive++;
                continue;
            }
            // A column with no positive KL (the one at the prior): untouched, where the plain backward adds scale * 0.
            for (int r = 0; r < c.Rows; r++)
            {
                int i = r * c.Cols + col;
                Assert.Equal(dMu0[i], gotMu[i]);
                Assert.Equal(dLogVar0[i], gotLogVar[i]);
                wantMu[i] = gotMu[i];
                wantLogVar[i] = gotLogVar[i];
            }
        }
        Assert.True(c.Rows == 0 || positive >= c.Cols - 1, $"only {positive} of {c.Cols} columns have a positive mean KL");
        double scale = Math.Abs(c.Scale);
        Tolerance.AssertWithin("dMu (free bits 0 vs KlStandardNormalBackward)", gotMu, wantMu, Bound(mu.Length, i => Math.Abs(dMu0[i]) + scale * Math.Abs(mu[i])));
        Tolerance.AssertWithin("dLogVar (free bits 0 vs KlStandardNormalBackward)", gotLogVar, wantLogVar,
            Bound(mu.Length, i => Math.Abs(dLogVar0[i]) + scale * 0.5 * (Math.Exp(logVar[i]) + 1)));
        pair.AssertGuardsIntact();
    });

    [Fact]
    public void KlFreeBitsBackward_under_a_huge_floor_adds_no_gradient() => CheckFreeBits(c =>
    {
        var rng = new System.Random(c.Seed);
        using var pair = NewPair(c.Seed);
        var (mu, logVar) = KlData(c, rng);
        float[] dMu0 = HostData.Uniform(rng, mu.Length, -1, 1), dLogVar0 = HostData.Uniform(rng, mu.Length, -1, 1);
        var tm = pair.Upload(mu, extra: rng.Next(3));
        var tv = pair.Upload(logVar, extra: rng.Next(3));
        var dMu = pair.Upload(dMu0, extra: rng.Next(3));
        var dLogVar = pair.Upload(dLogVar0, extra: rng.Next(3));
        var perDimension = pair.Output(c.Cols, extra: rng.Next(3));
        float floor = rng.Next(2) == 0 ? 1e6f : float.PositiveInfinity;

        pair.Run((be, s) => be.KlFreeBitsBackward(tm[s], tv[s], dMu[s], dLogVar[s], perDimension[s], c.Rows, c.Cols, c.Scale, floor));

        var (gotMu, _) = pair.Download(dMu);
        var (gotLogVar, _) = pair.Download(dLogVar);
        Tolerance.AssertBitwiseEqual("dMu under the floor", gotMu, dMu0);
        Tolerance.AssertBitwiseEqual("dLogVar under the floor", gotLogVar, dLogVar0);
        var (means, bounds) = HostKlPerDimension(mu, logVar, c.Rows, c.Cols);
        var (gotMeans, _) = pair.Download(perDimension);
        Tolerance.AssertWithin("perDimension vs the host's double means", gotMeans, means.Select(m => (float)m).ToArray(), bounds);
        pair.AssertGuardsIntact();
    });

    [Fact]
    public void KlFreeBitsBackward_rejects_bad_arguments_before_writing()
    {
        void Rejects(string param, string fragment, Action<IComputeBackend, ValidationViews> call)
        {
            using var views = new ValidationViews(Backend, CreateBackend);
            var e = Assert.ThrowsAny<ArgumentException>(() => call(Backend, views));
            Assert.Equal(param, e.ParamName);
            Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
            views.AssertUnchanged();
        }
        Rejects("perDimension", "length 3", (b, v) => b.KlFreeBitsBackward(v.F(12), v.F(12), v.F(12), v.F(12), v.F(3), 3, 4, 1f, 0.5f));
        Rejects("dLogVar", "length 11", (b, v) => b.KlFreeBitsBackward(v.F(12), v.F(12), v.F(12), v.F(11), v.F(4), 3, 4, 1f, 0.5f));
        Rejects("freeBits", "NaN", (b, v) => b.KlFreeBitsBackward(v.F(12), v.F(12), v.F(12), v.F(12), v.F(4), 3, 4, 1f, float.NaN));
        Rejects("perDimension", "perDimension overlaps dMu", (b, v) =>
        {
            var s = v.F(12);
            b.KlFreeBitsBackward(v.F(12), v.F(12), s, v.F(12), s.Slice(8, 4), 3, 4, 1f, 0.5f);
        });
        Rejects("perDimension", "perDimension overlaps mu", (b, v) =>
        {
            var s = v.F(12);
            b.KlFreeBitsBackward(s, v.F(12), v.F(12), v.F(12), s.Slice(8, 4), 3, 4, 1f, 0.5f);
        });
        Rejects("dMu", "dMu overlaps dLogVar", (b, v) =>
        {
            var s = v.F(12);
            b.KlFreeBitsBackward(v.F(12), v.F(12), s, s, v.F(4), 3, 4, 1f, 0.5f);
        });
        Rejects("rows", "", (b, v) => b.KlFreeBitsBackward(v.F(12), v.F(12), v.F(12), v.F(12), v.F(4), -1, 4, 1f, 0.5f));
    }
}
