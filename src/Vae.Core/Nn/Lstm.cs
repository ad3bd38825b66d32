// A multi-layer, optionally bidirectional LSTM over time-major sequences, with PyTorch nn.LSTM's parameters (names,
// shapes, gate order i, f, g, o) and semantics for packed (ragged) batches:
//   input (T, B, In) -> output (T, B, D H) (zero at padded steps), final states h_n, c_n (L D, B, H),
//   from initial states h_0, c_0 (L D, B, H) or zeros; D = 2 when bidirectional.
// Sequence b has lengths[b] valid steps (0 <= lengths[b] <= T; the null view means all T). A padded step leaves the
// state unchanged, so the forward direction ends at each sequence's last valid step and the reverse direction starts
// there; padded inputs influence nothing and get a zero gradient.
// Per layer and direction: the input projection of all T steps is one GEMM (T B, 4H) = X W_ih^T + b_ih + b_hh; each step
// adds h_prev W_hh^T (one GEMM) and runs LstmCellForward. Backpropagation through time runs LstmCellBackward per step in
// reverse order with dh_prev += dGates W_hh (one GEMM); then dW_ih += dG^T X, dW_hh += dG^T H_prev and the bias
// gradients take all T steps in one GEMM each, and dX = dG W_ih is one GEMM.
// Parameters and gradients are views into a ParameterStore (like Linear); every activation lives in one buffer allocated
// at construction for (maxSteps, maxBatch), so Forward and Backward allocate nothing. Parameter gradients ACCUMULATE;
// dInput, dH0 and dC0 are ASSIGNED.
namespace Vae.Nn;

public sealed class Lstm : IDisposable
{
    readonly IComputeBackend backend;
    readonly DeviceBuffer activations;
    readonly Direction[] cells;           // [layer * Directions + direction]
    readonly DeviceSpan<float>[] layerOutputs;    // (maxSteps, maxBatch, D H) per layer; the last one is Output
    readonly DeviceSpan<float>[] layerOutputGrads; // (maxSteps, maxBatch, D H): gradient of the output of layer l < L - 1
    readonly DeviceSpan<float> dhCarry, dcCarry;   // (maxBatch, H)
    DeviceSpan<float> lastInput;
    DeviceSpan<int> lastLengths;
    int lastSteps = -1, lastBatch;
    int pendingSteps, nextStep = -1;   // the step-by-step pass: its length and the next step (-1: none running)

    /// <summary>The views of one layer and direction: parameters, gradients, gate and state buffers.</summary>
    sealed class Direction
    {
        public DeviceSpan<float> WeightIh, WeightHh, BiasIh, BiasHh;          // (4H, in), (4H, H), (4H), (4H)
        public DeviceSpan<float> WeightIhGrad, WeightHhGrad, BiasIhGrad, BiasHhGrad;
        public DeviceSpan<float> BiasSum;   // (4H) = b_ih + b_hh in Forward; the gates' column sums in Backward
        public DeviceSpan<float> Gates;     // (maxSteps maxBatch, 4H): pre-activations, then activated, then their gradients
        public DeviceSpan<float> HStates, CStates; // (maxSteps + 1, maxBatch, H)
        public int InputSize;
    }

    /// <summary>
    /// An LSTM of <paramref name="layers"/> layers over inputs of <paramref name="inputSize"/> features with
    /// <paramref name="hiddenSize"/> units per direction, whose parameters are named &lt;prefix&gt;weight_ih_l0 ... in
    /// <paramref name="parameters"/> (added by <see cref="AddParameters"/>), for up to maxSteps steps of maxBatch sequences.
    /// </summary>
    public Lstm(IComputeBackend backend, ParameterStore parameters, string prefix, int inputSize, int hiddenSize, int layers, bool bidirectional,
        int maxSteps, int maxBatch)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(parameters);
        CheckShape(inputSize, hiddenSize, layers);
        ArgumentOutOfRangeException.ThrowIfNegative(maxSteps);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBatch);
        Prefix = prefix ?? "";
        foreach (var (name, shape) in ParameterShapes(Prefix, inputSize, hiddenSize, layers, bidirectional))
        {
            var entry = parameters.Layout[name];
            if (!entry.Shape.AsSpan().SequenceEqual(shape))
                throw new ArgumentException($"Parameter '{name}' has shape {entry.ShapeText} in the store, but an LSTM with input {inputSize} and hidden {hiddenSize} " +
                    $"needs ({string.Join(", ", shape)}); add the parameters with Lstm.AddParameters.", nameof(parameters));
        }
        this.backend = backend;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        Layers = layers;
        Directions = bidirectional ? 2 : 1;
        MaxSteps = maxSteps;
        MaxBatch = maxBatch;

        int h = hiddenSize, dh = Directions * h;
        long stepRows = (long)maxSteps * maxBatch;
        long gates = stepRows * 4 * h, states = (maxSteps + 1L) * maxBatch * h, outputs = stepRows * dh;
        long carry = (long)maxBatch * h, finals = layers * Directions * carry;
        // Everything in one buffer, each piece on a 16-float boundary: per layer and direction the gates, the bias sum and
        // the h and c states; per layer its output and (below the last) its output's gradient; the carries; h_n and c_n.
        long total = layers * Directions * (Aligned(gates) + Aligned(4L * h) + 2 * Aligned(states))
            + layers * Aligned(outputs) + (layers - 1) * Aligned(outputs) + 2 * Aligned(carry) + 2 * Aligned(finals);
        if (total > int.MaxValue)
            throw new ArgumentException($"An LSTM of {layers} layers x {Directions} directions, hidden {h}, for {maxSteps} steps of {maxBatch} sequences needs {total} floats of activations, above {int.MaxValue}; use fewer steps or a smaller batch.", nameof(maxSteps));
        activations = backend.Allocate(Math.Max(total, 1) * sizeof(float));
        var all = activations.AsSpan<float>();
        long next = 0;
        DeviceSpan<float> Carve(long length)
        {
            var view = all.Slice((int)next, (int)length);
            next += Aligned(length);
            return view;
        }

        cells = new Direction[layers * Directions];
        layerOutputs = new DeviceSpan<float>[layers];
        layerOutputGrads = new DeviceSpan<float>[layers];
        for (int l = 0; l < layers; l++)
        {
            for (int d = 0; d < Directions; d++)
            {
                string suffix = $"_l{l}{(d == 1 ? "_reverse" : "")}";
                var cell = new Direction
                {
                    InputSize = l == 0 ? inputSize : dh,
                    WeightIh = parameters.Parameter(Prefix + "weight_ih" + suffix),
                    WeightHh = parameters.Parameter(Prefix + "weight_hh" + suffix),
                    BiasIh = parameters.Parameter(Prefix + "bias_ih" + suffix),
                    BiasHh = parameters.Parameter(Prefix + "bias_hh" + suffix),
                    WeightIhGrad = parameters.Gradient(Prefix + "weight_ih" + suffix),
                    WeightHhGrad = parameters.Gradient(Prefix + "weight_hh" + suffix),
                    BiasIhGrad = parameters.Gradient(Prefix + "bias_ih" + suffix),
                    BiasHhGrad = parameters.Gradient(Prefix + "bias_hh" + suffix),
                    Gates = Carve(gates),
                    BiasSum = Carve(4L * h),
                    HStates = Carve(states),
                    CStates = Carve(states),
                };
                cells[l * Directions + d] = cell;
            }
            layerOutputs[l] = Carve(outputs);
            if (l < layers - 1) layerOutputGrads[l] = Carve(outputs);
        }
        dhCarry = Carve(carry);
        dcCarry = Carve(carry);
        FinalHidden = Carve(finals);
        FinalCell = Carve(finals);
    }

    static long Aligned(long floats) => (floats + TensorLayout.Alignment - 1) / TensorLayout.Alignment * TensorLayout.Alignment;

    public string Prefix { get; }
    public int InputSize { get; }
    public int HiddenSize { get; }
    public int Layers { get; }

    /// <summary>2 for a bidirectional LSTM, else 1.</summary>
    public int Directions { get; }

    public int MaxSteps { get; }
    public int MaxBatch { get; }

    /// <summary>Features of the output: Directions * HiddenSize.</summary>
    public int OutputSize => Directions * HiddenSize;

    /// <summary>The last layer's output of the last Forward: (T, B, OutputSize), the first T B rows; zero at padded steps.</summary>
    public DeviceSpan<float> Output => layerOutputs[^1];

    /// <summary>h_n of the last Forward: (Layers Directions, B, H) in the first Layers Directions B H elements (PyTorch's order).</summary>
    public DeviceSpan<float> FinalHidden { get; }

    /// <summary>c_n of the last Forward, laid out like <see cref="FinalHidden"/>.</summary>
    public DeviceSpan<float> FinalCell { get; }

    /// <summary>PyTorch nn.LSTM's parameter names and shapes in state_dict order, each name prefixed with <paramref name="prefix"/>.</summary>
    public static IReadOnlyList<(string Name, int[] Shape)> ParameterShapes(string prefix, int inputSize, int hiddenSize, int layers, bool bidirectional)
    {
        CheckShape(inputSize, hiddenSize, layers);
        int directions = bidirectional ? 2 : 1;
        var shapes = new List<(string, int[])>();
        for (int l = 0; l < layers; l++)
        {
            int input = l == 0 ? inputSize : directions * hiddenSize;
            for (int d = 0; d < directions; d++)
            {
                string suffix = $"_l{l}{(d == 1 ? "_reverse" : "")}";
                shapes.Add((prefix + "weight_ih" + suffix, [4 * hiddenSize, input]));
                shapes.Add((prefix + "weight_hh" + suffix, [4 * hiddenSize, hiddenSize]));
                shapes.Add((prefix + "bias_ih" + suffix, [4 * hiddenSize]));
                shapes.Add((prefix + "bias_hh" + suffix, [4 * hiddenSize]));
            }
        }
        return shapes;
    }

    /// <summary>Adds the parameters of <see cref="ParameterShapes"/> to a layout, in that order.</summary>
    public static void AddParameters(TensorLayout layout, string prefix, int inputSize, int hiddenSize, int layers, bool bidirectional)
    {
        ArgumentNullException.ThrowIfNull(layout);
        foreach (var (name, shape) in ParameterShapes(prefix, inputSize, hiddenSize, layers, bidirectional)) layout.Add(name, shape);
    }

    /// <summary>
    /// PyTorch's initialization: every weight and bias uniform in +-1/sqrt(hidden), tensor k of <see cref="ParameterShapes"/>
    /// from Philox stream firstStream + k of <paramref name="seed"/>. hostParameters is laid out like the store's layout.
    /// Returns the next unused stream.
    /// </summary>
    public static uint Initialize(Span<float> hostParameters, TensorLayout layout, string prefix, int inputSize, int hiddenSize, int layers, bool bidirectional,
        ulong seed, uint firstStream)
    {
        float bound = 1f / MathF.Sqrt(hiddenSize);
        uint stream = firstStream;
        foreach (var (name, _) in ParameterShapes(prefix, inputSize, hiddenSize, layers, bidirectional))
            ParameterInit.FillUniform(ParameterInit.Of(hostParameters, layout, layout[name]), bound, seed, stream++);
        return stream;
    }

    // ------------------------------------------------------------------ forward

    /// <summary>
    /// Runs the LSTM over input (steps, batch, InputSize). lengths (batch) holds each sequence's valid steps in [0, steps], or
    /// is the null view (all valid); h0 and c0 (Layers Directions, batch, H) are the initial states or null views (zeros).
    /// Writes <see cref="Output"/>, <see cref="FinalHidden"/> and <see cref="FinalCell"/>. input and lengths must stay
    /// unchanged until <see cref="Backward"/>.
    /// </summary>
    public void Forward(DeviceSpan<float> input, DeviceSpan<int> lengths, DeviceSpan<float> h0, DeviceSpan<float> c0, int steps, int batch)
    {
        Begin(input, lengths, h0, c0, steps, batch);
        lastSteps = steps;
        nextStep = -1;
        if (batch == 0) return;

        int h = HiddenSize, width = OutputSize, rows = steps * batch, stateRows = batch * h;
        for (int l = 0; l < Layers; l++)
        {
            var x = l == 0 ? input : layerOutputs[l - 1];
            var y = layerOutputs[l];
            for (int d = 0; d < Directions; d++)
            {
                var cell = cells[l * Directions + d];
                int k = l * Directions + d;
                // All steps' input projections and both biases at once.
                backend.Gemm(false, true, rows, 4 * h, cell.InputSize, 1f, x, cell.WeightIh, 0f, cell.Gates);
                backend.Copy(cell.BiasIh, cell.BiasSum);
                backend.Axpy(1f, cell.BiasHh, cell.BiasSum);
                backend.BiasAdd(cell.Gates, cell.BiasSum, rows, 4 * h);

                int initial = d == 0 ? 0 : steps;    // state slot before the first processed step
                SetState(cell.HStates.Slice(initial * stateRows, stateRows), h0, k, stateRows);
                SetState(cell.CStates.Slice(initial * stateRows, stateRows), c0, k, stateRows);
                for (int i = 0; i < steps; i++)
                {
                    int t = d == 0 ? i : steps - 1 - i;
                    int previous = d == 0 ? t : t + 1, next = d == 0 ? t + 1 : t;
                    RecurrentStep(cell, cell.Gates.Slice(t * batch * 4 * h, batch * 4 * h), previous, next, StepRows(y, t, batch, d), batch, width, t);
                }
                int final = d == 0 ? steps : 0;
                backend.Copy(cell.HStates.Slice(final * stateRows, stateRows), FinalHidden.Slice(k * stateRows, stateRows));
                backend.Copy(cell.CStates.Slice(final * stateRows, stateRows), FinalCell.Slice(k * stateRows, stateRows));
            }
        }
    }

    // ------------------------------------------------------------------ step-by-step forward

    /// <summary>
    /// Starts a forward pass that runs one time step per <see cref="Step"/> call, for a decoder whose input at step t depends
    /// on its output at step t - 1 (its own prediction fed back). Same arguments and meaning as <see cref="Forward"/>, but
    /// only row block t of input (steps, batch, InputSize) must be written before Step(t). Unidirectional LSTMs only (the
    /// reverse direction would need the future). After Step(steps - 1) the pass is complete: Output, FinalHidden and
    /// FinalCell hold what Forward would give (up to the rounding of the per-step input GEMMs) and Backward may follow.
    /// A new BeginSteps or Forward abandons an unfinished pass.
    /// </summary>
    public void BeginSteps(DeviceSpan<float> input, DeviceSpan<int> lengths, DeviceSpan<float> h0, DeviceSpan<float> c0, int steps, int batch)
    {
        if (Directions != 1)
            throw new InvalidOperationException("A step-by-step forward needs a unidirectional LSTM: the reverse direction reads the whole sequence first; use Forward.");
        Begin(input, lengths, h0, c0, steps, batch);
        lastSteps = -1;            // Backward waits for the last step
        pendingSteps = steps;
        nextStep = 0;
        if (batch == 0 || steps == 0)
        {
            lastSteps = steps;
            nextStep = -1;
            return;
        }
        int stateRows = batch * HiddenSize;
        for (int l = 0; l < Layers; l++)
        {
            var cell = cells[l];
            backend.Copy(cell.BiasIh, cell.BiasSum);
            backend.Axpy(1f, cell.BiasHh, cell.BiasSum);
            SetState(cell.HStates.Slice(0, stateRows), h0, l, stateRows);
            SetState(cell.CStates.Slice(0, stateRows), c0, l, stateRows);
        }
    }

    /// <summary>
    /// Runs time step <paramref name="t"/> of the pass begun by <see cref="BeginSteps"/> through every layer: the input
    /// projection of its batch rows, the recurrent GEMM and the cell. Steps run in order 0, 1, ..., steps - 1.
    /// </summary>
    public void Step(int t)
    {
        if (nextStep < 0 || t != nextStep)
            throw new InvalidOperationException(nextStep < 0
                ? "Lstm.Step needs BeginSteps first (and runs each step once)."
                : $"Lstm.Step({t}) out of order: the next step is {nextStep}.");
        int batch = lastBatch, h = HiddenSize, stateRows = batch * h;
        for (int l = 0; l < Layers; l++)
        {
            var cell = cells[l];
            var x = l == 0 ? lastInput : layerOutputs[l - 1];
            var gates = cell.Gates.Slice(t * batch * 4 * h, batch * 4 * h);
            backend.Gemm(false, true, batch, 4 * h, cell.InputSize, 1f, x.Slice(t * batch * cell.InputSize, batch * cell.InputSize), cell.WeightIh, 0f, gates);
            backend.BiasAdd(gates, cell.BiasSum, batch, 4 * h);
            RecurrentStep(cell, gates, t, t + 1, StepRows(layerOutputs[l], t, batch, 0), batch, h, t);
        }
        nextStep = t + 1;
        if (nextStep < pendingSteps) return;
        for (int l = 0; l < Layers; l++)
        {
            backend.Copy(cells[l].HStates.Slice(pendingSteps * stateRows, stateRows), FinalHidden.Slice(l * stateRows, stateRows));
            backend.Copy(cells[l].CStates.Slice(pendingSteps * stateRows, stateRows), FinalCell.Slice(l * stateRows, stateRows));
        }
        lastSteps = pendingSteps;
        nextStep = -1;
    }

    /// <summary>The last layer's output rows of step t of the current pass: (batch, OutputSize).</summary>
    public DeviceSpan<float> StepOutput(int t) => Output.Slice(t * lastBatch * OutputSize, lastBatch * OutputSize);

    // ------------------------------------------------------------------ backward

    /// <summary>
    /// Backpropagation through time of the last <see cref="Forward"/>, once per Forward (it overwrites the gate activations
    /// with their gradients). dOutput (steps, batch, OutputSize) is the gradient of
    /// the output (its padded steps are ignored), dFinalHidden and dFinalCell (Layers Directions, batch, H) those of h_n and
    /// c_n; each may be the null view (zero). Accumulates every parameter gradient; assigns dInput (steps, batch, InputSize),
    /// dH0 and dC0 (Layers Directions, batch, H), each skipped when it is the null view.
    /// </summary>
    public void Backward(DeviceSpan<float> dOutput, DeviceSpan<float> dFinalHidden, DeviceSpan<float> dFinalCell,
        DeviceSpan<float> dInput, DeviceSpan<float> dH0, DeviceSpan<float> dC0)
    {
        if (lastSteps < 0) throw new InvalidOperationException("Lstm.Backward needs a Forward first (one Backward per Forward: it overwrites the forward's gate activations with their gradients).");
        int steps = lastSteps, batch = lastBatch;
        int h = HiddenSize, width = OutputSize, rows = steps * batch, stateRows = batch * h;
        if (!dOutput.IsNull) CheckView(dOutput, steps, batch, width, nameof(dOutput));
        if (!dInput.IsNull) CheckView(dInput, steps, batch, InputSize, nameof(dInput));
        CheckOptionalState(dFinalHidden, batch, nameof(dFinalHidden));
        CheckOptionalState(dFinalCell, batch, nameof(dFinalCell));
        CheckOptionalState(dH0, batch, nameof(dH0));
        CheckOptionalState(dC0, batch, nameof(dC0));
        lastSteps = -1;
        if (batch == 0) return;

        var dhNext = dhCarry.Slice(0, stateRows);
        var dcNext = dcCarry.Slice(0, stateRows);
        for (int l = Layers - 1; l >= 0; l--)
        {
            var x = l == 0 ? lastInput : layerOutputs[l - 1];
            var dy = l == Layers - 1 ? dOutput : layerOutputGrads[l];
            var dx = l == 0 ? dInput : layerOutputGrads[l - 1];
            for (int d = 0; d < Directions; d++)
            {
                var cell = cells[l * Directions + d];
                int k = l * Directions + d;
                SetState(dhNext, dFinalHidden, k, stateRows);
                SetState(dcNext, dFinalCell, k, stateRows);
                for (int i = steps - 1; i >= 0; i--)
                {
                    int t = d == 0 ? i : steps - 1 - i;
                    int previous = d == 0 ? t : t + 1, next = d == 0 ? t + 1 : t;
                    var gates = cell.Gates.Slice(t * batch * 4 * h, batch * 4 * h);
                    backend.LstmCellBackward(gates, cell.CStates.Slice(previous * stateRows, stateRows), cell.CStates.Slice(next * stateRows, stateRows),
                        lastLengths, dy.IsNull ? default : StepRows(dy, t, batch, d), dhNext, dcNext, gates, dhNext, dcNext, batch, h, width, t);
                    backend.Gemm(false, false, batch, h, 4 * h, 1f, gates, cell.WeightHh, 1f, dhNext);
                }
                if (!dH0.IsNull) backend.Copy(dhNext, dH0.Slice(k * stateRows, stateRows));
                if (!dC0.IsNull) backend.Copy(dcNext, dC0.Slice(k * stateRows, stateRows));

                // Parameter gradients over all steps at once; the previous states of the steps are rows [0, T) of the
                // state slots for the forward direction and [1, T + 1) for the reverse one.
                var allGates = cell.Gates.Slice(0, rows * 4 * h);
                var previousStates = cell.HStates.Slice((d == 0 ? 0 : 1) * stateRows, rows * h);
                backend.Gemm(true, false, 4 * h, cell.InputSize, rows, 1f, allGates, x, 1f, cell.WeightIhGrad);
                backend.Gemm(true, false, 4 * h, h, rows, 1f, allGates, previousStates, 1f, cell.WeightHhGrad);
                // Both biases get the gates' column sums: taken once (into the bias-sum buffer, free until the next
                // Forward), then added to each.
                backend.Fill(cell.BiasSum, 0f);
                backend.BiasGradient(allGates, cell.BiasSum, rows, 4 * h);
                backend.Axpy(1f, cell.BiasSum, cell.BiasIhGrad);
                backend.Axpy(1f, cell.BiasSum, cell.BiasHhGrad);
                if (!dx.IsNull) backend.Gemm(false, false, rows, cell.InputSize, 4 * h, 1f, allGates, cell.WeightIh, d == 0 ? 0f : 1f, dx);
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>Checks a forward pass's arguments and remembers the input and lengths for Backward.</summary>
    void Begin(DeviceSpan<float> input, DeviceSpan<int> lengths, DeviceSpan<float> h0, DeviceSpan<float> c0, int steps, int batch)
    {
        CheckSizes(steps, batch);
        CheckView(input, steps, batch, InputSize, nameof(input));
        if (!lengths.IsNull && lengths.Length < batch)
            throw new ArgumentException($"lengths has length {lengths.Length} but the batch has {batch} sequences.", nameof(lengths));
        CheckOptionalState(h0, batch, nameof(h0));
        CheckOptionalState(c0, batch, nameof(c0));
        lastInput = input;
        lastLengths = lengths;
        lastBatch = batch;
    }

    /// <summary>The recurrent part of step t: gates (already holding the input projection) += hPrev W_hh^T, then the cell, from state slot previous to slot next.</summary>
    void RecurrentStep(Direction cell, DeviceSpan<float> gates, int previous, int next, DeviceSpan<float> y, int batch, int yStride, int t)
    {
        int h = HiddenSize, stateRows = batch * h;
        var hPrev = cell.HStates.Slice(previous * stateRows, stateRows);
        backend.Gemm(false, true, batch, 4 * h, h, 1f, hPrev, cell.WeightHh, 1f, gates);
        backend.LstmCellForward(gates, cell.CStates.Slice(previous * stateRows, stateRows), hPrev, lastLengths,
            gates, cell.CStates.Slice(next * stateRows, stateRows), cell.HStates.Slice(next * stateRows, stateRows), y, batch, h, yStride, t);
    }


    /// <summary>Rows of direction d at step t inside a (steps, batch, D H) sequence: batch rows of H floats, D H apart.</summary>
    DeviceSpan<float> StepRows(DeviceSpan<float> sequence, int t, int batch, int d) =>
        sequence.Slice(t * batch * OutputSize + d * HiddenSize, (batch - 1) * OutputSize + HiddenSize);

    /// <summary>state = slice k of a (Layers Directions, batch, H) tensor, or zeros for the null view.</summary>
    void SetState(DeviceSpan<float> state, DeviceSpan<float> source, int k, int stateRows)
    {
        if (source.IsNull) backend.Fill(state, 0f);
        else backend.Copy(source.Slice(k * stateRows, stateRows), state);
    }

    void CheckSizes(int steps, int batch)
    {
        if ((uint)steps > (uint)MaxSteps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"steps = {steps} must be in [0, {MaxSteps}] (the LSTM was built for at most {MaxSteps} steps).");
        if ((uint)batch > (uint)MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"batch = {batch} must be in [0, {MaxBatch}] (the LSTM was built for at most {MaxBatch} sequences).");
    }

    void CheckOptionalState(DeviceSpan<float> state, int batch, string name)
    {
        if (!state.IsNull) CheckView(state, Layers * Directions, batch, HiddenSize, name);
    }

    /// <summary>view holds a (d0, d1, d2) tensor; the message is built only when it does not.</summary>
    static void CheckView(DeviceSpan<float> view, int d0, int d1, int d2, string name)
    {
        long need = (long)d0 * d1 * d2;
        if (view.IsNull) throw new ArgumentException($"{name} is a null view; it must hold ({d0}, {d1}, {d2}).", name);
        if (view.Length < need) throw new ArgumentException($"{name} has length {view.Length} but ({d0}, {d1}, {d2}) needs {need} elements.", name);
    }

    static void CheckShape(int inputSize, int hiddenSize, int layers)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        if (hiddenSize > int.MaxValue / 8 / Math.Max(inputSize, hiddenSize))
            throw new ArgumentOutOfRangeException(nameof(hiddenSize), hiddenSize, $"hidden = {hiddenSize} with input {inputSize} makes weights of more than {int.MaxValue} floats.");
    }

    public void Dispose() => activations.Dispose();
}
