// The seed VAE: MLP encoder (ReLU hidden layers) -> mu and log-variance heads -> reparameterization -> MLP decoder
// (ReLU hidden layers) -> logits, with sigmoid probabilities for pictures. Every tensor lives in a few preallocated
// buffers: parameters, gradients and Adam moments in one ParameterStore, activations for up to Capacity rows in one
// more buffer, so a training step allocates nothing.
//
// Shapes (B = rows <= Capacity, D = input, H_i = hidden sizes, L = latent):
//   input (B, D) -> enc.i: h_i (B, H_i), ReLU in place -> heads (B, 2L) = [mu | logvar] -> mu, logvar (B, L)
//   z (B, L) = mu + exp(logvar / 2) * eps -> dec.i: (B, H_{n-1-i}), ReLU -> logits (B, D) -> prediction = sigmoid(logits)
// Loss, per image in nats: recon (BCE from logits, or squared error of sigmoid(logits)) summed over the D pixels,
// plus beta * KL(q(z|x) || N(0, I)) summed over the L latents; the training objective is their mean over the batch.
// With free bits (Kingma et al. 2016) the KL part of the objective is sum over the L latents of max(lambda, KL_j), KL_j the
// batch-mean KL of latent j: its gradient skips the latents at or below the floor (KlFreeBitsBackward); the reported
// losses stay the plain ELBO.
//
// Parameter names follow a PyTorch module with attributes enc (ModuleList of Linear), mu, logvar, dec (ModuleList),
// out, so state_dict keys are enc.0.weight, enc.0.bias, ..., mu.weight, logvar.weight, dec.0.weight, ..., out.bias,
// weights (out, in). Internally mu and logvar are one (2L, H) head so they cost one GEMM.
using Vae.Nn;
using Vae.Training;

namespace Vae.Models;

/// <summary>A PyTorch-named tensor of the model: a view into the parameter (or gradient, m, v) buffer.</summary>
public sealed record NamedTensor(string Name, int[] Shape, int Offset, int Length);

public sealed class VaeModel : ITrainableModel, IImportanceSampled
{
    readonly IComputeBackend backend;
    readonly ReluMlp encoder, decoder;
    readonly Linear heads, output;
    readonly DeviceBuffer activationBuffer;
    readonly DeviceSpan<float> biasGradients;   // all bias gradients: one contiguous region, zeroed once per step
    readonly DeviceSpan<float> headsOut, gradA, gradB, dz, dMu, dLogVar, dHeads, dLogits, klPerDimension;
    readonly List<NamedTensor> namedTensors = [];

    public VaeModel(IComputeBackend backend, VaeConfig config, int capacity)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        this.backend = backend;
        Config = config;
        Capacity = capacity;
        int d = config.Input, l = config.Latent;
        int[] encSizes = [d, .. config.Hidden];                    // enc.i maps encSizes[i] -> encSizes[i + 1]
        int[] decSizes = [l, .. config.Hidden.Reverse()];          // dec.i maps decSizes[i] -> decSizes[i + 1]
        int top = encSizes[^1];

        // Weights first, then every bias, so the bias gradients form one region (zeroed once per Backward).
        var layout = new TensorLayout();
        int firstBias = GaussianVae.DeclareParameters(layout, encSizes, decSizes, l, d);
        Parameters = new ParameterStore(backend, layout);
        biasGradients = Parameters.Gradients.Slice(firstBias, layout.TotalLength - firstBias);

        Linear Layer(string name, int inF, int outF) => new(inF, outF,
            Parameters.Parameter(name + ".weight"), Parameters.Parameter(name + ".bias"),
            Parameters.Gradient(name + ".weight"), Parameters.Gradient(name + ".bias"));
        heads = Layer("heads", top, 2 * l);
        output = Layer("out", decSizes[^1], d);

        // Activations and activation gradients for Capacity rows.
        int b = capacity, widest = Math.Max(top, config.Hidden.Length > 0 ? config.Hidden.Max() : 0);
        widest = Math.Max(widest, 2 * l);
        var acts = new TensorLayout();
        var eInput = acts.Add("input", b, d);
        ReluMlp.AddOutputs(acts, "enc", encSizes, b);
        var eHeads = acts.Add("heads", b, 2 * l);
        var eMu = acts.Add("mu", b, l);
        var eLogVar = acts.Add("logvar", b, l);
        var eEps = acts.Add("eps", b, l);
        var eZ = acts.Add("z", b, l);
        ReluMlp.AddOutputs(acts, "dec", decSizes, b);
        var eLogits = acts.Add("logits", b, d);
        var ePrediction = acts.Add("prediction", b, d);
        var eRecon = acts.Add("recon.per_sample", b);
        var eKl = acts.Add("kl.per_sample", b);
        var eTotals = acts.Add("totals", 2);
        var eKlPerDimension = acts.Add("kl.per_dimension", l);
        var eDLogits = acts.Add("d.logits", b, d);
        var eGradA = acts.Add("d.a", b, widest);
        var eGradB = acts.Add("d.b", b, widest);
        var eDz = acts.Add("d.z", b, l);
        var eDMu = acts.Add("d.mu", b, l);
        var eDLogVar = acts.Add("d.logvar", b, l);
        var eDHeads = acts.Add("d.heads", b, 2 * l);
        activationBuffer = backend.Allocate((long)acts.TotalLength * sizeof(float));
        var flat = activationBuffer.AsSpan<float>();
        DeviceSpan<float> V(TensorEntry e) => TensorLayout.View(flat, e);
        Input = V(eInput);
        encoder = new ReluMlp("enc", encSizes, Parameters, acts, flat);
        decoder = new ReluMlp("dec", decSizes, Parameters, acts, flat);
        headsOut = V(eHeads);
        Mu = V(eMu);
        LogVar = V(eLogVar);
        Eps = V(eEps);
        Z = V(eZ);
        Logits = V(eLogits);
        Prediction = V(ePrediction);
        ReconPerSample = V(eRecon);
        KlPerSample = V(eKl);
        LossTotals = V(eTotals);
        klPerDimension = V(eKlPerDimension);
        dLogits = V(eDLogits);
        gradA = V(eGradA);
        gradB = V(eGradB);
        dz = V(eDz);
        dMu = V(eDMu);
        dLogVar = V(eDLogVar);
        dHeads = V(eDHeads);
        LatentGroups = [new LatentGroup("z", l, Mu, LossTotals.Slice(1, 1))];

        // PyTorch state_dict names, in its order; mu and logvar are the two halves of the heads layer.
        encoder.AddNamedTensors(namedTensors);
        GaussianVae.AddNamedHeads(namedTensors, layout, "heads", l, top);
        decoder.AddNamedTensors(namedTensors);
        ReluMlp.AddNamedLinear(namedTensors, layout, "out");
    }

    public VaeConfig Config { get; }
    IModelConfig ITrainableModel.Config => Config;
    /// <summary>The most rows one call handles (the batch size the buffers were carved for).</summary>
    public int Capacity { get; }
    public IComputeBackend Backend => backend;
    public ParameterStore Parameters { get; }
    /// <summary>The PyTorch state_dict view of the parameters (names, shapes, offsets into the flat buffers).</summary>
    public IReadOnlyList<NamedTensor> NamedTensors => namedTensors;
    public long ParameterCount => Parameters.Layout.ElementCount;

    public DeviceSpan<float> Input { get; }        // (Capacity, D) pixels in [0, 1]
    public DeviceSpan<float> Mu { get; }           // (Capacity, L)
    public DeviceSpan<float> LogVar { get; }       // (Capacity, L)
    public DeviceSpan<float> Eps { get; }          // (Capacity, L) standard normal noise
    public DeviceSpan<float> Z { get; }            // (Capacity, L)
    public DeviceSpan<float> Logits { get; }       // (Capacity, D)
    public DeviceSpan<float> Prediction { get; }   // (Capacity, D) sigmoid(logits)
    public DeviceSpan<float> ReconPerSample { get; } // (Capacity) reconstruction nats per row
    public DeviceSpan<float> KlPerSample { get; }    // (Capacity) KL nats per row
    /// <summary>[sum over rows of recon, sum over rows of KL] after <see cref="Forward"/>.</summary>
    public DeviceSpan<float> LossTotals { get; }
    /// <summary>(L) the batch-mean KL of each latent dimension, written by a <see cref="Backward(int, float, float)"/> with free bits.</summary>
    public DeviceSpan<float> KlPerDimension => klPerDimension;

    // ITrainableModel: an unconditional model whose step consumes L noise numbers per row, one latent group "z".
    public int Classes => 0;
    public DeviceSpan<float> Condition => default;
    public int NoisePerRow => Config.Latent;
    public DeviceSpan<float> Noise => Eps;
    public IReadOnlyList<LatentGroup> LatentGroups { get; private set; } = [];
    public void AfterOptimizerStep(int rows) { }
    public IImportanceWeighted CreateImportanceWeights(int maxSamples = 0) => new VaeImportanceWeights(this, maxSamples);

    /// <summary>
    /// PyTorch's nn.Linear default initialization: weights and biases uniform in +-1/sqrt(fan_in), drawn from a Philox
    /// stream of <paramref name="seed"/> so the same seed gives the same model on every backend and machine.
    /// </summary>
    public void InitializeParameters(ulong seed) => LinearInit.PyTorchDefault(Parameters, AllLayers(), seed);

    IEnumerable<Linear> AllLayers()
    {
        foreach (var l in encoder.Layers) yield return l;
        yield return heads;
        foreach (var l in decoder.Layers) yield return l;
        yield return output;
    }

    // ------------------------------------------------------------------ forward

    /// <summary>Input (rows, D) -> Mu, LogVar (rows, L).</summary>
    public void Encode(int rows)
    {
        CheckRows(rows);
        int l = Config.Latent;
        heads.Forward(backend, encoder.Forward(backend, Input, rows), headsOut, rows);
        backend.Split(headsOut, Mu, LogVar, rows, l, l);
    }

    /// <summary>Z = Mu + exp(LogVar / 2) * Eps for the first rows (log-variance clamped, see <see cref="Reparameterization"/>).</summary>
    public void Reparameterize(int rows)
    {
        CheckRows(rows);
        int n = rows * Config.Latent;
        backend.ReparameterizeForward(Mu.Slice(0, n), LogVar.Slice(0, n), Eps.Slice(0, n), Z.Slice(0, n), Reparameterization.MinLogVar, Reparameterization.MaxLogVar);
    }

    /// <summary>Z (rows, L) -> Logits (rows, D), and Prediction = sigmoid(Logits) when <paramref name="probabilities"/>.</summary>
    public void Decode(int rows, bool probabilities = true)
    {
        CheckRows(rows);
        output.Forward(backend, decoder.Forward(backend, Z, rows), Logits, rows);
        if (probabilities)
        {
            int n = rows * Config.Input;
            backend.ActivationForward(Activation.Sigmoid, Logits.Slice(0, n), Prediction.Slice(0, n));
        }
    }

    /// <summary>
    /// The training forward pass on Input and Eps: encode, sample z, decode, and the losses. Writes ReconPerSample,
    /// KlPerSample and LossTotals = [sum recon, sum KL] over the rows (divide by rows for nats per image).
    /// </summary>
    public void Forward(int rows)
    {
        Encode(rows);
        Reparameterize(rows);
        Decode(rows, probabilities: Config.Reconstruction == ReconstructionLoss.Mse);
        GaussianVae.ReconstructionForward(backend, Config.Reconstruction, Logits, Prediction, Input, ReconPerSample, LossTotals.Slice(0, 1), rows, Config.Input);
        backend.KlStandardNormalForward(Mu, LogVar, KlPerSample, LossTotals.Slice(1, 1), rows, Config.Latent);
    }

    // ------------------------------------------------------------------ backward

    /// <summary>
    /// Gradients of the batch-mean loss (recon + beta * KL) / rows after <see cref="Forward"/>. The gradient buffer
    /// receives exactly this batch's gradient: weight gradients are assigned by their GEMMs and the bias region is
    /// zeroed once, so no separate ZeroGradients pass is needed.
    /// </summary>
    public void Backward(int rows) => Backward(rows, Config.Beta);

    /// <summary>As <see cref="Backward(int)"/> with the KL term weighted by <paramref name="klWeight"/> instead of the
    /// config's beta (KL annealing schedules; negative for capacity annealing below its target, which pushes the KL up).</summary>
    public void Backward(int rows, float klWeight) => Backward(rows, klWeight, 0f);

    /// <summary>
    /// As <see cref="Backward(int, float)"/>, with free bits when <paramref name="freeBits"/> &gt; 0: the KL part of the objective
    /// is klWeight * sum over latents j of max(freeBits, KL_j), KL_j the batch-mean KL of latent j (nats), so the latents
    /// at or below the floor get no KL gradient. Writes <see cref="KlPerDimension"/>. freeBits = 0 is the plain KL.
    /// </summary>
    public void Backward(int rows, float klWeight, float freeBits)
    {
        GaussianVae.CheckKlArguments(klWeight, freeBits);
        CheckRows(rows);
        backend.Fill(biasGradients, 0f);

        // Reconstruction term -> dLogits (rows, D).
        GaussianVae.ReconstructionBackward(backend, Config.Reconstruction, Logits, Prediction, Input, dLogits, rows, Config.Input, 1f / rows);

        // Decoder, top down: out, then dec.(n-1) .. dec.0; dz receives the input gradient of dec.0 (or of out).
        output.Backward(backend, decoder.Top(Z), dLogits, decoder.Layers.Count > 0 ? gradA : dz, rows);
        decoder.Backward(backend, Z, gradA, gradB, dz, rows);

        // Reparameterization and KL -> dHeads (rows, 2L) = [dMu | dLogVar].
        GaussianVae.LatentBackward(backend, Mu, LogVar, Eps, dz, dMu, dLogVar, dHeads, klPerDimension, rows, Config.Latent, klWeight, freeBits);

        // Encoder, top down; the input needs no gradient.
        heads.Backward(backend, encoder.Top(Input), dHeads, encoder.Layers.Count > 0 ? gradA : default, rows);
        encoder.Backward(backend, Input, gradA, gradB, default, rows);
    }

    // ------------------------------------------------------------------ host-side conveniences (allocate; not for hot loops)

    /// <summary>Decodes <paramref name="count"/> draws of z ~ N(0, I) from stream <paramref name="seed"/>; returns (count, D) probabilities.</summary>
    public float[] Sample(int count, ulong seed, ReadOnlySpan<int> labels = default)
    {
        NoLabels(labels.Length);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var result = new float[count * Config.Input];
        for (int start = 0; start < count; start += Capacity)
        {
            int rows = Math.Min(Capacity, count - start);
            backend.RandomNormal(Z.Slice(0, rows * Config.Latent), seed, (ulong)start * (ulong)Config.Latent);
            Decode(rows);
            backend.Download<float>(Prediction.Slice(0, rows * Config.Input), result.AsSpan(start * Config.Input, rows * Config.Input));
        }
        return result;
    }

    /// <summary>Posterior means (count, L) of images (count, D).</summary>
    public float[] EncodeMeans(ReadOnlySpan<float> images, int count)
    {
        CheckImages(images, count);
        var result = new float[count * Config.Latent];
        for (int start = 0; start < count; start += Capacity)
        {
            int rows = Math.Min(Capacity, count - start);
            backend.Upload(images.Slice(start * Config.Input, rows * Config.Input), Input.Slice(0, rows * Config.Input));
            Encode(rows);
            backend.Download<float>(Mu.Slice(0, rows * Config.Latent), result.AsSpan(start * Config.Latent, rows * Config.Latent));
        }
        return result;
    }

    /// <summary>Decodes latent codes (count, L) to probabilities (count, D).</summary>
    public float[] DecodeLatents(ReadOnlySpan<float> latents, int count)
    {
        if (count < 0 || latents.Length != count * Config.Latent)
            throw new ArgumentException($"Expected {count} latent codes of size {Config.Latent} ({count * Config.Latent} floats), got {latents.Length}.", nameof(latents));
        var result = new float[count * Config.Input];
        for (int start = 0; start < count; start += Capacity)
        {
            int rows = Math.Min(Capacity, count - start);
            backend.Upload(latents.Slice(start * Config.Latent, rows * Config.Latent), Z.Slice(0, rows * Config.Latent));
            Decode(rows);
            backend.Download<float>(Prediction.Slice(0, rows * Config.Input), result.AsSpan(start * Config.Input, rows * Config.Input));
        }
        return result;
    }

    /// <summary>Reconstructions (count, D) of images (count, D) through the posterior mean (no sampling).</summary>
    public float[] Reconstruct(ReadOnlySpan<float> images, int count, ReadOnlySpan<int> labels = default)
    {
        NoLabels(labels.Length);
        return DecodeLatents(EncodeMeans(images, count), count);
    }

    /// <summary>
    /// <paramref name="steps"/> images decoded along the straight line between the posterior means of images a and b
    /// (both ends included).
    /// </summary>
    public float[] Interpolate(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int steps, int labelA = -1, int labelB = -1)
    {
        NoLabels(labelA >= 0 || labelB >= 0 ? 1 : 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 2);
        CheckImages(a, 1);
        CheckImages(b, 1);
        var pair = new float[2 * Config.Input];
        a.CopyTo(pair);
        b.CopyTo(pair.AsSpan(Config.Input));
        var mu = EncodeMeans(pair, 2);
        int l = Config.Latent;
        var path = new float[steps * l];
        for (int s = 0; s < steps; s++)
        {
            float t = s / (float)(steps - 1);
            for (int j = 0; j < l; j++) path[s * l + j] = (1 - t) * mu[j] + t * mu[l + j];
        }
        return DecodeLatents(path, steps);
    }

    // ------------------------------------------------------------------ helpers

    void CheckRows(int rows)
    {
        if (rows < 1 || rows > Capacity) throw new ArgumentOutOfRangeException(nameof(rows), rows, $"Rows must be in [1, {Capacity}] (the model's batch capacity).");
    }

    void CheckImages(ReadOnlySpan<float> images, int count)
    {
        if (count < 0 || images.Length != count * Config.Input)
            throw new ArgumentException($"Expected {count} images of {Config.Input} pixels ({count * Config.Input} floats), got {images.Length}. Is the data the size the model was trained on?", nameof(images));
    }

    static void NoLabels(int given)
    {
        if (given > 0) throw new ArgumentException("This VAE is unconditional: it takes no class labels (train --model cvae for a conditional model).");
    }

    public void Dispose()
    {
        Parameters.Dispose();
        activationBuffer.Dispose();
    }
}
