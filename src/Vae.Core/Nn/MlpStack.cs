// A stack of fully connected layers with ReLU after every layer but the last: the deterministic networks of the VAE
// family (an encoder ending in its [mu | logvar] head, a decoder ending in its logits). The stack owns no memory: it
// declares its weights and biases into the model's parameter layout (weights and biases in two separate calls, so a
// model can put every bias of all its networks into one contiguous gradient region) and its layer outputs into the
// model's activation layout, then works on views of those buffers.
//
// Shapes (B = rows): x (B, sizes[0]) -> layer i: (B, sizes[i + 1]), ReLU in place for i < depth - 1 -> Output (B, sizes[^1]).
// Backward follows the repository's gradient rule: weight gradients are assigned by their GEMMs, bias gradients
// accumulate (the model zeroes its bias region once per step), the input gradient is assigned.
namespace Vae.Nn;

public sealed class MlpStack
{
    readonly string[] names;
    readonly int[] sizes;
    Linear[] layers = [];
    TensorEntry[] outputEntries = [];
    DeviceSpan<float>[] outputs = [];

    /// <summary>
    /// A stack of <paramref name="layerNames"/>.Length layers mapping sizes[i] -> sizes[i + 1]; the names are the
    /// layout names of the layers ("enc.0", ..., "heads"): their tensors are "NAME.weight" (out, in) and "NAME.bias" (out).
    /// </summary>
    public MlpStack(string[] layerNames, int[] sizes)
    {
        ArgumentNullException.ThrowIfNull(layerNames);
        ArgumentNullException.ThrowIfNull(sizes);
        if (layerNames.Length == 0 || sizes.Length != layerNames.Length + 1)
            throw new ArgumentException($"An MLP of {layerNames.Length} layers needs {layerNames.Length + 1} sizes (input, then each layer's output); got {sizes.Length}.", nameof(sizes));
        foreach (int s in sizes)
            if (s <= 0) throw new ArgumentOutOfRangeException(nameof(sizes), s, "Layer sizes must be > 0.");
        names = (string[])layerNames.Clone();
        this.sizes = (int[])sizes.Clone();
    }

    /// <summary>The layer names and sizes for hidden layers PREFIX.0, PREFIX.1, ... then a last layer HEAD: sizes = [input, .. hidden, output].</summary>
    public static MlpStack Stack(string prefix, int input, IReadOnlyList<int> hidden, string head, int output)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        var layerNames = new string[hidden.Count + 1];
        for (int i = 0; i < hidden.Count; i++) layerNames[i] = $"{prefix}.{i}";
        layerNames[^1] = head;
        return new MlpStack(layerNames, [input, .. hidden, output]);
    }

    public int In => sizes[0];
    public int Out => sizes[^1];
    public int Depth => names.Length;
    public IReadOnlyList<string> LayerNames => names;
    public IReadOnlyList<Linear> Layers => layers;
    /// <summary>The widest hidden layer (0 without one): the width of the scratch rows <see cref="Backward"/> needs.</summary>
    public int WidestHidden => sizes.Length > 2 ? sizes[1..^1].Max() : 0;
    /// <summary>(capacity, Out) the last layer's output, written by <see cref="Forward"/>.</summary>
    public DeviceSpan<float> Output => outputs.Length > 0 ? outputs[^1] : default;

    /// <summary>Appends "NAME.weight" (out, in) of every layer to <paramref name="layout"/>.</summary>
    public void AddWeights(TensorLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        for (int i = 0; i < names.Length; i++) layout.Add(names[i] + ".weight", sizes[i + 1], sizes[i]);
    }

    /// <summary>Appends "NAME.bias" (out) of every layer to <paramref name="layout"/>.</summary>
    public void AddBiases(TensorLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        for (int i = 0; i < names.Length; i++) layout.Add(names[i] + ".bias", sizes[i + 1]);
    }

    /// <summary>Binds the layers to their views in <paramref name="store"/> (after AddWeights and AddBiases into its layout).</summary>
    public void BindParameters(ParameterStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        layers = new Linear[names.Length];
        for (int i = 0; i < names.Length; i++)
            layers[i] = new Linear(sizes[i], sizes[i + 1], store.Parameter(names[i] + ".weight"), store.Parameter(names[i] + ".bias"),
                store.Gradient(names[i] + ".weight"), store.Gradient(names[i] + ".bias"));
    }

    /// <summary>Appends each layer's output (capacity, out), named "NAME", to the activation layout.</summary>
    public void AddActivations(TensorLayout activations, int capacity)
    {
        ArgumentNullException.ThrowIfNull(activations);
        outputEntries = new TensorEntry[names.Length];
        for (int i = 0; i < names.Length; i++) outputEntries[i] = activations.Add(names[i], capacity, sizes[i + 1]);
    }

    /// <summary>Binds the layer outputs to the buffer laid out by the activation layout given to AddActivations.</summary>
    public void BindActivations(DeviceSpan<float> flat)
    {
        outputs = new DeviceSpan<float>[outputEntries.Length];
        for (int i = 0; i < outputs.Length; i++) outputs[i] = TensorLayout.View(flat, outputEntries[i]);
    }

    /// <summary>x (rows, In) -> Output (rows, Out), keeping every layer's output for <see cref="Backward"/>.</summary>
    public DeviceSpan<float> Forward(IComputeBackend backend, DeviceSpan<float> x, int rows)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var input = x;
        for (int i = 0; i < layers.Length; i++)
        {
            layers[i].Forward(backend, input, outputs[i], rows);
            if (i < layers.Length - 1)
            {
                var h = outputs[i].Slice(0, rows * sizes[i + 1]);
                backend.ActivationForward(Activation.Relu, h, h);
            }
            input = outputs[i];
        }
        return outputs[^1];
    }

    /// <summary>
    /// After <see cref="Forward"/> on <paramref name="x"/>: the parameter gradients of the stack for the output gradient
    /// <paramref name="dOutput"/> (rows, Out), and the input gradient into <paramref name="dx"/> (rows, In), assigned,
    /// unless dx is the null view. <paramref name="scratchA"/> and <paramref name="scratchB"/> hold at least
    /// rows * <see cref="WidestHidden"/> floats each and are disjoint from dOutput, dx and each other.
    /// </summary>
    public void Backward(IComputeBackend backend, DeviceSpan<float> x, DeviceSpan<float> dOutput, DeviceSpan<float> dx,
        DeviceSpan<float> scratchA, DeviceSpan<float> scratchB, int rows)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var dy = dOutput;
        var into = scratchA;
        var other = scratchB;
        for (int i = layers.Length - 1; i >= 0; i--)
        {
            if (i == 0)
            {
                layers[0].Backward(backend, x, dy, dx, rows);
                break;
            }
            layers[i].Backward(backend, outputs[i - 1], dy, into, rows);
            var g = into.Slice(0, rows * sizes[i]);
            backend.ActivationBackward(Activation.Relu, outputs[i - 1].Slice(0, rows * sizes[i]), default, g, g);   // the stored ReLU output has its input's sign test
            dy = into;
            (into, other) = (other, into);
        }
    }
}
