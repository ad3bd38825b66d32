// Behaviour of Nn/Lstm and Nn/Embedding beyond the gradient checks: padding changes nothing (other padded tokens or
// inputs leave every output and every gradient bit for bit the same, and padded steps get zero input gradients);
// PyTorch's nn.LSTM on the fixtures of tests/fixtures/make_lstm_fixtures.py; the CUDA backend (interpreted, and on a
// GPU when there is one) against the CPU backend; argument errors; forward + backward allocate nothing once warm.
using System.Globalization;
using System.Text.Json;
using Vae.Checkpoints;
using Vae.Cpu;
using Vae.Nn;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Nn;

public sealed class LstmLayerTests
{
    // ---------------------------------------------------------------- masking

    [Theory]
    [InlineData("cpu")]
    [InlineData("reference")]
    [InlineData("cuda-interpreted")]
    public void Padded_tokens_change_no_output_and_no_gradient(string backendName)
    {
        const int vocabulary = 11, dimension = 5, hidden = 6, layers = 2, steps = 6, padding = 0;
        int[] lengths = [6, 3, 1, 4];
        int batch = lengths.Length;
        var rng = new System.Random(3);
        using var backend = Backends.Create(backendName);
        using var harness = new LstmHarness(backend, dimension, hidden, layers, true, steps, batch, vocabulary, padding);
        harness.SetParameters(harness.InitialParameters(8));
        int states = layers * 2 * batch * hidden;
        float[] h0 = HostData.Normal(rng, states, 0.5), c0 = HostData.Normal(rng, states, 0.5);
        float[] wY = HostData.Uniform(rng, steps * batch * 2 * hidden, -1, 1), wH = HostData.Uniform(rng, states, -1, 1), wC = HostData.Uniform(rng, states, -1, 1);
        var padded = new int[steps * batch];
        var scrambled = new int[steps * batch];
        for (int t = 0; t < steps; t++)
            for (int b = 0; b < batch; b++)
            {
                int token = 1 + rng.Next(vocabulary - 1);
                bool valid = t < lengths[b];
                padded[t * batch + b] = valid ? token : padding;
                scrambled[t * batch + b] = valid ? token : rng.Next(vocabulary);
            }

        var a = harness.Run(null, padded, lengths, h0, c0, steps, batch, wY, wH, wC);
        var b2 = harness.Run(null, scrambled, lengths, h0, c0, steps, batch, wY, wH, wC);

        AssertSame(a, b2, "padding tokens vs random tokens at the padded steps");
        AssertPaddedStepsAreZero(a, lengths, steps, batch, 2 * hidden, dimension);
    }

    [Theory]
    [InlineData("cpu", false)]
    [InlineData("cpu", true)]
    [InlineData("cuda-interpreted", true)]
    public void Padded_inputs_change_no_output_and_no_gradient(string backendName, bool bidirectional)
    {
        const int input = 4, hidden = 5, layers = 2, steps = 7;
        int[] lengths = [2, 7, 0, 5, 3];
        int batch = lengths.Length, directions = bidirectional ? 2 : 1;
        var rng = new System.Random(4);
        using var backend = Backends.Create(backendName);
        using var harness = new LstmHarness(backend, input, hidden, layers, bidirectional, steps, batch);
        harness.SetParameters(harness.InitialParameters(9));
        int states = layers * directions * batch * hidden;
        float[] h0 = HostData.Normal(rng, states, 0.5), c0 = HostData.Normal(rng, states, 0.5);
        float[] wY = HostData.Uniform(rng, steps * batch * directions * hidden, -1, 1), wH = HostData.Uniform(rng, states, -1, 1), wC = HostData.Uniform(rng, states, -1, 1);
        float[] x = HostData.Normal(rng, steps * batch * input);
        float[] other = (float[])x.Clone();
        for (int t = 0; t < steps; t++)
            for (int b = 0; b < batch; b++)
                if (t >= lengths[b])
                    for (int j = 0; j < input; j++) other[(t * batch + b) * input + j] = 50f * (rng.NextSingle() - 0.5f);

        var a = harness.Run(x, null, lengths, h0, c0, steps, batch, wY, wH, wC);
        var b2 = harness.Run(other, null, lengths, h0, c0, steps, batch, wY, wH, wC);

        AssertSame(a, b2, "different inputs at the padded steps");
        AssertPaddedStepsAreZero(a, lengths, steps, batch, directions * hidden, input);
        // The sequence of length 0 keeps its initial states.
        for (int k = 0; k < layers * directions; k++)
        {
            int at = (k * batch + 2) * hidden;
            Tolerance.AssertBitwiseEqual($"h_n of the empty sequence, layer-direction {k}", a.FinalHidden.AsSpan(at, hidden), h0.AsSpan(at, hidden));
            Tolerance.AssertBitwiseEqual($"c_n of the empty sequence, layer-direction {k}", a.FinalCell.AsSpan(at, hidden), c0.AsSpan(at, hidden));
        }
    }

    static void AssertSame(LstmRun a, LstmRun b, string what)
    {
        Tolerance.AssertBitwiseEqual($"output ({what})", b.Output, a.Output);
        Tolerance.AssertBitwiseEqual($"h_n ({what})", b.FinalHidden, a.FinalHidden);
        Tolerance.AssertBitwiseEqual($"c_n ({what})", b.FinalCell, a.FinalCell);
        Tolerance.AssertBitwiseEqual($"parameter gradients ({what})", b.Gradients, a.Gradients);
        Tolerance.AssertBitwiseEqual($"dInput ({what})", b.DInput, a.DInput);
        Tolerance.AssertBitwiseEqual($"dH0 ({what})", b.DH0, a.DH0);
        Tolerance.AssertBitwiseEqual($"dC0 ({what})", b.DC0, a.DC0);
    }

    /// <summary>Outputs and input gradients are exactly zero at every padded step; the valid steps are not all zero.</summary>
    static void AssertPaddedStepsAreZero(LstmRun run, int[] lengths, int steps, int batch, int width, int input)
    {
        bool anyValid = false;
        for (int t = 0; t < steps; t++)
            for (int b = 0; b < batch; b++)
            {
                var output = run.Output.AsSpan((t * batch + b) * width, width);
                var dInput = run.DInput.AsSpan((t * batch + b) * input, input);
                if (t < lengths[b])
                {
                    anyValid |= output.ContainsAnyExcept(0f);
                    continue;
                }
                Tolerance.AssertBitwiseEqual($"output at padded step {t} of sequence {b}", output, new float[width]);
                Assert.True(!dInput.ContainsAnyExcept(0f), $"dInput at padded step {t} of sequence {b} is not zero");
            }
        Assert.True(anyValid, "every output is zero");
    }

    // ---------------------------------------------------------------- PyTorch

    public static TheoryData<string, string> Fixtures => new()
    {
        { "lstm_reference_uni_5_6_1.safetensors", "cpu" },
        { "lstm_reference_bi_4_5_2.safetensors", "cpu" },
        { "lstm_reference_bi_3_4_1_short.safetensors", "cpu" },
        { "lstm_reference_uni_5_6_1.safetensors", "reference" },
        { "lstm_reference_bi_4_5_2.safetensors", "reference" },
        { "lstm_reference_bi_3_4_1_short.safetensors", "reference" },
        { "lstm_reference_bi_4_5_2.safetensors", "cuda-interpreted" },
    };

    /// <summary>Every tensor within 1e-5 of its largest |expected| (float32 against PyTorch's float64).</summary>
    const double FixtureTolerance = 1e-5;

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Layer_matches_pytorch_outputs_final_states_and_every_gradient(string fixture, string backendName)
    {
        string path = RepositoryPaths.Fixture(fixture);
        var file = SafeTensorsFile.Read(path);
        var config = JsonDocument.Parse(file.Metadata["config"]).RootElement;
        int Int(string key) => int.Parse(config.GetProperty(key).GetRawText(), CultureInfo.InvariantCulture);
        int input = Int("input"), hidden = Int("hidden"), layers = Int("layers"), steps = Int("steps"), batch = Int("batch");
        bool bidirectional = config.GetProperty("bidirectional").GetBoolean();
        using var backend = Backends.Create(backendName);
        using var harness = new LstmHarness(backend, input, hidden, layers, bidirectional, steps, batch);

        var parameters = new float[harness.Layout.TotalLength];
        foreach (var (name, shape) in Lstm.ParameterShapes("", input, hidden, layers, bidirectional))
        {
            var tensor = file.Get(name, path);
            Assert.Equal(shape, tensor.Shape);
            var entry = harness.Layout["rnn." + name];
            tensor.ToFloats().CopyTo(parameters.AsSpan(entry.Offset, entry.Length));
        }
        harness.SetParameters(parameters);
        var lengthsTensor = file.Get("lengths", path);
        var lengths = new int[batch];
        for (int b = 0; b < batch; b++) lengths[b] = BitConverter.ToInt32(lengthsTensor.Data, 4 * b);

        var run = harness.Run(file.Get("x", path).ToFloats(), null, lengths, file.Get("h0", path).ToFloats(), file.Get("c0", path).ToFloats(),
            steps, batch, file.Get("dy", path).ToFloats(), file.Get("dh_n", path).ToFloats(), file.Get("dc_n", path).ToFloats());

        AssertClose("output", file.Get("output", path).ToDoubles(), run.Output);
        AssertClose("h_n", file.Get("h_n", path).ToDoubles(), run.FinalHidden);
        AssertClose("c_n", file.Get("c_n", path).ToDoubles(), run.FinalCell);
        foreach (var (name, _) in Lstm.ParameterShapes("", input, hidden, layers, bidirectional))
        {
            var entry = harness.Layout["rnn." + name];
            AssertClose("grad." + name, file.Get("grad." + name, path).ToDoubles(), run.Gradients.AsSpan(entry.Offset, entry.Length).ToArray());
        }
        AssertClose("grad.x", file.Get("grad.x", path).ToDoubles(), run.DInput);
        AssertClose("grad.h0", file.Get("grad.h0", path).ToDoubles(), run.DH0);
        AssertClose("grad.c0", file.Get("grad.c0", path).ToDoubles(), run.DC0);
    }

    static void AssertClose(string name, double[] expected, float[] actual)
    {
        Assert.True(expected.Length == actual.Length, $"{name}: {actual.Length} values, PyTorch has {expected.Length}");
        double scale = expected.Select(Math.Abs).DefaultIfEmpty(0).Max();
        var mismatches = new List<string>();
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs(actual[i] - expected[i]);
            if (!(diff <= FixtureTolerance * scale))
                mismatches.Add($"[{i}] got {actual[i]:G9} want {expected[i]:G9} (|diff| {diff:G3})");
        }
        Assert.True(mismatches.Count == 0,
            $"{name}: {mismatches.Count} of {expected.Length} values differ from PyTorch by more than {FixtureTolerance} x {scale:G4}: {string.Join("; ", mismatches.Take(6))}");
    }

    // ---------------------------------------------------------------- CUDA against CPU

    [Fact]
    public void Interpreted_cuda_layer_matches_the_cpu_backend() => CompareWithCpu(Backends.Create("cuda-interpreted"));

    [GpuFact]
    public void Gpu_layer_matches_the_cpu_backend() => CompareWithCpu(Backends.Create("cuda"));

    /// <summary>A two-layer bidirectional embedding + LSTM on the CUDA backend and on the CPU backend: within 1e-4 of each tensor's largest value.</summary>
    static void CompareWithCpu(IComputeBackend cuda)
    {
        const int vocabulary = 13, dimension = 6, hidden = 7, layers = 2, steps = 5, padding = 0;
        int[] lengths = [5, 2, 4];
        int batch = lengths.Length, states = layers * 2 * batch * hidden;
        var rng = new System.Random(21);
        var tokens = new int[steps * batch];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = i / batch < lengths[i % batch] ? 1 + rng.Next(vocabulary - 1) : padding;
        float[] h0 = HostData.Normal(rng, states, 0.5), c0 = HostData.Normal(rng, states, 0.5);
        float[] wY = HostData.Uniform(rng, steps * batch * 2 * hidden, -1, 1), wH = HostData.Uniform(rng, states, -1, 1), wC = HostData.Uniform(rng, states, -1, 1);
        LstmRun Run(IComputeBackend backend)
        {
            using var harness = new LstmHarness(backend, dimension, hidden, layers, true, steps + 1, batch + 2, vocabulary, padding);
            harness.SetParameters(harness.InitialParameters(12));
            return harness.Run(null, tokens, lengths, h0, c0, steps, batch, wY, wH, wC);
        }
        using var cpu = new CpuBackend();
        var want = Run(cpu);
        LstmRun got;
        using (cuda) got = Run(cuda);
        foreach (var (name, g, w) in new[]
        {
            ("output", got.Output, want.Output), ("h_n", got.FinalHidden, want.FinalHidden), ("c_n", got.FinalCell, want.FinalCell),
            ("gradients", got.Gradients, want.Gradients), ("dH0", got.DH0, want.DH0), ("dC0", got.DC0, want.DC0),
        })
        {
            double scale = w.Select(v => Math.Abs((double)v)).Max();
            Tolerance.AssertClose(name, g, w, 1e-4 * scale, 0);
        }
    }

    // ---------------------------------------------------------------- arguments

    [Fact]
    public void Bad_sizes_and_views_are_rejected_with_their_names()
    {
        using var backend = new CpuBackend(threads: 1);
        using var harness = new LstmHarness(backend, 3, 4, 1, false, maxSteps: 5, maxBatch: 2);
        var lstm = harness.Lstm;
        var tooManySteps = Assert.Throws<ArgumentOutOfRangeException>(() => lstm.Forward(harness.Input, default, default, default, 6, 2));
        Assert.Equal("steps", tooManySteps.ParamName);
        Assert.Contains("[0, 5]", tooManySteps.Message, StringComparison.Ordinal);
        var tooLarge = Assert.Throws<ArgumentOutOfRangeException>(() => lstm.Forward(harness.Input, default, default, default, 5, 3));
        Assert.Equal("batch", tooLarge.ParamName);
        var shortInput = Assert.Throws<ArgumentException>(() => lstm.Forward(harness.Input.Slice(0, 29), default, default, default, 5, 2));
        Assert.Equal("input", shortInput.ParamName);
        Assert.Contains("(5, 2, 3)", shortInput.Message, StringComparison.Ordinal);
        var shortState = Assert.Throws<ArgumentException>(() => lstm.Forward(harness.Input, default, harness.H0.Slice(0, 7), default, 5, 2));
        Assert.Equal("h0", shortState.ParamName);
        Assert.Throws<InvalidOperationException>(() => lstm.Backward(default, default, default, default, default, default));
        // One Backward per Forward: the first consumes the gate activations.
        lstm.Forward(harness.Input, default, default, default, 5, 2);
        lstm.Backward(default, default, default, default, default, default);
        var second = Assert.Throws<InvalidOperationException>(() => lstm.Backward(default, default, default, default, default, default));
        Assert.Contains("one Backward per Forward", second.Message, StringComparison.Ordinal);
        // Parameters of another shape in the store.
        var layout = new TensorLayout();
        Lstm.AddParameters(layout, "", 3, 5, 1, false);
        using var store = new ParameterStore(backend, layout);
        var wrong = Assert.Throws<ArgumentException>(() => new Lstm(backend, store, "", 4, 5, 1, false, 2, 2));
        Assert.Contains("weight_ih", wrong.Message, StringComparison.Ordinal);
        Assert.Throws<KeyNotFoundException>(() => new Lstm(backend, store, "", 3, 5, 1, true, 2, 2));
    }

    [Fact]
    public void Parameter_names_and_shapes_are_pytorchs()
    {
        var shapes = Lstm.ParameterShapes("enc.", 10, 8, 2, true);
        string[] names =
        [
            "enc.weight_ih_l0", "enc.weight_hh_l0", "enc.bias_ih_l0", "enc.bias_hh_l0",
            "enc.weight_ih_l0_reverse", "enc.weight_hh_l0_reverse", "enc.bias_ih_l0_reverse", "enc.bias_hh_l0_reverse",
            "enc.weight_ih_l1", "enc.weight_hh_l1", "enc.bias_ih_l1", "enc.bias_hh_l1",
            "enc.weight_ih_l1_reverse", "enc.weight_hh_l1_reverse", "enc.bias_ih_l1_reverse", "enc.bias_hh_l1_reverse",
        ];
        Assert.Equal(names, shapes.Select(s => s.Name));
        Assert.Equal([32, 10], shapes[0].Shape);
        Assert.Equal([32, 8], shapes[1].Shape);
        Assert.Equal([32], shapes[2].Shape);
        Assert.Equal([32, 16], shapes[8].Shape);
    }
}

/// <summary>Forward + backward of an embedding + two-layer bidirectional LSTM allocate nothing once warm (runs alone, like AllocationTests).</summary>
[Collection(nameof(AllocationCollection))]
public sealed class LstmAllocationTests
{
    [Fact]
    public void Forward_and_backward_allocate_nothing_once_warm()
    {
        const int vocabulary = 50, dimension = 32, hidden = 48, layers = 2, steps = 12, batch = 16;
        using var backend = new CpuBackend(threads: 2);
        using var harness = new LstmHarness(backend, dimension, hidden, layers, true, steps, batch, vocabulary, paddingIndex: 0);
        harness.SetParameters(harness.InitialParameters(1));
        var rng = new System.Random(1);
        var lengths = Enumerable.Range(0, batch).Select(b => 1 + b % steps).ToArray();
        var tokens = new int[steps * batch];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = i / batch < lengths[i % batch] ? 1 + rng.Next(vocabulary - 1) : 0;
        backend.Upload<int>(tokens, harness.Tokens);
        backend.Upload<int>(lengths, harness.Lengths);
        backend.Upload<float>(HostData.Uniform(rng, steps * batch * 2 * hidden, -1, 1), harness.DOutput);
        var lstm = harness.Lstm;
        var embedding = harness.Embedding!;
        int rows = steps * batch;
        void Step()
        {
            harness.Store.ZeroGradients();
            embedding.Forward(harness.Tokens, harness.Input, rows);
            lstm.Forward(harness.Input, harness.Lengths, harness.H0, harness.C0, steps, batch);
            lstm.Backward(harness.DOutput, harness.DFinalHidden, default, harness.DInput, harness.DH0, harness.DC0);
            embedding.Backward(harness.Tokens, harness.DInput, rows);
        }
        for (int i = 0; i < 3; i++) Step();
        var m = AllocationMeter.Measure(Step, 5, backend.Synchronize);
        Assert.True(m.AllocatesNothing, $"forward + backward allocated {m.FewestOnThread} bytes on the calling thread, {m.FewestInProcess} in the process (5 steps)");
    }
}
