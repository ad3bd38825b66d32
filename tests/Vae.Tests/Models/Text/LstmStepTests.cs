// Nn/Lstm's step-by-step forward (BeginSteps, Step, StepOutput), which the text decoder uses when it feeds its own
// predictions back: stepping through all T steps gives the Output, h_n and c_n of Forward (up to the rounding of the
// per-step input GEMMs), with ragged lengths and initial states, 1 and 2 layers, on the CPU, reference and interpreted
// CUDA backends; StepOutput(t) is step t's block of Output as soon as Step(t) ran; Backward after a stepped pass gives
// the gradients of Backward after Forward. Misuse is refused: a bidirectional LSTM, steps out of order or repeated, and
// Backward before the last step.
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Models.Text;

public sealed class LstmStepTests
{
    const double Abs = 1e-5, Rel = 1e-5;

    /// <summary>What one pass (stepped or not) and the Backward after it gave.</summary>
    sealed record Pass(float[] Output, float[] FinalHidden, float[] FinalCell, float[] StepOutputs, float[] Gradients, float[] DInput, float[] DH0, float[] DC0);

    public static TheoryData<string, int, string, bool> Configurations => new()
    {
        // backend, layers, lengths ("" = all steps valid), initial states
        { "cpu", 1, "6,2,0,5", true },
        { "cpu", 2, "6,2,0,5", true },
        { "cpu", 2, "", false },
        { "cpu-1", 1, "3,6,1", false },
        { "reference", 2, "4,6,1", true },
        { "cuda-interpreted", 2, "6,3,0", true },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Stepping_through_every_step_equals_forward_and_backward(string backendName, int layers, string lengthsText, bool initialState)
    {
        const int input = 3, hidden = 4, steps = 6;
        int[]? lengths = lengthsText.Length == 0 ? null : lengthsText.Split(',').Select(int.Parse).ToArray();
        int batch = lengths?.Length ?? 3;
        var rng = new System.Random(layers * 10 + batch);
        using var backend = Backends.Create(backendName);
        using var harness = new LstmHarness(backend, input, hidden, layers, bidirectional: false, steps + 1, batch + 1);
        harness.SetParameters(harness.InitialParameters((ulong)(layers + 5)));
        int states = layers * batch * hidden;
        float[] x = HostData.Normal(rng, steps * batch * input);
        float[]? h0 = initialState ? HostData.Normal(rng, states, 0.5) : null;
        float[]? c0 = initialState ? HostData.Normal(rng, states, 0.5) : null;
        float[] dOutput = HostData.Uniform(rng, steps * batch * hidden, -1, 1);
        float[] dH = HostData.Uniform(rng, states, -1, 1), dC = HostData.Uniform(rng, states, -1, 1);

        var forward = RunPass(harness, stepped: false, x, lengths, h0, c0, steps, batch, dOutput, dH, dC);
        var stepped = RunPass(harness, stepped: true, x, lengths, h0, c0, steps, batch, dOutput, dH, dC);

        Tolerance.AssertClose("Output", stepped.Output, forward.Output, Abs, Rel);
        Tolerance.AssertClose("h_n", stepped.FinalHidden, forward.FinalHidden, Abs, Rel);
        Tolerance.AssertClose("c_n", stepped.FinalCell, forward.FinalCell, Abs, Rel);
        Tolerance.AssertClose("StepOutput(t) read right after Step(t)", stepped.StepOutputs, forward.Output, Abs, Rel);
        Tolerance.AssertClose("parameter gradients", stepped.Gradients, forward.Gradients, Abs, Rel);
        Tolerance.AssertClose("dInput", stepped.DInput, forward.DInput, Abs, Rel);
        Tolerance.AssertClose("dH0", stepped.DH0, forward.DH0, Abs, Rel);
        Tolerance.AssertClose("dC0", stepped.DC0, forward.DC0, Abs, Rel);
        Assert.Contains(forward.Gradients, g => g != 0f);
        Assert.Contains(forward.Output, v => v != 0f);
    }

    static Pass RunPass(LstmHarness harness, bool stepped, float[] x, int[]? lengths, float[]? h0, float[]? c0, int steps, int batch,
        float[] dOutput, float[] dH, float[] dC)
    {
        var backend = harness.Backend;
        var lstm = harness.Lstm;
        int rows = steps * batch, states = lstm.Layers * batch * lstm.HiddenSize, width = lstm.OutputSize;
        harness.Store.ZeroGradients();
        backend.Fill(harness.Input, HostData.Poison);
        var lengthsView = lengths is null ? default : Upload(backend, lengths, harness.Lengths);
        var h0View = h0 is null ? default : Upload(backend, h0, harness.H0);
        var c0View = c0 is null ? default : Upload(backend, c0, harness.C0);
        var stepOutputs = new float[rows * width];
        if (!stepped)
        {
            backend.Upload<float>(x, harness.Input.Slice(0, rows * lstm.InputSize));
            lstm.Forward(harness.Input, lengthsView, h0View, c0View, steps, batch);
        }
        else
        {
            lstm.BeginSteps(harness.Input, lengthsView, h0View, c0View, steps, batch);
            for (int t = 0; t < steps; t++)
            {
                // Only step t's input is written before Step(t), as a decoder feeding back its predictions does.
                int block = batch * lstm.InputSize;
                backend.Upload<float>(x.AsSpan(t * block, block), harness.Input.Slice(t * block, block));
                lstm.Step(t);
                backend.Download(lstm.StepOutput(t), stepOutputs.AsSpan(t * batch * width, batch * width));
            }
        }
        var output = harness.Download(lstm.Output, rows * width);
        var finalHidden = harness.Download(lstm.FinalHidden, states);
        var finalCell = harness.Download(lstm.FinalCell, states);
        backend.Upload<float>(dOutput, harness.DOutput.Slice(0, dOutput.Length));
        backend.Upload<float>(dH, harness.DFinalHidden.Slice(0, states));
        backend.Upload<float>(dC, harness.DFinalCell.Slice(0, states));
        lstm.Backward(harness.DOutput, harness.DFinalHidden, harness.DFinalCell, harness.DInput, harness.DH0, harness.DC0);
        return new Pass(output, finalHidden, finalCell, stepped ? stepOutputs : output,
            harness.Download(harness.Store.Gradients, harness.Layout.TotalLength), harness.Download(harness.DInput, rows * lstm.InputSize),
            harness.Download(harness.DH0, states), harness.Download(harness.DC0, states));
    }

    static DeviceSpan<T> Upload<T>(IComputeBackend backend, T[] values, DeviceSpan<T> view) where T : unmanaged
    {
        backend.Upload<T>(values, view.Slice(0, values.Length));
        return view;
    }

    [Fact]
    public void Bidirectional_lstm_cannot_step()
    {
        using var backend = Backends.Create("cpu");
        using var harness = new LstmHarness(backend, 3, 4, 1, bidirectional: true, 5, 2);
        var e = Assert.Throws<InvalidOperationException>(() => harness.Lstm.BeginSteps(harness.Input, default, default, default, 5, 2));
        Assert.Contains("unidirectional", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Steps_run_once_each_in_order_and_backward_waits_for_the_last()
    {
        using var backend = Backends.Create("cpu");
        using var harness = new LstmHarness(backend, 3, 4, 2, bidirectional: false, 5, 2);
        harness.SetParameters(harness.InitialParameters(3));
        var lstm = harness.Lstm;
        backend.Fill(harness.Input, 0.25f);
        void Backward() => lstm.Backward(harness.DOutput, default, default, harness.DInput, default, default);

        var before = Assert.Throws<InvalidOperationException>(() => lstm.Step(0));
        Assert.Contains("BeginSteps", before.Message, StringComparison.Ordinal);

        lstm.BeginSteps(harness.Input, default, default, default, 4, 2);
        var skipped = Assert.Throws<InvalidOperationException>(() => lstm.Step(1));
        Assert.Contains("out of order", skipped.Message, StringComparison.Ordinal);
        Assert.Contains("next step is 0", skipped.Message, StringComparison.Ordinal);
        lstm.Step(0);
        lstm.Step(1);
        Assert.Contains("out of order", Assert.Throws<InvalidOperationException>(() => lstm.Step(1)).Message, StringComparison.Ordinal);
        Assert.Contains("Forward", Assert.Throws<InvalidOperationException>(Backward).Message, StringComparison.Ordinal);
        lstm.Step(2);
        lstm.Step(3);
        Assert.Throws<InvalidOperationException>(() => lstm.Step(4));   // the pass is complete
        Backward();
        Assert.Throws<InvalidOperationException>(Backward);             // one Backward per pass

        // A new BeginSteps abandons an unfinished pass; a Forward abandons a stepped one.
        lstm.BeginSteps(harness.Input, default, default, default, 3, 2);
        lstm.Step(0);
        lstm.BeginSteps(harness.Input, default, default, default, 3, 2);
        Assert.Throws<InvalidOperationException>(() => lstm.Step(1));
        lstm.Step(0);
        lstm.Forward(harness.Input, default, default, default, 3, 2);
        Assert.Throws<InvalidOperationException>(() => lstm.Step(1));
        Backward();
    }
}
