// A multilayer perceptron: Linear layers with ReLU between them and none after the last (an encoder that ends in a
// code, a decoder that ends in logits). It owns no memory: it adds its tensors to the model's layouts (weights and
// biases separately, so a model keeps all bias gradients in one region it zeroes once per step; outputs in the
// activation layout), then binds views into the model's ParameterStore and activation buffer.
//
// Shapes (rows <= capacity): input (rows, sizes[0]) -> layer i: (rows, sizes[i + 1]), ReLU in place unless last.
// State_dict names: <name>.<i>.weight (sizes[i + 1], sizes[i]) and <name>.<i>.bias, as a PyTorch ModuleList of Linear.
using Vae.Models;

namespace Vae.Nn;

public sealed class Mlp
{
    readonly string name;
    readonly int[] sizes;
    readonly TensorEntry[] outputEntries;
    Linear[] layers = [];
    DeviceSpan<float>[] outputs = [];

    /// <param name="name">The state_dict prefix, e.g. "enc".</param>
    /// <param name="sizes">Input width, then every layer's output width (at least one layer).</param>
    public Mlp(string name, int[] sizes)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(sizes);
        if (sizes.Length < 2) throw new ArgumentException("An MLP needs an input width and at least one layer.", nameof(sizes));
        foreach (int s in sizes) ArgumentOutOfRangeException.ThrowIfLessThan(s, 1, nameof(sizes));
        this.name = name;
        this.sizes = (int[])sizes.Clone();
        outputEntries = new TensorEntry[sizes.Length - 1];
    }

    public int Depth => sizes.Length - 1;
    public int In => sizes[0];
    public int Out => sizes[^1];
    /// <summary>The widest ReLU (hidden) output, 0 for one layer: the width of the gradient scratch Backward needs.</summary>
    public int WidestHidden => sizes.Length > 2 ? sizes[1..^1].Max() : 0;
    public IReadOnlyList<Linear> Layers => layers;
    /// <summary>(capacity, Out) the last layer's output (no ReLU).</summary>
    public DeviceSpan<float> Output => outputs[^1];

    public void AddWeights(TensorLayout layout)
    {
        for (int i = 0; i < Depth; i++) layout.Add($"{name}.{i}.weight", sizes[i + 1], sizes[i]);
    }

    public void AddBiases(TensorLayout layout)
    {
        for (int i = 0; i < Depth; i++) layout.Add($"{name}.{i}.bias", sizes[i + 1]);
    }

    /// <summary>Adds each layer's output (capacity, sizes[i + 1]) to the activation layout.</summary>
    public void AddOutputs(TensorLayout activations, int capacity)
    {
        for (int i = 0; i < Depth; i++) outputEntries[i] = activations.Add($"{name}.{i}.out", capacity, sizes[i + 1]);
    }

    /// <summary>Binds the layers to <paramref name="store"/> and the outputs to <paramref name="activations"/> (laid out by the layout AddOutputs extended).</summary>
    public void Bind(ParameterStore store, DeviceSpan<float> activations)
    {
        ArgumentNullException.ThrowIfNull(store);
        layers = new Linear[Depth];
        outputs = new DeviceSpan<float>[Depth];
        for (int i = 0; i < Depth; i++)
        {
            string layer = $"{name}.{i}";
            layers[i] = new Linear(sizes[i], sizes[i + 1], store.Parameter(layer + ".weight"), store.Parameter(layer + ".bias"),
                store.Gradient(layer + ".weight"), store.Gradient(layer + ".bias"));
            outputs[i] = TensorLayout.View(activations, outputEntries[i]);
        }
    }

    /// <summary>The layers' state_dict entries, weight then bias per layer.</summary>
    public IEnumerable<NamedTensor> NamedTensors(TensorLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        for (int i = 0; i < Depth; i++)
        {
            var w = layout[$"{name}.{i}.weight"];
            var b = layout[$"{name}.{i}.bias"];
            yield return new NamedTensor(w.Name, w.Shape, w.Offset, w.Length);
            yield return new NamedTensor(b.Name, b.Shape, b.Offset, b.Length);
        }
    }

    /// <summary>input (rows, In) -> every layer's output; Output holds the last (no ReLU).</summary>
    public void Forward(IComputeBackend backend, DeviceSpan<float> input, int rows)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var x = input;
        for (int i = 0; i < Depth; i++)
        {
            layers[i].Forward(backend, x, outputs[i], rows);
            if (i < Depth - 1)
            {
                var h = outputs[i].Slice(0, rows * sizes[i + 1]);
                backend.ActivationForward(Activation.Relu, h, h);
            }
            x = outputs[i];
        }
    }

    /// <summary>
    /// After Forward on the same input: given dOutput (rows, Out), the gradient of the last layer's output, writes every
    /// layer's weight gradient (assigned) and bias gradient (accumulated: the caller zeroes the bias region once per step),
    /// and dInput (rows, In) unless it is the null view. gradA and gradB (rows, WidestHidden) are scratch; dOutput, dInput,
    /// gradA and gradB are pairwise disjoint. dOutput is not changed.
    /// </summary>
    public void Backward(IComputeBackend backend, DeviceSpan<float> input, DeviceSpan<float> dOutput, DeviceSpan<float> dInput,
        DeviceSpan<float> gradA, DeviceSpan<float> gradB, int rows)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var dy = dOutput;
        var into = gradA;
        var other = gradB;
        for (int i = Depth - 1; i >= 0; i--)
        {
            var x = i > 0 ? outputs[i - 1] : input;
            var dx = i > 0 ? into : dInput;
            layers[i].Backward(backend, x, dy, dx, rows);
            if (i == 0) break;
            // ReLU backward in place; outputs[i - 1] holds ReLU's output, whose sign test is the same as its input's.
            var g = into.Slice(0, rows * sizes[i]);
            backend.ActivationBackward(Activation.Relu, outputs[i - 1].Slice(0, rows * sizes[i]), default, g, g);
            dy = into;
            (into, other) = (other, into);
        }
    }
}
