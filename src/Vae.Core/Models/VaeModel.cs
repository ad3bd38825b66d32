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
// With K = Config.ImportanceSamples > 1 the training objective is the IWAE bound (Burda et al. 2016) instead: per image
//   L_K = log (1/K) sum_k w_k,   log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x),   z_k = mu + sigma eps_k,
// and its gradient sum_k w~_k grad log w_k, w~ the softmax of the image's K log-weights, through the reparameterization.
// Each image's encoder output is replicated K times (Capacity images -> Capacity * K sample rows, GatherRows with
// repeated indices), every sample is decoded in one batch, and log w is computed per sample in float from loss
// primitives: -recon, log N(z; 0, I) = -GaussianNll(0, 0, z) and log q = -GaussianNll(0, logvar, sigma * eps) (sigma * eps
// directly, not z - mu, as VaeImportanceWeights does; exact while the log-variance clamp is inactive). SoftmaxRows over
// the (images, K) log-weights gives w~ and the log-sum-exp, so the bound per image is log K - logsumexp. Backward weights
// each sample row's reconstruction gradient by w~ / B (ScaleRows), adds the prior's w~ z / B at z, and sums the K
// samples' mu and log-variance gradients per image (ScatterAddRows), with log q's direct -1/2 per log-variance (the w~
// sum to 1). The KL weight of Backward tempers log p(z) - log q(z|x) inside the log-weights (w_k = p(x|z) (p(z)/q)^beta):
// 1 is the IWAE bound, and K = 1 of that would be the one-sample ELBO with a sampled KL; K = 1 instead keeps the code
// path above (analytic KL) bit for bit. The reported losses follow the convention of ITrainableModel: recon and KL are
// averages over the K samples (the KL as log q - log p of each sample), so recon + KL is the K-sample negative ELBO;
// the bound itself is IwaeBoundPerSample / IwaeBoundTotal. Free bits have no meaning here (the KL is inside the log).
//
// Parameter names follow a PyTorch module with attributes enc (ModuleList of Linear), mu, logvar, dec (ModuleList),
// out, so state_dict keys are enc.0.weight, enc.0.bias, ..., mu.weight, logvar.weight, dec.0.weight, ..., out.bias,
// weights (out, in). Internally mu and logvar are one (2L, H) head so they cost one GEMM.
using Vae.Nn;
using Vae.Training;

namespace Vae.Models;

/// <summary>A PyTorch-named tensor of the model: a view into the parameter (or gradient, m, v) buffer.</summary>
public sealed record NamedTensor(string Name, int[] Shape, int Offset, int Length);

public sealed class VaeModel : IGaussianVae, IImportanceSampled
{
    readonly IComputeBackend backend;
    readonly Mlp encoder, decoder;   // enc.i then the heads layer [mu | logvar]; dec.i then the output layer "out"
    readonly DeviceBuffer activationBuffer;
    readonly DeviceSpan<float> biasGradients;   // all bias gradients: one contiguous region, zeroed once per step
    readonly DeviceSpan<float> gradA, gradB, dz, dMu, dLogVar, dHeads, dLogits, klPerDimension;
    readonly List<NamedTensor> namedTensors = [];
    // Importance-weighted training (K > 1 only; empty views otherwise): sample row i * K + k belongs to image i.
    readonly DeviceBuffer? imageIndexBuffer;
    readonly DeviceSpan<int> imageOfSample;               // (Capacity * K) i for sample row i * K + k
    readonly DeviceSpan<float> sampleInput, sampleMu, sampleLogVar, scaledNoise, zeros;   // (Capacity * K, D or L)
    readonly DeviceSpan<float> sampleRecon, sampleKl, samplePrior, samplePosterior;      // (Capacity * K) per-sample terms
    readonly DeviceSpan<float> logWeights, sampleWeights, weightedZ, sampleDMu, sampleDLogVar;
    readonly DeviceSpan<float> logSumExp, logK, meanOfK, iwaeBound, iwaeTotal;

    public VaeModel(IComputeBackend backend, VaeConfig config, int capacity)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        this.backend = backend;
        Config = config;
        Capacity = capacity;
        int d = config.Input, l = config.Latent;
        (encoder, decoder) = GaussianVae.Networks(d, config.Hidden, l, l, d);

        // Weights first, then every bias, so the bias gradients form one region (zeroed once per Backward).
        var layout = new TensorLayout();
        int firstBias = Mlp.AddParameters(layout, encoder, decoder);
        Parameters = new ParameterStore(backend, layout);
        biasGradients = Parameters.Gradients.Slice(firstBias, layout.TotalLength - firstBias);

        // Activations and activation gradients for Capacity rows (images); the sampled side (eps, z, decoder, logits
        // and their gradients) for Capacity * K rows (samples), which is Capacity for the ELBO.
        int k = config.ImportanceSamples;
        if ((long)capacity * k > int.MaxValue / Math.Max(d, 1))
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, $"Capacity {capacity} times {k} importance samples per image is too many sample rows; use a smaller batch.");
        int b = capacity, bs = capacity * k, widest = Math.Max(1, Math.Max(encoder.WidestHidden, decoder.WidestHidden));
        var acts = new TensorLayout();
        var eInput = acts.Add("input", b, d);
        encoder.AddOutputs(acts, b);
        var eMu = acts.Add("mu", b, l);
        var eLogVar = acts.Add("logvar", b, l);
        var eEps = acts.Add("eps", bs, l);
        var eZ = acts.Add("z", bs, l);
        decoder.AddOutputs(acts, bs);
        var ePrediction = acts.Add("prediction", bs, d);
        var eRecon = acts.Add("recon.per_sample", b);
        var eKl = acts.Add("kl.per_sample", b);
        var eTotals = acts.Add("totals", 2);
        var eKlPerDimension = acts.Add("kl.per_dimension", l);
        var eDLogits = acts.Add("d.logits", bs, d);
        var eGradA = acts.Add("d.a", bs, widest);
        var eGradB = acts.Add("d.b", bs, widest);
        var eDz = acts.Add("d.z", bs, l);
        var eDMu = acts.Add("d.mu", b, l);
        var eDLogVar = acts.Add("d.logvar", b, l);
        var eDHeads = acts.Add("d.heads", b, 2 * l);
        // The importance-weighted objective's own buffers, after everything the ELBO uses (K = 1 adds none).
        var iwae = k > 1 ? new TensorEntry[]
        {
            acts.Add("iwae.input", bs, d), acts.Add("iwae.mu", bs, l), acts.Add("iwae.logvar", bs, l),
            acts.Add("iwae.sigma_eps", bs, l), acts.Add("iwae.zeros", bs, l),
            acts.Add("iwae.recon", bs), acts.Add("iwae.kl", bs), acts.Add("iwae.prior", bs), acts.Add("iwae.posterior", bs),
            acts.Add("iwae.log_w", bs), acts.Add("iwae.w", bs), acts.Add("iwae.w_z", bs, l), acts.Add("iwae.d.mu", bs, l), acts.Add("iwae.d.logvar", bs, l),
            acts.Add("iwae.logsumexp", b), acts.Add("iwae.log_k", b), acts.Add("iwae.mean_of_k", k), acts.Add("iwae.bound", b), acts.Add("iwae.total", 1),
        } : null;
        activationBuffer = backend.Allocate((long)acts.TotalLength * sizeof(float));
        var flat = activationBuffer.AsSpan<float>();
        DeviceSpan<float> V(TensorEntry e) => TensorLayout.View(flat, e);
        Input = V(eInput);
        encoder.Bind(Parameters, flat);
        decoder.Bind(Parameters, flat);
        Mu = V(eMu);
        LogVar = V(eLogVar);
        Eps = V(eEps);
        Z = V(eZ);
        Logits = decoder.Output;
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
        namedTensors.AddRange(encoder.NamedTensors("mu", "logvar"));
        namedTensors.AddRange(decoder.NamedTensors());
        if (iwae is null) return;

        (sampleInput, sampleMu, sampleLogVar, scaledNoise, zeros) = (V(iwae[0]), V(iwae[1]), V(iwae[2]), V(iwae[3]), V(iwae[4]));   // zeros stays 0 (never written)
        (sampleRecon, sampleKl, samplePrior, samplePosterior) = (V(iwae[5]), V(iwae[6]), V(iwae[7]), V(iwae[8]));
        (logWeights, sampleWeights, weightedZ, sampleDMu, sampleDLogVar) = (V(iwae[9]), V(iwae[10]), V(iwae[11]), V(iwae[12]), V(iwae[13]));
        (logSumExp, logK, meanOfK, iwaeBound, iwaeTotal) = (V(iwae[14]), V(iwae[15]), V(iwae[16]), V(iwae[17]), V(iwae[18]));
        backend.Fill(logK, MathF.Log(k));
        backend.Fill(meanOfK, 1f / k);
        imageIndexBuffer = backend.Allocate((long)bs * sizeof(int));
        imageOfSample = imageIndexBuffer.AsSpan<int>().Slice(0, bs);
        var index = new int[bs];
        for (int i = 0; i < bs; i++) index[i] = i / k;
        backend.Upload<int>(index, imageOfSample);
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
    public DeviceSpan<float> Eps { get; }          // (Capacity * K, L) standard normal noise, K samples per image
    public DeviceSpan<float> Z { get; }            // (Capacity * K, L)
    public DeviceSpan<float> Logits { get; }       // (Capacity * K, D)
    public DeviceSpan<float> Prediction { get; }   // (Capacity * K, D) sigmoid(logits)
    public DeviceSpan<float> ReconPerSample { get; } // (Capacity) reconstruction nats per row
    public DeviceSpan<float> KlPerSample { get; }    // (Capacity) KL nats per row
    /// <summary>[sum over rows of recon, sum over rows of KL] after <see cref="Forward"/>.</summary>
    public DeviceSpan<float> LossTotals { get; }
    /// <summary>(L) the batch-mean KL of each latent dimension, written by a <see cref="Backward(int, float, float)"/> with free bits.</summary>
    public DeviceSpan<float> KlPerDimension => klPerDimension;

    /// <summary>K, the posterior samples per image of the training objective (1: the ELBO; more: the IWAE bound).</summary>
    public int ImportanceSamples => Config.ImportanceSamples;

    /// <summary>The most rows one <see cref="Decode"/> handles: Capacity * K (the samples of a full batch).</summary>
    public int SampleCapacity => Capacity * Config.ImportanceSamples;

    /// <summary>
    /// (Capacity) each image's IWAE bound in nats, -log (1/K) sum_k w_k, after <see cref="Forward"/> with K &gt; 1 (for a BCE
    /// model the importance-sampled estimate of -log p(x) that `vae eval --nll K` computes; for MSE, in the squared
    /// error's units, i.e. without the (D / 2) log(pi) of the Gaussian density).
    /// </summary>
    public DeviceSpan<float> IwaeBoundPerSample => ImportanceSamples > 1 ? iwaeBound : throw NotImportanceWeighted();

    /// <summary>(1) the sum over the rows of <see cref="IwaeBoundPerSample"/> after <see cref="Forward"/> with K &gt; 1.</summary>
    public DeviceSpan<float> IwaeBoundTotal => ImportanceSamples > 1 ? iwaeTotal : throw NotImportanceWeighted();

    InvalidOperationException NotImportanceWeighted() => new(
        $"This model ({Config}) trains the ELBO with one sample per image: it has no IWAE bound (configure ImportanceSamples > 1, `vae train --iwae K`).");

    // ITrainableModel: an unconditional model whose step consumes K * L noise numbers per row, one latent group "z".
    public int Classes => 0;
    public DeviceSpan<float> Condition => default;
    int IGaussianVae.Latent => Config.Latent;
    ReconstructionLoss IGaussianVae.Reconstruction => Config.Reconstruction;
    public int NoisePerRow => Config.ImportanceSamples * Config.Latent;
    public DeviceSpan<float> Noise => Eps;
    public IReadOnlyList<LatentGroup> LatentGroups { get; private set; } = [];
    public void AfterOptimizerStep(int rows) { }
    public IImportanceWeighted CreateImportanceWeights(int maxSamples = 0) => new VaeImportanceWeights(this, maxSamples);

    /// <summary>
    /// PyTorch's nn.Linear default initialization: weights and biases uniform in +-1/sqrt(fan_in), drawn from a Philox
    /// stream of <paramref name="seed"/> so the same seed gives the same model on every backend and machine.
    /// </summary>
    public void InitializeParameters(ulong seed) => LinearInit.PyTorchDefault(Parameters, encoder.Layers.Concat(decoder.Layers), seed);

    // ------------------------------------------------------------------ forward

    /// <summary>Input (rows, D) -> Mu, LogVar (rows, L).</summary>
    public void Encode(int rows)
    {
        CheckRows(rows);
        int l = Config.Latent;
        backend.Split(encoder.Forward(backend, Input, rows), Mu, LogVar, rows, l, l);
    }

    /// <summary>Z = Mu + exp(LogVar / 2) * Eps for the first rows (log-variance clamped, see <see cref="Reparameterization"/>).</summary>
    public void Reparameterize(int rows)
    {
        CheckRows(rows);
        GaussianVae.Reparameterize(backend, Mu, LogVar, Eps, Z, rows * Config.Latent);
    }

    /// <summary>Z (rows, L) -> Logits (rows, D), and Prediction = sigmoid(Logits) when <paramref name="probabilities"/>; rows up to <see cref="SampleCapacity"/>.</summary>
    public void Decode(int rows, bool probabilities = true)
    {
        if (rows < 1 || rows > SampleCapacity)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"Rows must be in [1, {SampleCapacity}] (the model's sample capacity).");
        decoder.Forward(backend, Z, rows);
        if (probabilities) ReconstructionTerm.Probabilities(backend, Logits, Prediction, rows, Config.Input);
    }

    /// <summary>
    /// The training forward pass on Input and Eps: encode, sample z, decode, and the losses. Writes ReconPerSample,
    /// KlPerSample and LossTotals = [sum recon, sum KL] over the rows (divide by rows for nats per image). With K &gt; 1
    /// importance samples, Eps holds K samples per image and recon and KL are means over them; the bound goes to
    /// <see cref="IwaeBoundPerSample"/> and <see cref="IwaeBoundTotal"/>.
    /// </summary>
    public void Forward(int rows)
    {
        if (ImportanceSamples > 1)
        {
            ForwardImportanceWeighted(rows);
            return;
        }
        GaussianVae.ForwardElbo(this, rows);
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
        ModelChecks.KlArguments(klWeight, freeBits);
        CheckRows(rows);
        if (ImportanceSamples > 1)
        {
            if (freeBits > 0f)
                throw new ArgumentOutOfRangeException(nameof(freeBits), freeBits,
                    "Free bits floor each latent dimension's batch-mean KL, a term the IWAE objective does not have (its KL is inside the log-weights): train it with free bits 0.");
            BackwardImportanceWeighted(rows, klWeight);
            return;
        }
        backend.Fill(biasGradients, 0f);
        ReconstructionBackward(Input, rows, 1f / rows);
        DecoderBackward(rows);
        // Reparameterization and KL -> dHeads (rows, 2L) = [dMu | dLogVar].
        GaussianVae.LatentBackward(backend, Mu, LogVar, Eps, dz, dMu, dLogVar, dHeads, klPerDimension, rows, Config.Latent, klWeight, freeBits);
        EncoderBackward(rows);
    }

    /// <summary>The reconstruction term's gradient -> dLogits (rows, D), for targets (rows, D), times <paramref name="scale"/>.</summary>
    void ReconstructionBackward(DeviceSpan<float> targets, int rows, float scale) =>
        ReconstructionTerm.Backward(backend, Config.Reconstruction, Logits, Prediction, targets, dLogits, rows, Config.Input, scale);

    /// <summary>The decoder, top down from dLogits (rows, D): out, then dec.(n-1) .. dec.0; dz receives the input gradient.</summary>
    void DecoderBackward(int rows) => decoder.Backward(backend, Z, dLogits, dz, gradA, gradB, rows);

    /// <summary>The heads and the encoder, top down from dHeads (rows, 2L); the input needs no gradient.</summary>
    void EncoderBackward(int rows) => encoder.Backward(backend, Input, dHeads, default, gradA, gradB, rows);

    // ------------------------------------------------------------------ importance-weighted objective (K > 1)

    /// <summary>
    /// Forward with K samples per image: Eps row i * K + k is sample k of image i. Writes the per-sample terms and
    /// normalized weights, the per-image means of recon and KL (ReconPerSample, KlPerSample, LossTotals) and the bound.
    /// </summary>
    void ForwardImportanceWeighted(int rows)
    {
        Encode(rows);
        int k = ImportanceSamples, d = Config.Input, l = Config.Latent, samples = rows * k, sl = samples * l;
        // Each image's posterior and pixels, once per sample; z = mu + sigma eps and sigma eps itself (for log q).
        var index = imageOfSample.Slice(0, samples);
        backend.GatherRows(Mu, index, sampleMu, rows, samples, l);
        backend.GatherRows(LogVar, index, sampleLogVar, rows, samples, l);
        backend.GatherRows(Input, index, sampleInput, rows, samples, d);
        var lv = sampleLogVar.Slice(0, sl);
        var zero = zeros.Slice(0, sl);
        GaussianVae.SampleWithOffset(backend, sampleMu, lv, Eps, zero, Z, scaledNoise, sl);

        // Per sample: recon = -log p(x|z) (up to MSE's constant), prior = -log N(z; 0, I), posterior = -log q(z|x), KL = log q - log p.
        Decode(samples, probabilities: Config.Reconstruction == ReconstructionLoss.Mse);
        ReconstructionTerm.Forward(backend, Config.Reconstruction, Logits, Prediction, sampleInput, sampleRecon, default, samples, d);
        backend.GaussianNllForward(zero, zero, Z, samplePrior, default, samples, l);
        backend.GaussianNllForward(zero, lv, scaledNoise, samplePosterior, default, samples, l);
        var kl = sampleKl.Slice(0, samples);
        backend.Copy(samplePrior.Slice(0, samples), kl);
        backend.Axpy(-1f, samplePosterior.Slice(0, samples), kl);

        // log w = -(recon + KL); per image, logsumexp over its K samples and the bound log K - logsumexp.
        LogWeights(samples, 1f);
        backend.SoftmaxRows(logWeights, sampleWeights, logSumExp, rows, k);
        var bound = iwaeBound.Slice(0, rows);
        backend.Copy(logK.Slice(0, rows), bound);
        backend.Axpy(-1f, logSumExp.Slice(0, rows), bound);
        backend.Sum(bound, iwaeTotal);

        // The reported losses: means over each image's K samples (a (rows, K) matrix times the column 1/K), and their sums.
        backend.Gemm(false, false, rows, 1, k, 1f, sampleRecon, meanOfK, 0f, ReconPerSample);
        backend.Gemm(false, false, rows, 1, k, 1f, sampleKl, meanOfK, 0f, KlPerSample);
        backend.Sum(ReconPerSample.Slice(0, rows), LossTotals.Slice(0, 1));
        backend.Sum(KlPerSample.Slice(0, rows), LossTotals.Slice(1, 1));
    }

    /// <summary>logWeights (samples) = -(recon + klWeight * KL) of each sample, from the terms Forward wrote.</summary>
    void LogWeights(int samples, float klWeight)
    {
        var lw = logWeights.Slice(0, samples);
        backend.Copy(sampleRecon.Slice(0, samples), lw);
        backend.Axpy(klWeight, sampleKl.Slice(0, samples), lw);
        backend.Scale(lw, -1f);
    }

    /// <summary>
    /// The gradient of -(1 / rows) sum over images of log sum_k exp(log w_k), log w_k = -(recon_k + klWeight KL_k):
    /// sum_k w~_k grad(recon_k + klWeight KL_k) / rows, w~ the softmax of each image's log-weights.
    /// </summary>
    void BackwardImportanceWeighted(int rows, float klWeight)
    {
        int k = ImportanceSamples, l = Config.Latent, samples = rows * k, sl = samples * l, nl = rows * l;
        float scale = 1f / rows;
        backend.Fill(biasGradients, 0f);
        LogWeights(samples, klWeight);
        backend.SoftmaxRows(logWeights, sampleWeights, default, rows, k);

        // Reconstruction: every sample row's gradient times its weight, through the decoder in one batch -> dz.
        ReconstructionBackward(sampleInput, samples, scale);
        backend.ScaleRows(dLogits, sampleWeights, dLogits, samples, Config.Input);
        DecoderBackward(samples);

        // The prior: klWeight * (-log N(z; 0, I)) = klWeight |z|^2 / 2 + const adds klWeight w~ z / rows at z.
        var dzs = dz.Slice(0, sl);
        if (klWeight != 0f)
        {
            backend.ScaleRows(Z, sampleWeights, weightedZ, samples, l);
            backend.Axpy(klWeight * scale, weightedZ.Slice(0, sl), dzs);
        }

        // z = mu + sigma eps -> each sample's dMu, dLogVar, summed over the image's K samples on top of the posterior's
        // direct term: -klWeight * (-log q) = -klWeight (lv + eps^2) / 2 + const per dimension, so -klWeight / 2 * sum_k w~ / rows.
        backend.ReparameterizeBackward(sampleLogVar.Slice(0, sl), Eps.Slice(0, sl), dzs, sampleDMu.Slice(0, sl), sampleDLogVar.Slice(0, sl),
            Reparameterization.MinLogVar, Reparameterization.MaxLogVar);
        backend.Fill(dMu.Slice(0, nl), 0f);
        backend.Fill(dLogVar.Slice(0, nl), -0.5f * klWeight * scale);
        var index = imageOfSample.Slice(0, samples);
        backend.ScatterAddRows(sampleDMu, index, dMu, rows, samples, l);
        backend.ScatterAddRows(sampleDLogVar, index, dLogVar, rows, samples, l);
        backend.Concat(dMu, dLogVar, dHeads, rows, l, l);
        EncoderBackward(rows);
    }

    // ------------------------------------------------------------------ host-side conveniences (allocate; not for hot loops)

    /// <summary>Decodes <paramref name="count"/> draws of z ~ N(0, I) from stream <paramref name="seed"/>; returns (count, D) probabilities.</summary>
    public float[] Sample(int count, ulong seed, ReadOnlySpan<int> labels = default)
    {
        NoLabels(labels.Length);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int l = Config.Latent;
        return HostPasses.InChunks(backend, Capacity, count, (start, rows) =>
        {
            backend.RandomNormal(Z.Slice(0, rows * l), seed, (ulong)start * (ulong)l);
            Decode(rows);
        }, Prediction, Config.Input);
    }

    /// <summary>Posterior means (count, L) of images (count, D).</summary>
    public float[] EncodeMeans(ReadOnlySpan<float> images, int count)
    {
        ModelChecks.Images(images, count, Config.Input);
        return HostPasses.InChunks(backend, Capacity, count, images, Input, (_, rows) => Encode(rows), Mu, Config.Latent);
    }

    /// <summary>Decodes latent codes (count, L) to probabilities (count, D).</summary>
    public float[] DecodeLatents(ReadOnlySpan<float> latents, int count)
    {
        ModelChecks.RowsOf(latents, count, Config.Latent, $"latent codes of size {Config.Latent}");
        return HostPasses.InChunks(backend, Capacity, count, latents, Z, (_, rows) => Decode(rows), Prediction, Config.Input);
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
        return HostPasses.Interpolate(a, b, steps, Config.Input, Config.Latent, pair => EncodeMeans(pair, 2), (path, n) => DecodeLatents(path, n));
    }

    // ------------------------------------------------------------------ helpers

    void CheckRows(int rows) => ModelChecks.Rows(rows, Capacity);

    static void NoLabels(int given) => ModelChecks.NoLabels(given, "This VAE");

    public void Dispose()
    {
        Parameters.Dispose();
        activationBuffer.Dispose();
        imageIndexBuffer?.Dispose();
    }
}
