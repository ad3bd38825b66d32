// Whole-layer gradient checks of Nn/Lstm and Nn/Embedding: the layer runs forward and backward in float on a backend,
// and every gradient it returns (every parameter, the input, h0 and c0; the embedding table) is compared with central
// finite differences of the same objective, L = sum dy output + sum dh_n h_n + sum dc_n c_n, computed by an independent
// double-precision LSTM (Support/DoubleLstm, written per sequence like PyTorch's packed batches, not with masks).
// Uni- and bidirectional, one and two layers, ragged lengths (a zero length too), with and without initial states,
// on the CPU, reference and CUDA (interpreted) backends, with capacity above the sizes used.
// Tolerance (as GradientCheck's): |g - fd| <= 2e-3 |fd| + 2e-5 max|fd|; forward values within 1e-5 (1 + max |value|).
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Nn;

public sealed class LstmGradientTests
{
    const double Relative = 2e-3, Absolute = 2e-5, ForwardTolerance = 1e-5;

    public static TheoryData<string, int, int, int, bool, int, string, bool> Configurations => new()
    {
        // backend, input, hidden, layers, bidirectional, steps, lengths ("" = no mask, batch 3), initial states
        { "cpu", 3, 4, 1, false, 5, "5,2,0,4", true },
        { "cpu", 3, 4, 2, true, 5, "5,2,0,4", true },
        { "cpu", 2, 3, 2, false, 4, "", true },
        { "cpu", 4, 3, 1, true, 6, "3,6,1", false },
        { "reference", 3, 4, 2, true, 4, "4,1,3", true },
        { "reference", 2, 5, 1, false, 3, "", false },
        { "cuda-interpreted", 3, 4, 2, true, 4, "4,1,0,3", true },
        { "cuda-interpreted", 2, 3, 1, false, 5, "", true },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Lstm_gradients_match_finite_differences_of_a_double_precision_lstm(string backendName, int input, int hidden, int layers,
        bool bidirectional, int steps, string lengthsText, bool initialState)
    {
        int[]? lengths = lengthsText.Length == 0 ? null : lengthsText.Split(',').Select(int.Parse).ToArray();
        int batch = lengths?.Length ?? 3;
        int seed = input * 1000 + hidden * 100 + layers * 10 + steps;
        var rng = new System.Random(seed);
        using var backend = Backends.Create(backendName);
        using var harness = new LstmHarness(backend, input, hidden, layers, bidirectional, steps + 2, batch + 1);
        var lstm = harness.Lstm;
        int states = layers * lstm.Directions * batch * hidden;
        var parameters = harness.InitialParameters((ulong)seed);
        harness.SetParameters(parameters);
        float[] x = HostData.Normal(rng, steps * batch * input);
        float[]? h0 = initialState ? HostData.Normal(rng, states, 0.5) : null;
        float[]? c0 = initialState ? HostData.Normal(rng, states, 0.5) : null;
        float[] wY = HostData.Uniform(rng, steps * batch * lstm.OutputSize, -1, 1);
        float[] wH = HostData.Uniform(rng, states, -1, 1), wC = HostData.Uniform(rng, states, -1, 1);

        var run = harness.Run(x, null, lengths, h0, c0, steps, batch, wY, wH, wC);

        var model = new DoubleLstm(input, hidden, layers, bidirectional);
        var p = harness.Named(parameters);
        var xd = Widen(x);
        var h0d = h0 is null ? null : Widen(h0);
        var c0d = c0 is null ? null : Widen(c0);
        var (output, hN, cN) = model.Forward(p, xd, lengths, h0d, c0d, steps, batch);
        AssertForward("output", run.Output, output);
        AssertForward("h_n", run.FinalHidden, hN);
        AssertForward("c_n", run.FinalCell, cN);

        double Objective() => model.Objective(p, xd, lengths, h0d, c0d, steps, batch, Widen(wY), Widen(wH), Widen(wC));
        var checks = new List<(string Name, double Analytic, double Fd)>();
        void Differentiate(string name, double[] values, ReadOnlySpan<float> analytic)
        {
            for (int i = 0; i < values.Length; i++)
            {
                double saved = values[i], step = 1e-6 * Math.Max(1, Math.Abs(saved));
                values[i] = saved + step;
                double up = Objective();
                values[i] = saved - step;
                double down = Objective();
                values[i] = saved;
                checks.Add(($"{name}[{i}]", analytic[i], (up - down) / (2 * step)));
            }
        }
        foreach (var entry in harness.Layout.Entries)
            Differentiate(entry.Name, p[entry.Name["rnn.".Length..]], run.Gradients.AsSpan(entry.Offset, entry.Length));
        Differentiate("input", xd, run.DInput);
        if (h0d is not null) Differentiate("h0", h0d, run.DH0);
        if (c0d is not null) Differentiate("c0", c0d, run.DC0);
        AssertGradients(checks, $"{backendName}, input {input}, hidden {hidden}, layers {layers}, {(bidirectional ? "bidirectional" : "unidirectional")}, lengths [{lengthsText}]");
        if (!initialState)
        {
            // Zero initial states still have gradients: they are the carries that reach the first step.
            Assert.Equal(run.DH0.Length, states);
            Assert.Contains(run.DH0, v => v != 0);
        }
    }

    /// <summary>Embedding -> LSTM: the embedding table's gradient against finite differences; the padding row gets none.</summary>
    [Theory]
    [InlineData("cpu")]
    [InlineData("reference")]
    [InlineData("cuda-interpreted")]
    public void Embedding_gradient_matches_finite_differences_and_skips_the_padding_row(string backendName)
    {
        const int vocabulary = 7, dimension = 3, hidden = 4, steps = 4, padding = 0;
        int[] lengths = [4, 2, 3];
        int batch = lengths.Length;
        var rng = new System.Random(77);
        using var backend = Backends.Create(backendName);
        using var harness = new LstmHarness(backend, dimension, hidden, 1, true, steps, batch, vocabulary, padding);
        var parameters = harness.InitialParameters(5);
        // A nonzero padding row (it is looked up at a valid step below) to show it still gets no gradient.
        for (int j = 0; j < dimension; j++) parameters[harness.Layout["embedding.weight"].Offset + padding * dimension + j] = 0.3f * (j + 1);
        harness.SetParameters(parameters);
        // Repeated tokens, the padding token at a valid step (t 1 of sequence 0) and at padded steps.
        int[] tokens =
        [
            3, 5, 1,
            0, 5, 6,
            2, 0, 3,
            3, 0, 0,
        ];
        float[] wY = HostData.Uniform(rng, steps * batch * 2 * hidden, -1, 1);

        var run = harness.Run(null, tokens, lengths, null, null, steps, batch, wY, null, null);

        var model = new DoubleLstm(dimension, hidden, 1, true);
        var p = harness.Named(parameters);
        var table = p["embedding.weight"];
        double Objective()
        {
            var x = new double[steps * batch * dimension];
            for (int i = 0; i < tokens.Length; i++)
                for (int j = 0; j < dimension; j++) x[i * dimension + j] = table[tokens[i] * dimension + j];
            return model.Objective(p, x, lengths, null, null, steps, batch, Widen(wY), new double[2 * batch * hidden], new double[2 * batch * hidden]);
        }
        var entry = harness.Layout["embedding.weight"];
        var analytic = run.Gradients.AsSpan(entry.Offset, entry.Length);
        var checks = new List<(string, double, double)>();
        for (int i = 0; i < table.Length; i++)
        {
            if (i / dimension == padding)
            {
                Assert.True(analytic[i] == 0, $"embedding.weight[{i}] is in the padding row but got gradient {analytic[i]}");
                continue;
            }
            double saved = table[i], step = 1e-6 * Math.Max(1, Math.Abs(saved));
            table[i] = saved + step;
            double up = Objective();
            table[i] = saved - step;
            double down = Objective();
            table[i] = saved;
            checks.Add(($"embedding.weight[{i}]", analytic[i], (up - down) / (2 * step)));
        }
        AssertGradients(checks, $"embedding on {backendName}");
        // Token 4 never occurs: its row has exactly zero gradient.
        Assert.All(analytic.Slice(4 * dimension, dimension).ToArray(), v => Assert.Equal(0f, v));
    }

    static double[] Widen(float[] values) => values.Select(v => (double)v).ToArray();

    static void AssertForward(string name, float[] got, double[] want)
    {
        Assert.Equal(want.Length, got.Length);
        double scale = 1 + want.Select(Math.Abs).DefaultIfEmpty(0).Max();
        for (int i = 0; i < want.Length; i++)
        {
            if (!(Math.Abs(got[i] - want[i]) <= ForwardTolerance * scale))
                Assert.Fail($"{name}[{i}]: got {got[i]:G9}, double-precision LSTM {want[i]:G9}, |diff| {Math.Abs(got[i] - want[i]):G3} > {ForwardTolerance * scale:G3}");
        }
    }

    static void AssertGradients(List<(string Name, double Analytic, double Fd)> checks, string configuration)
    {
        double maxAbs = checks.Select(c => Math.Abs(c.Fd)).DefaultIfEmpty(0).Max();
        Assert.True(maxAbs > 0, $"{configuration}: every finite difference is zero");
        double worst = 0;
        string at = "";
        foreach (var (name, analytic, fd) in checks)
        {
            double ratio = Math.Abs(analytic - fd) / (Relative * Math.Abs(fd) + Absolute * maxAbs);
            if (ratio > worst || double.IsNaN(ratio))
            {
                worst = double.IsNaN(ratio) ? double.PositiveInfinity : ratio;
                at = $"{name}: gradient {analytic:G9}, finite difference {fd:G9}";
            }
        }
        Assert.True(worst <= 1, $"{configuration}: {checks.Count} gradients checked, worst {at} ({worst:G3} x the tolerance)");
    }
}
