// The conditional VAE (Sohn et al. 2015): the seed VAE with a one-hot class label y joined to the input of both
// networks, so q(z | x, y) encodes what the label does not already say and p(x | z, y) draws an image of a chosen
// class. Everything else is the seed VAE's: ReLU MLPs, mu/log-variance heads, reparameterization, BCE from logits or
// squared error, KL to N(0, I) (optionally with free bits), beta; one ParameterStore, activations for Capacity rows in
// one buffer, nothing allocated in Forward or Backward.
//
// Shapes (B = rows <= Capacity, D = input, C = classes, H_i = hidden sizes, L = latent):
//   [x | y] (B, D + C) = Concat(Input, Condition) -> enc.i: (B, H_i), ReLU -> heads (B, 2L) -> mu, logvar (B, L)
//   z (B, L) = mu + exp(logvar / 2) * eps;  [z | y] (B, L + C) = Concat(Z, Condition) -> dec.i: (B, H_{n-1-i}), ReLU
//   -> logits (B, D) -> prediction = sigmoid(logits)
// Backward: the gradient reaching [z | y] is split (Split) into dz and the label's part, which is dropped (the label is
// data); the encoder's input needs no gradient at all.
//
// Parameter names follow the PyTorch twin CVAE in benchmarks/pytorch/vae_model.py, whose first encoder and decoder
// layers take the concatenations: enc.0.weight (H_1, D + C), ..., mu.*, logvar.*, dec.0.weight (H_n, L + C), ..., out.*.
using Vae.Nn;
using Vae.Training;

namespace Vae.Models;

public sealed class CvaeModel : IGaussianVae, IImportanceSampled
{
    readonly IComputeBackend backend;
    readonly Mlp encoder, decoder;   // enc.i then the heads layer [mu | logvar]; dec.i then the output layer "out"
    readonly DeviceBuffer activationBuffer;
    readonly DeviceSpan<float> biasGradients;   // all bias gradients: one contiguous region, zeroed once per step
    readonly DeviceSpan<float> encoderInput, decoderInput, klPerDimension;
    readonly DeviceSpan<float> dLogits, gradA, gradB, dDecoderInput, dz, dCondition, dMu, dLogVar, dHeads;
    readonly List<NamedTensor> namedTensors = [];

    public CvaeModel(IComputeBackend backend, CvaeConfig config, int capacity)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        this.backend = backend;
        Config = config;
        Capacity = capacity;
        int d = config.Input, c = config.Classes, l = config.Latent, b = capacity;
        (encoder, decoder) = GaussianVae.Networks(d + c, config.Hidden, l, l + c, d);   // enc.0 reads [x | y], dec.0 (or out) [z | y]

        // Weights first, then every bias, so the bias gradients form one region (zeroed once per Backward).
        var layout = new TensorLayout();
        int firstBias = Mlp.AddParameters(layout, encoder, decoder);
        Parameters = new ParameterStore(backend, layout);
        biasGradients = Parameters.Gradients.Slice(firstBias, layout.TotalLength - firstBias);

        // Activations and activation gradients for Capacity rows.
        int widest = Math.Max(1, Math.Max(encoder.WidestHidden, decoder.WidestHidden));
        var acts = new TensorLayout();
        var views = new Dictionary<string, TensorEntry>(StringComparer.Ordinal);
        void Add(string name, params int[] shape) => views[name] = acts.Add(name, shape);
        Add("input", b, d);
        Add("condition", b, c);
        Add("enc.input", b, d + c);
        encoder.AddOutputs(acts, b);
        Add("mu", b, l);
        Add("logvar", b, l);
        Add("eps", b, l);
        Add("z", b, l);
        Add("dec.input", b, l + c);
        decoder.AddOutputs(acts, b);
        Add("prediction", b, d);
        Add("recon.per_sample", b);
        Add("kl.per_sample", b);
        Add("totals", 2);
        Add("kl.per_dimension", l);
        Add("d.logits", b, d);
        Add("d.a", b, widest);
        Add("d.b", b, widest);
        Add("d.dec.input", b, l + c);
        Add("d.z", b, l);
        Add("d.condition", b, c);
        Add("d.mu", b, l);
        Add("d.logvar", b, l);
        Add("d.heads", b, 2 * l);
        activationBuffer = backend.Allocate((long)acts.TotalLength * sizeof(float));
        var flat = activationBuffer.AsSpan<float>();
        DeviceSpan<float> V(string name) => TensorLayout.View(flat, views[name]);
        encoder.Bind(Parameters, flat);
        decoder.Bind(Parameters, flat);
        Input = V("input");
        Condition = V("condition");
        encoderInput = V("enc.input");
        Mu = V("mu");
        LogVar = V("logvar");
        Eps = V("eps");
        Z = V("z");
        decoderInput = V("dec.input");
        Logits = decoder.Output;
        Prediction = V("prediction");
        ReconPerSample = V("recon.per_sample");
        KlPerSample = V("kl.per_sample");
        LossTotals = V("totals");
        klPerDimension = V("kl.per_dimension");
        dLogits = V("d.logits");
        gradA = V("d.a");
        gradB = V("d.b");
        dDecoderInput = V("d.dec.input");
        dz = V("d.z");
        dCondition = V("d.condition");
        dMu = V("d.mu");
        dLogVar = V("d.logvar");
        dHeads = V("d.heads");
        LatentGroups = [new LatentGroup("z", l, Mu, LossTotals.Slice(1, 1))];

        // PyTorch state_dict names, in its order.
        namedTensors.AddRange(encoder.NamedTensors("mu", "logvar"));
        namedTensors.AddRange(decoder.NamedTensors());
    }

    public CvaeConfig Config { get; }
    IModelConfig ITrainableModel.Config => Config;
    public int Capacity { get; }
    public IComputeBackend Backend => backend;
    public ParameterStore Parameters { get; }
    public IReadOnlyList<NamedTensor> NamedTensors => namedTensors;
    public long ParameterCount => Parameters.Layout.ElementCount;

    public DeviceSpan<float> Input { get; }        // (Capacity, D) pixels in [0, 1]
    public DeviceSpan<float> Condition { get; }    // (Capacity, C) one-hot labels
    public DeviceSpan<float> Mu { get; }           // (Capacity, L)
    public DeviceSpan<float> LogVar { get; }       // (Capacity, L)
    public DeviceSpan<float> Eps { get; }          // (Capacity, L) standard normal noise
    public DeviceSpan<float> Z { get; }            // (Capacity, L)
    public DeviceSpan<float> Logits { get; }       // (Capacity, D)
    public DeviceSpan<float> Prediction { get; }   // (Capacity, D) sigmoid(logits)
    public DeviceSpan<float> ReconPerSample { get; }
    public DeviceSpan<float> KlPerSample { get; }
    public DeviceSpan<float> LossTotals { get; }
    /// <summary>(L) the batch-mean KL of each latent dimension, written by a Backward with free bits.</summary>
    public DeviceSpan<float> KlPerDimension => klPerDimension;

    public int Classes => Config.Classes;
    int IGaussianVae.Latent => Config.Latent;
    ReconstructionLoss IGaussianVae.Reconstruction => Config.Reconstruction;
    public int NoisePerRow => Config.Latent;
    public DeviceSpan<float> Noise => Eps;
    public IReadOnlyList<LatentGroup> LatentGroups { get; }
    public void AfterOptimizerStep(int rows) { }
    public IImportanceWeighted CreateImportanceWeights(int maxSamples = 0) => new VaeImportanceWeights(this, maxSamples);

    /// <summary>PyTorch's nn.Linear initialization from a Philox stream of <paramref name="seed"/> (<see cref="LinearInit"/>), the same on every backend.</summary>
    public void InitializeParameters(ulong seed) => LinearInit.PyTorchDefault(Parameters, encoder.Layers.Concat(decoder.Layers), seed);

    // ------------------------------------------------------------------ forward

    /// <summary>[Input | Condition] (rows, D + C) -> Mu, LogVar (rows, L).</summary>
    public void Encode(int rows)
    {
        CheckRows(rows);
        int l = Config.Latent;
        backend.Concat(Input, Condition, encoderInput, rows, Config.Input, Config.Classes);
        backend.Split(encoder.Forward(backend, encoderInput, rows), Mu, LogVar, rows, l, l);
    }

    /// <summary>Z = Mu + exp(LogVar / 2) * Eps for the first rows (log-variance clamped, see <see cref="Reparameterization"/>).</summary>
    public void Reparameterize(int rows)
    {
        CheckRows(rows);
        GaussianVae.Reparameterize(backend, Mu, LogVar, Eps, Z, rows * Config.Latent);
    }

    /// <summary>[Z | Condition] (rows, L + C) -> Logits (rows, D), and Prediction = sigmoid(Logits) when <paramref name="probabilities"/>.</summary>
    public void Decode(int rows, bool probabilities = true)
    {
        CheckRows(rows);
        backend.Concat(Z, Condition, decoderInput, rows, Config.Latent, Config.Classes);
        decoder.Forward(backend, decoderInput, rows);
        if (probabilities) ReconstructionTerm.Probabilities(backend, Logits, Prediction, rows, Config.Input);
    }

    /// <summary>The training forward pass on Input, Condition and Eps: writes ReconPerSample, KlPerSample and LossTotals = [sum recon, sum KL].</summary>
    public void Forward(int rows) => GaussianVae.ForwardElbo(this, rows);

    // ------------------------------------------------------------------ backward

    /// <summary>Gradients of the batch-mean loss (recon + beta * KL) / rows after <see cref="Forward"/>.</summary>
    public void Backward(int rows) => Backward(rows, Config.Beta, 0f);

    /// <summary>
    /// Writes into Parameters.Gradients exactly the gradient of the batch mean of recon + klWeight * KL (each latent's
    /// batch-mean KL floored at <paramref name="freeBits"/> nats when &gt; 0). Weight gradients are assigned by their
    /// GEMMs and the bias region is zeroed once, so no separate zeroing pass is needed.
    /// </summary>
    public void Backward(int rows, float klWeight, float freeBits)
    {
        ModelChecks.KlArguments(klWeight, freeBits);
        CheckRows(rows);
        backend.Fill(biasGradients, 0f);

        // Reconstruction term -> dLogits (rows, D).
        ReconstructionTerm.Backward(backend, Config.Reconstruction, Logits, Prediction, Input, dLogits, rows, Config.Input, 1f / rows);

        // Decoder, top down, to the gradient of [z | y]; only its z part flows on.
        decoder.Backward(backend, decoderInput, dLogits, dDecoderInput, gradA, gradB, rows);
        backend.Split(dDecoderInput, dz, dCondition, rows, Config.Latent, Config.Classes);

        // Reparameterization and KL -> dHeads (rows, 2L) = [dMu | dLogVar].
        GaussianVae.LatentBackward(backend, Mu, LogVar, Eps, dz, dMu, dLogVar, dHeads, klPerDimension, rows, Config.Latent, klWeight, freeBits);

        // Encoder, top down; its input [x | y] needs no gradient.
        encoder.Backward(backend, encoderInput, dHeads, default, gradA, gradB, rows);
    }

    // ------------------------------------------------------------------ host-side conveniences (allocate; not for hot loops)

    /// <summary>Decodes z ~ N(0, I) (stream <paramref name="seed"/>, as the plain VAE draws them) with one class label per sample; returns (count, D) probabilities.</summary>
    public float[] Sample(int count, ulong seed, ReadOnlySpan<int> labels = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var conditions = OneHot(labels, count);
        int l = Config.Latent;
        return HostPasses.InChunks(backend, Capacity, count, (start, rows) =>
        {
            backend.RandomNormal(Z.Slice(0, rows * l), seed, (ulong)start * (ulong)l);
            UploadConditions(conditions, start, rows);
            Decode(rows);
        }, Prediction, Config.Input);
    }

    /// <summary>Posterior means (count, L) of images (count, D) with their labels.</summary>
    public float[] EncodeMeans(ReadOnlySpan<float> images, ReadOnlySpan<int> labels, int count)
    {
        ModelChecks.Images(images, count, Config.Input);
        var conditions = OneHot(labels, count);
        return HostPasses.InChunks(backend, Capacity, count, images, Input, (start, rows) =>
        {
            UploadConditions(conditions, start, rows);
            Encode(rows);
        }, Mu, Config.Latent);
    }

    /// <summary>Decodes latent codes (count, L) under their labels to probabilities (count, D).</summary>
    public float[] DecodeLatents(ReadOnlySpan<float> latents, ReadOnlySpan<int> labels, int count) => DecodeLatents(latents, OneHot(labels, count), count);

    /// <summary>Decodes latent codes (count, L) under condition rows (count, C) (one-hot, or mixtures of them) to probabilities (count, D).</summary>
    public float[] DecodeLatents(ReadOnlySpan<float> latents, float[] conditions, int count)
    {
        ArgumentNullException.ThrowIfNull(conditions);
        ModelChecks.RowsOf(latents, count, Config.Latent, $"latent codes of size {Config.Latent}");
        ModelChecks.RowsOf<float>(conditions, count, Config.Classes, $"condition rows of {Config.Classes} classes");
        return HostPasses.InChunks(backend, Capacity, count, latents, Z, (start, rows) =>
        {
            UploadConditions(conditions, start, rows);
            Decode(rows);
        }, Prediction, Config.Input);
    }

    /// <summary>Reconstructions (count, D) of images (count, D) through the posterior mean, decoded under the images' own labels.</summary>
    public float[] Reconstruct(ReadOnlySpan<float> images, int count, ReadOnlySpan<int> labels = default) =>
        DecodeLatents(EncodeMeans(images, labels, count), labels, count);

    /// <summary>
    /// <paramref name="steps"/> images decoded along the straight line from (posterior mean of a, one-hot label a) to
    /// (posterior mean of b, one-hot label b): the latent code and the condition move together, so the ends are the two
    /// reconstructions and the middle blends the classes.
    /// </summary>
    public float[] Interpolate(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int steps, int labelA = -1, int labelB = -1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 2);
        var pair = HostPasses.Pair(a, b, Config.Input);
        var path = HostPasses.Line(EncodeMeans(pair, [labelA, labelB], 2), Config.Latent, steps);
        var conditions = HostPasses.Line(OneHot([labelA, labelB], 2), Config.Classes, steps);
        return DecodeLatents(path, conditions, steps);
    }

    /// <summary>Rows start .. start+rows-1 of <paramref name="conditions"/> into Condition.</summary>
    void UploadConditions(float[] conditions, int start, int rows)
    {
        int c = Config.Classes;
        backend.Upload<float>(conditions.AsSpan(start * c, rows * c), Condition.Slice(0, rows * c));
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>(count, C) one-hot rows of <paramref name="labels"/>, which must hold one label in [0, C) per row.</summary>
    float[] OneHot(ReadOnlySpan<int> labels, int count)
    {
        int c = Config.Classes;
        if (labels.Length != count)
            throw new ArgumentException(
                $"This conditional VAE needs one class label per image: {count} expected, got {labels.Length}.", nameof(labels));
        var rows = new float[count * c];
        for (int i = 0; i < count; i++)
        {
            if ((uint)labels[i] >= (uint)c)
                throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"Label {labels[i]} (image {i}) is outside the model's {c} classes [0, {c - 1}].");
            rows[i * c + labels[i]] = 1f;
        }
        return rows;
    }

    void CheckRows(int rows) => ModelChecks.Rows(rows, Capacity);

    public void Dispose()
    {
        Parameters.Dispose();
        activationBuffer.Dispose();
    }
}
