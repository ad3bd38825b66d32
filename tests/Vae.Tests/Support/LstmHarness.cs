// One Nn/Lstm (optionally fed by an Nn/Embedding) on a backend with its ParameterStore and device buffers for every
// input and gradient, for the layer tests: upload host arrays, run forward + backward once, read everything back.
using Vae.Nn;

namespace Vae.Tests.Support;

/// <summary>What one forward + backward produced, as host arrays (only the used elements).</summary>
public sealed record LstmRun(float[] Output, float[] FinalHidden, float[] FinalCell, float[] Gradients, float[] DInput, float[] DH0, float[] DC0);

public sealed class LstmHarness : IDisposable
{
    readonly List<DeviceBuffer> buffers = [];

    public LstmHarness(IComputeBackend backend, int input, int hidden, int layers, bool bidirectional, int maxSteps, int maxBatch,
        int vocabulary = 0, int paddingIndex = -1)
    {
        Backend = backend;
        Layout = new TensorLayout();
        if (vocabulary > 0) Embedding.AddParameters(Layout, "embedding.weight", vocabulary, input);
        Lstm.AddParameters(Layout, "rnn.", input, hidden, layers, bidirectional);
        Store = new ParameterStore(backend, Layout);
        Lstm = new Lstm(backend, Store, "rnn.", input, hidden, layers, bidirectional, maxSteps, maxBatch);
        if (vocabulary > 0)
            Embedding = new Embedding(backend, vocabulary, input, Store.Parameter("embedding.weight"), Store.Gradient("embedding.weight"), paddingIndex);
        int states = layers * Lstm.Directions * maxBatch * hidden;
        Input = Floats(maxSteps * maxBatch * input);
        Tokens = Ints(maxSteps * maxBatch);
        Lengths = Ints(maxBatch);
        H0 = Floats(states);
        C0 = Floats(states);
        DOutput = Floats(maxSteps * maxBatch * Lstm.OutputSize);
        DFinalHidden = Floats(states);
        DFinalCell = Floats(states);
        DInput = Floats(maxSteps * maxBatch * input);
        DH0 = Floats(states);
        DC0 = Floats(states);
    }

    public IComputeBackend Backend { get; }
    public TensorLayout Layout { get; }
    public ParameterStore Store { get; }
    public Lstm Lstm { get; }
    public Embedding? Embedding { get; }
    public DeviceSpan<float> Input { get; }
    public DeviceSpan<int> Tokens { get; }
    public DeviceSpan<int> Lengths { get; }
    public DeviceSpan<float> H0 { get; }
    public DeviceSpan<float> C0 { get; }
    public DeviceSpan<float> DOutput { get; }
    public DeviceSpan<float> DFinalHidden { get; }
    public DeviceSpan<float> DFinalCell { get; }
    public DeviceSpan<float> DInput { get; }
    public DeviceSpan<float> DH0 { get; }
    public DeviceSpan<float> DC0 { get; }

    /// <summary>Parameters of PyTorch's initialization from <paramref name="seed"/> (and N(0, 1) embeddings), as a host array.</summary>
    public float[] InitialParameters(ulong seed)
    {
        var host = new float[Layout.TotalLength];
        uint stream = 0;
        if (Embedding is not null) Embedding.Initialize(ParameterInit.Of(host, Layout, Layout["embedding.weight"]), seed, stream++);
        Lstm.Initialize(host, Layout, "rnn.", Lstm.InputSize, Lstm.HiddenSize, Lstm.Layers, Lstm.Directions == 2, seed, stream);
        return host;
    }

    public void SetParameters(float[] host) => Backend.Upload<float>(host, Store.Parameters);

    /// <summary>Host arrays of the tensors of the layout by name (without the "rnn." prefix for the LSTM's), widened to double.</summary>
    public Dictionary<string, double[]> Named(float[] flat)
    {
        var named = new Dictionary<string, double[]>();
        foreach (var entry in Layout.Entries)
        {
            string name = entry.Name.StartsWith("rnn.", StringComparison.Ordinal) ? entry.Name["rnn.".Length..] : entry.Name;
            named[name] = flat.AsSpan(entry.Offset, entry.Length).ToArray().Select(v => (double)v).ToArray();
        }
        return named;
    }

    /// <summary>
    /// Zeroes the gradients, then runs forward and backward: the input is x (steps, batch, input), or the embeddings of
    /// tokens when given; lengths, h0, c0 and each output gradient may be null (null views).
    /// </summary>
    public LstmRun Run(float[]? x, int[]? tokens, int[]? lengths, float[]? h0, float[]? c0, int steps, int batch,
        float[]? dOutput, float[]? dFinalHidden, float[]? dFinalCell)
    {
        int rows = steps * batch, states = Lstm.Layers * Lstm.Directions * batch * Lstm.HiddenSize;
        Store.ZeroGradients();
        if (tokens is not null)
        {
            Backend.Upload<int>(tokens, Tokens.Slice(0, rows));
            Embedding!.Forward(Tokens, Input, rows);
        }
        else
        {
            Backend.Upload<float>(x!, Input.Slice(0, rows * Lstm.InputSize));
        }
        var lengthsView = Optional(lengths, Lengths);
        var h0View = Optional(h0, H0);
        var c0View = Optional(c0, C0);
        Lstm.Forward(Input, lengthsView, h0View, c0View, steps, batch);
        Lstm.Backward(Optional(dOutput, DOutput), Optional(dFinalHidden, DFinalHidden), Optional(dFinalCell, DFinalCell), DInput, DH0, DC0);
        if (tokens is not null) Embedding!.Backward(Tokens, DInput, rows);
        return new LstmRun(
            Download(Lstm.Output, rows * Lstm.OutputSize),
            Download(Lstm.FinalHidden, states),
            Download(Lstm.FinalCell, states),
            Download(Store.Gradients, Layout.TotalLength),
            Download(DInput, rows * Lstm.InputSize),
            Download(DH0, states),
            Download(DC0, states));
    }

    DeviceSpan<float> Optional(float[]? values, DeviceSpan<float> view)
    {
        if (values is null) return default;
        Backend.Upload<float>(values, view.Slice(0, values.Length));
        return view;
    }

    DeviceSpan<int> Optional(int[]? values, DeviceSpan<int> view)
    {
        if (values is null) return default;
        Backend.Upload<int>(values, view.Slice(0, values.Length));
        return view;
    }

    public float[] Download(DeviceSpan<float> view, int count)
    {
        var values = new float[count];
        Backend.Download(view.Slice(0, count), values);
        return values;
    }

    DeviceSpan<float> Floats(int count)
    {
        var buffer = Backend.Allocate(Math.Max(count, 1) * sizeof(float));
        buffers.Add(buffer);
        return buffer.AsSpan<float>().Slice(0, count);
    }

    DeviceSpan<int> Ints(int count)
    {
        var buffer = Backend.Allocate(Math.Max(count, 1) * sizeof(int));
        buffers.Add(buffer);
        return buffer.AsSpan<int>().Slice(0, count);
    }

    public void Dispose()
    {
        Lstm.Dispose();
        Embedding?.Dispose();
        Store.Dispose();
        foreach (var buffer in buffers) buffer.Dispose();
    }
}
