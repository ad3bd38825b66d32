// A stack of fully connected layers, each followed by ReLU: the hidden layers of the VAE family's encoders and
// decoders. Declared in two steps because a model carves everything from flat buffers: first the layer's tensors go
// into the parameter layout (weights and biases separately, so a model can keep all its biases in one region) and its
// outputs into the activation layout; then, once both buffers exist, the constructor binds the views.
//
// Shapes (B = rows): input (B, sizes[0]) -> layer i: (B, sizes[i + 1]), ReLU in place; Top is the last layer's output
// (the input itself for an empty stack). Layer i is named "{prefix}.{i}" (PyTorch: a ModuleList of nn.Linear).
using Vae.Models;

namespace Vae.Nn;

public sealed class ReluMlp
{
    readonly Linear[] layers;
    readonly DeviceSpan<float>[] outputs;
    readonly TensorLayout parameterLayout;

    /// <summary>Binds the layers declared with <see cref="AddWeights"/>/<see cref="AddBiases"/> and <see cref="AddOutputs"/> under <paramref name="prefix"/>.</summary>
    /// <param name="sizes">Input width, then each layer's output width.</param>
    public ReluMlp(string prefix, int[] sizes, ParameterStore store, TensorLayout activationLayout, DeviceSpan<float> activations)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(activationLayout);
        if (sizes.Length < 1) throw new ArgumentException("An MLP needs at least its input width.", nameof(sizes));
        Prefix = prefix;
        Sizes = (int[])sizes.Clone();
        parameterLayout = store.Layout;
        layers = new Linear[sizes.Length - 1];
        outputs = new DeviceSpan<float>[layers.Length];
        for (int i = 0; i < layers.Length; i++)
        {
            string name = $"{prefix}.{i}";
            layers[i] = new Linear(sizes[i], sizes[i + 1], store.Parameter(name + ".weight"), store.Parameter(name + ".bias"),
                store.Gradient(name + ".weight"), store.Gradient(name + ".bias"));
            outputs[i] = TensorLayout.View(activations, activationLayout[name]);
        }
    }

    public string Prefix { get; }
    public int[] Sizes { get; }
    public IReadOnlyList<Linear> Layers => layers;
    /// <summary>Width of <see cref="Top"/>: the last layer's outputs, or the input width for an empty stack.</summary>
    public int Width => Sizes[^1];

    /// <summary>Appends "{prefix}.{i}.weight" (out, in) of every layer to a parameter layout.</summary>
    public static void AddWeights(TensorLayout layout, string prefix, ReadOnlySpan<int> sizes)
    {
        for (int i = 0; i + 1 < sizes.Length; i++) layout.Add($"{prefix}.{i}.weight", sizes[i + 1], sizes[i]);
    }

    /// <summary>Appends "{prefix}.{i}.bias" of every layer to a parameter layout.</summary>
    public static void AddBiases(TensorLayout layout, string prefix, ReadOnlySpan<int> sizes)
    {
        for (int i = 0; i + 1 < sizes.Length; i++) layout.Add($"{prefix}.{i}.bias", sizes[i + 1]);
    }

    /// <summary>Appends each layer's output "{prefix}.{i}" (capacity, width) to an activation layout.</summary>
    public static void AddOutputs(TensorLayout layout, string prefix, ReadOnlySpan<int> sizes, int capacity)
    {
        for (int i = 0; i + 1 < sizes.Length; i++) layout.Add($"{prefix}.{i}", capacity, sizes[i + 1]);
    }

    /// <summary>Appends the PyTorch state_dict entries of every layer (weight, then bias) to <paramref name="named"/>.</summary>
    public void AddNamedTensors(List<NamedTensor> named)
    {
        for (int i = 0; i < layers.Length; i++) AddNamedLinear(named, parameterLayout, $"{Prefix}.{i}");
    }

    /// <summary>"{name}.weight" and "{name}.bias" of a linear layer of <paramref name="layout"/>, whole, under their own names.</summary>
    public static void AddNamedLinear(List<NamedTensor> named, TensorLayout layout, string name)
    {
        ArgumentNullException.ThrowIfNull(named);
        ArgumentNullException.ThrowIfNull(layout);
        foreach (var entry in new[] { layout[name + ".weight"], layout[name + ".bias"] })
            named.Add(new NamedTensor(entry.Name, entry.Shape, entry.Offset, entry.Length));
    }

    /// <summary>The output of the last layer after <see cref="Forward"/> (x itself for an empty stack).</summary>
    public DeviceSpan<float> Top(DeviceSpan<float> x) => layers.Length > 0 ? outputs[^1] : x;

    /// <summary>x (rows, Sizes[0]) through every layer and its ReLU; returns <see cref="Top"/>.</summary>
    public DeviceSpan<float> Forward(IComputeBackend backend, DeviceSpan<float> x, int rows)
    {
        var h = x;
        for (int i = 0; i < layers.Length; i++)
        {
            layers[i].Forward(backend, h, outputs[i], rows);
            var y = outputs[i].Slice(0, rows * layers[i].Out);
            backend.ActivationForward(Activation.Relu, y, y);
            h = outputs[i];
        }
        return Top(x);
    }

    /// <summary>
    /// After <see cref="Forward"/> on <paramref name="x"/>: given the gradient of the top output in <paramref name="dTop"/>
    /// (rows, Width; overwritten), writes every layer's parameter gradients (weights assigned, biases accumulated as in
    /// <see cref="Linear.Backward"/>) and, unless it is the null view, the input gradient <paramref name="dx"/> (rows,
    /// Sizes[0]). <paramref name="spare"/> is scratch as large as dTop; the two must hold the widest layer. An empty
    /// stack does nothing (the caller's gradient already is the input's).
    /// </summary>
    public void Backward(IComputeBackend backend, DeviceSpan<float> x, DeviceSpan<float> dTop, DeviceSpan<float> spare, DeviceSpan<float> dx, int rows)
    {
        var into = dTop;
        var other = spare;
        for (int i = layers.Length - 1; i >= 0; i--)
        {
            var g = into.Slice(0, rows * layers[i].Out);
            var h = outputs[i].Slice(0, rows * layers[i].Out);
            backend.ActivationBackward(Activation.Relu, h, default, g, g);   // h holds ReLU's output: same sign test as its input
            layers[i].Backward(backend, i > 0 ? outputs[i - 1] : x, into, i > 0 ? other : dx, rows);
            (into, other) = (other, into);
        }
    }
}
