// Token embedding like PyTorch's nn.Embedding (weight (vocabulary, dimension)): forward gathers one weight row per token
// (GatherRows), backward scatter-adds the output gradient into the weight gradient (ScatterAddRows). The padding
// index's row gets no gradient (nn.Embedding's padding_idx): its gradient row is saved before the scatter and put back
// after it, so whatever it held (another use of a tied weight) stays exactly as it was. Parameters and gradients are
// views into a ParameterStore; the one-row save area is allocated once, so forward and backward allocate nothing.
namespace Vae.Nn;

public sealed class Embedding : IDisposable
{
    readonly IComputeBackend backend;
    readonly DeviceBuffer? paddingBuffer;
    readonly DeviceSpan<float> paddingRowSaved;

    /// <summary>
    /// An embedding of <paramref name="vocabulary"/> tokens into <paramref name="dimension"/> features; weight and weightGrad
    /// hold (vocabulary, dimension). paddingIndex is a token in [0, vocabulary) whose row gets no gradient, or -1 for none.
    /// </summary>
    public Embedding(IComputeBackend backend, int vocabulary, int dimension, DeviceSpan<float> weight, DeviceSpan<float> weightGrad, int paddingIndex = -1)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentOutOfRangeException.ThrowIfNegative(vocabulary);
        ArgumentOutOfRangeException.ThrowIfNegative(dimension);
        long size = (long)vocabulary * dimension;
        if (weight.Length < size || weightGrad.Length < size)
            throw new ArgumentException($"weight and weightGrad have lengths {weight.Length} and {weightGrad.Length} but ({vocabulary}, {dimension}) needs {size} each.", nameof(weight));
        if (paddingIndex < -1 || paddingIndex >= vocabulary)
            throw new ArgumentOutOfRangeException(nameof(paddingIndex), paddingIndex, $"paddingIndex = {paddingIndex} must be a token in [0, {vocabulary}) or -1 (no padding token).");
        this.backend = backend;
        Vocabulary = vocabulary;
        Dimension = dimension;
        PaddingIndex = paddingIndex;
        Weight = weight.Slice(0, (int)size);
        WeightGrad = weightGrad.Slice(0, (int)size);
        if (paddingIndex >= 0)
        {
            paddingBuffer = backend.Allocate(Math.Max(dimension, 1) * sizeof(float));
            paddingRowSaved = paddingBuffer.AsSpan<float>().Slice(0, dimension);
        }
    }

    public int Vocabulary { get; }
    public int Dimension { get; }

    /// <summary>The token whose row gets no gradient, or -1.</summary>
    public int PaddingIndex { get; }

    public DeviceSpan<float> Weight { get; }      // (Vocabulary, Dimension)
    public DeviceSpan<float> WeightGrad { get; }  // (Vocabulary, Dimension)

    /// <summary>Adds the weight (vocabulary, dimension) to a layout under <paramref name="name"/> (PyTorch: "&lt;module&gt;.weight").</summary>
    public static TensorEntry AddParameters(TensorLayout layout, string name, int vocabulary, int dimension)
    {
        ArgumentNullException.ThrowIfNull(layout);
        return layout.Add(name, vocabulary, dimension);
    }

    /// <summary>
    /// PyTorch's initialization: N(0, 1) from Philox stream <paramref name="stream"/> of <paramref name="seed"/>, the padding
    /// row zero. <paramref name="hostWeight"/> is the weight's part of the model's host parameter array.
    /// </summary>
    public void Initialize(Span<float> hostWeight, ulong seed, uint stream)
    {
        if (hostWeight.Length != Weight.Length)
            throw new ArgumentException($"hostWeight has length {hostWeight.Length} but the weight ({Vocabulary}, {Dimension}) has {Weight.Length} elements.", nameof(hostWeight));
        ParameterInit.FillNormal(hostWeight, 1f, seed, stream);
        if (PaddingIndex >= 0) hostWeight.Slice(PaddingIndex * Dimension, Dimension).Clear();
    }

    /// <summary>output (count, Dimension) row i = Weight row tokens[i]; tokens (count) in [0, Vocabulary).</summary>
    public void Forward(DeviceSpan<int> tokens, DeviceSpan<float> output, int count) =>
        backend.GatherRows(Weight, tokens, output, Vocabulary, count, Dimension);

    /// <summary>
    /// WeightGrad row tokens[i] += dOutput (count, Dimension) row i (accumulates, repeated tokens add up in order), except the
    /// padding row, which is left exactly as it was.
    /// </summary>
    public void Backward(DeviceSpan<int> tokens, DeviceSpan<float> dOutput, int count)
    {
        if (PaddingIndex < 0)
        {
            backend.ScatterAddRows(dOutput, tokens, WeightGrad, Vocabulary, count, Dimension);
            return;
        }
        var paddingRow = WeightGrad.Slice(PaddingIndex * Dimension, Dimension);
        backend.Copy(paddingRow, paddingRowSaved);
        backend.ScatterAddRows(dOutput, tokens, WeightGrad, Vocabulary, count, Dimension);
        backend.Copy(paddingRowSaved, paddingRow);
    }

    public void Dispose() => paddingBuffer?.Dispose();
}
