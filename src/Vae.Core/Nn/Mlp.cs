// The multilayer perceptron of the VAE family: Linear layers with ReLU after every layer but the last, which is the
// un-activated head (an encoder ending in its [mu | logvar] head or its code, a decoder ending in its logits). It owns
// no memory: it declares its weights and its biases into the model's parameter layout in two separate calls (so a
// model puts every bias of all its networks into one gradient region it zeroes once per step) and its layer outputs
// into the model's activation layout, then binds views of the model's ParameterStore and activation buffer.
//
// Shapes (rows <= the capacity given to AddOutputs): x (rows, sizes[0]) -> layer i: (rows, sizes[i + 1]), ReLU in place
// for every layer but the last -> Output (rows, Out).
// Names: layer i is LayerNames[i]; its tensors are "NAME.weight" (out, in) and "NAME.bias" (out), as in PyTorch's
// state_dict, and its output is "NAME" in the activation layout. Numbered("enc", sizes) names the layers enc.0, enc.1,
// ... (a PyTorch ModuleList of Linear); Stack("enc", input, hidden, "heads", output) names the hidden layers enc.i and
// the last one "heads" (a ModuleList followed by its own Linear). A head that PyTorch holds as two Linear layers of half
// the width (mu and logvar) is one layer here, one GEMM, and NamedTensors gives its halves their two names.
// Backward follows the repository's gradient rules: weight gradients are assigned by their GEMMs, bias gradients
// accumulate (the model zeroes its bias region once per step), the input gradient is assigned.
using Vae.Models;

namespace Vae.Nn;

public sealed class Mlp
{
    readonly string[] names;
    readonly int[] sizes;
    Linear[] layers = [];
    TensorEntry[] outputEntries = [];
    DeviceSpan<float>[] outputs = [];
    TensorLayout? parameterLayout;

    /// <summary>
    /// <paramref name="layerNames"/>.Length layers, layer i mapping sizes[i] -> sizes[i + 1] (sizes: the input width,
    /// then every layer's output width), named by the layout names of their tensors ("enc.0", ..., "heads").
    /// </summary>
    public Mlp(string[] layerNames, int[] sizes)
    {
        ArgumentNullException.ThrowIfNull(layerNames);
        ArgumentNullException.ThrowIfNull(sizes);
        if (layerNames.Length == 0 || sizes.Length != layerNames.Length + 1)
            throw new ArgumentException($"An MLP of {layerNames.Length} layers needs {layerNames.Length + 1} sizes (input, then each layer's output); got {sizes.Length}.", nameof(sizes));
        foreach (string name in layerNames) ArgumentException.ThrowIfNullOrEmpty(name, nameof(layerNames));
        foreach (int s in sizes)
            if (s <= 0) throw new ArgumentOutOfRangeException(nameof(sizes), s, "Layer sizes must be > 0.");
        names = (string[])layerNames.Clone();
        this.sizes = (int[])sizes.Clone();
    }

    /// <summary>Layers PREFIX.0, PREFIX.1, ... mapping sizes[i] -> sizes[i + 1] (at least one layer).</summary>
    public static Mlp Numbered(string prefix, int[] sizes)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        var layerNames = new string[Math.Max(sizes.Length - 1, 0)];
        for (int i = 0; i < layerNames.Length; i++) layerNames[i] = $"{prefix}.{i}";
        return new Mlp(layerNames, sizes);
    }

    /// <summary>Hidden layers PREFIX.0, PREFIX.1, ... of the widths <paramref name="hidden"/> (none is fine), then the head <paramref name="head"/>: sizes [input, .. hidden, output].</summary>
    public static Mlp Stack(string prefix, int input, IReadOnlyList<int> hidden, string head, int output)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        var layerNames = new string[hidden.Count + 1];
        for (int i = 0; i < hidden.Count; i++) layerNames[i] = $"{prefix}.{i}";
        layerNames[^1] = head;
        return new Mlp(layerNames, [input, .. hidden, output]);
    }

    public int In => sizes[0];
    public int Out => sizes[^1];
    public int Depth => names.Length;
    public IReadOnlyList<string> LayerNames => names;
    /// <summary>The layers, after <see cref="Bind"/>.</summary>
    public IReadOnlyList<Linear> Layers => layers;
    /// <summary>The widest hidden (ReLU) layer, 0 without one: the width of the scratch rows <see cref="Backward"/> needs.</summary>
    public int WidestHidden => sizes.Length > 2 ? sizes[1..^1].Max() : 0;
    /// <summary>(capacity, Out) the last layer's output (no ReLU), written by <see cref="Forward"/>; after <see cref="Bind"/>.</summary>
    public DeviceSpan<float> Output => outputs.Length > 0 ? outputs[^1] : default;

    /// <summary>
    /// Declares the parameters of <paramref name="networks"/> into <paramref name="layout"/>: every weight of all of them
    /// (in order), then every bias, so the bias gradients form one region. Returns where the biases start.
    /// </summary>
    public static int AddParameters(TensorLayout layout, params ReadOnlySpan<Mlp> networks)
    {
        ArgumentNullException.ThrowIfNull(layout);
        foreach (var net in networks) net.AddWeights(layout);
        int firstBias = layout.TotalLength;
        foreach (var net in networks) net.AddBiases(layout);
        return firstBias;
    }

    /// <summary>Appends "NAME.weight" (out, in) of every layer to <paramref name="layout"/>.</summary>
    public void AddWeights(TensorLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        for (int i = 0; i < Depth; i++) layout.Add(names[i] + ".weight", sizes[i + 1], sizes[i]);
    }

    /// <summary>Appends "NAME.bias" (out) of every layer to <paramref name="layout"/>.</summary>
    public void AddBiases(TensorLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        for (int i = 0; i < Depth; i++) layout.Add(names[i] + ".bias", sizes[i + 1]);
    }

    /// <summary>Appends each layer's output "NAME" (capacity, out) to the activation layout.</summary>
    public void AddOutputs(TensorLayout activations, int capacity)
    {
        ArgumentNullException.ThrowIfNull(activations);
        outputEntries = new TensorEntry[Depth];
        for (int i = 0; i < Depth; i++) outputEntries[i] = activations.Add(names[i], capacity, sizes[i + 1]);
    }

    /// <summary>
    /// Binds the layers to <paramref name="store"/> (whose layout AddWeights and AddBiases extended) and the outputs to
    /// <paramref name="activations"/> (the buffer laid out by the layout AddOutputs extended).
    /// </summary>
    public void Bind(ParameterStore store, DeviceSpan<float> activations)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (outputEntries.Length != Depth) throw new InvalidOperationException("Call AddOutputs before Bind.");
        parameterLayout = store.Layout;
        layers = new Linear[Depth];
        outputs = new DeviceSpan<float>[Depth];
        for (int i = 0; i < Depth; i++)
        {
            string layer = names[i];
            layers[i] = new Linear(sizes[i], sizes[i + 1], store.Parameter(layer + ".weight"), store.Parameter(layer + ".bias"),
                store.Gradient(layer + ".weight"), store.Gradient(layer + ".bias"));
            outputs[i] = TensorLayout.View(activations, outputEntries[i]);
        }
    }

    /// <summary>The PyTorch state_dict entries of every layer, weight then bias, under the layers' own names (after <see cref="Bind"/>).</summary>
    public IEnumerable<NamedTensor> NamedTensors() => NamedTensors(null, null);

    /// <summary>
    /// As <see cref="NamedTensors()"/>, but the head (the last layer) as PyTorch's two Linear layers of half its width:
    /// "<paramref name="firstHalf"/>.weight", ".bias", then "<paramref name="secondHalf"/>.weight", ".bias" (for a
    /// [mu | logvar] head: "mu" and "logvar").
    /// </summary>
    public IEnumerable<NamedTensor> NamedTensors(string? firstHalf, string? secondHalf)
    {
        var layout = parameterLayout ?? throw new InvalidOperationException("Call Bind before NamedTensors.");
        for (int i = 0; i < Depth; i++)
        {
            var weight = layout[names[i] + ".weight"];
            var bias = layout[names[i] + ".bias"];
            if (i < Depth - 1 || firstHalf is null || secondHalf is null)
            {
                yield return new NamedTensor(weight.Name, weight.Shape, weight.Offset, weight.Length);
                yield return new NamedTensor(bias.Name, bias.Shape, bias.Offset, bias.Length);
                continue;
            }
            int half = sizes[i + 1] / 2, inF = sizes[i];
            yield return new NamedTensor(firstHalf + ".weight", [half, inF], weight.Offset, half * inF);
            yield return new NamedTensor(firstHalf + ".bias", [half], bias.Offset, half);
            yield return new NamedTensor(secondHalf + ".weight", [half, inF], weight.Offset + half * inF, half * inF);
            yield return new NamedTensor(secondHalf + ".bias", [half], bias.Offset + half, half);
        }
    }

    /// <summary>x (rows, In) -> <see cref="Output"/> (rows, Out), keeping every layer's output for <see cref="Backward"/>; returns Output.</summary>
    public DeviceSpan<float> Forward(IComputeBackend backend, DeviceSpan<float> x, int rows)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var input = x;
        for (int i = 0; i < Depth; i++)
        {
            layers[i].Forward(backend, input, outputs[i], rows);
            if (i < Depth - 1)
            {
                var h = outputs[i].Slice(0, rows * sizes[i + 1]);
                backend.ActivationForward(Activation.Relu, h, h);
            }
            input = outputs[i];
        }
        return outputs[^1];
    }

    /// <summary>
    /// After <see cref="Forward"/> on <paramref name="x"/>: given <paramref name="dOutput"/> (rows, Out), the gradient of
    /// the last layer's output (not changed), writes every layer's weight gradient (assigned) and bias gradient
    /// (accumulated), and the input gradient <paramref name="dx"/> (rows, In), assigned, unless dx is the null view.
    /// <paramref name="scratchA"/> and <paramref name="scratchB"/> hold rows * <see cref="WidestHidden"/> floats each;
    /// dOutput, dx, scratchA and scratchB are pairwise disjoint.
    /// </summary>
    public void Backward(IComputeBackend backend, DeviceSpan<float> x, DeviceSpan<float> dOutput, DeviceSpan<float> dx,
        DeviceSpan<float> scratchA, DeviceSpan<float> scratchB, int rows)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var dy = dOutput;
        var into = scratchA;
        var other = scratchB;
        for (int i = Depth - 1; i > 0; i--)
        {
            layers[i].Backward(backend, outputs[i - 1], dy, into, rows);
            // ReLU backward in place; outputs[i - 1] holds ReLU's output, whose sign test is the same as its input's.
            var g = into.Slice(0, rows * sizes[i]);
            backend.ActivationBackward(Activation.Relu, outputs[i - 1].Slice(0, rows * sizes[i]), default, g, g);
            dy = into;
            (into, other) = (other, into);
        }
        layers[0].Backward(backend, x, dy, dx, rows);
    }
}
