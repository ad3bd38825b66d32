// The hierarchical VAE with two stochastic layers (the two-layer model of Burda et al.'s IWAE paper, with MLPs):
//   generative  p(z2) = N(0, I);  p(z1 | z2) = N(muP(z2), diag exp(lvP(z2)));  p(x | z1) = Bernoulli(sigmoid(logits(z1)))
//   inference   q(z1 | x) = N(mu1(x), diag exp(lv1(x)));  q(z2 | z1) = N(mu2(z1), diag exp(lv2(z1))), fed the sampled z1
// Four MLPs (Nn/Mlp, ReLU hidden layers), each ending in a linear layer; the Gaussian ones end in one [mu | logvar] head:
//   q1    x (B, D)   -> enc1.i (B, H_i) -> heads1 (B, 2 L1) = [mu1 | lv1]
//   q2    z1 (B, L1) -> enc2.i (B, G_i) -> heads2 (B, 2 L2) = [mu2 | lv2]
//   prior z2 (B, L2) -> prior.i (B, G_{m-1-i}) -> prior_heads (B, 2 L1) = [muP | lvP]
//   dec   z1 (B, L1) -> dec.i (B, H_{n-1-i}) -> out (B, D) = logits
// A step reads L1 + L2 standard normal numbers per row, [eps1 | eps2]: z1 = mu1 + exp(lv1 / 2) eps1, then
// z2 = mu2(z1) + exp(lv2 / 2) eps2 (log-variances clamped in the reparameterization only, as in VaeModel).
//
// Loss per image in nats: recon (BCE from logits, or squared error of sigmoid(logits)) + beta * (KL1 + KL2) with
//   KL1 = KL(q(z1 | x) || p(z1 | z2)) between two diagonal Gaussians, analytic given the sampled z2 (KlGaussianForward);
//   KL2 = KL(q(z2 | z1) || N(0, I)), analytic given the sampled z1.
// Their sum is a one-sample estimate of the negative ELBO E_q[log q(z1|x) q(z2|z1) - log p(x|z1) p(z1|z2) p(z2)]: the
// analytic KLs integrate out z1's noise in the first term and z2's in the second. Gradients reach q(z1 | x) through
// KL1, the decoder and z1 (reparameterized, via both the decoder and q(z2 | z1)); p(z1 | z2) through KL1; q(z2 | z1)
// through KL2 and through z2 into KL1's prior.
//
// Free bits (Kingma et al. 2016) floor each layer's dimensions separately: the KL part of the objective becomes
// sum_c max(lambda, KL1_c) + sum_c max(lambda, KL2_c), KL_c the batch-mean KL of dimension c. For z2 (against N(0, I))
// that is the KlFreeBitsBackward primitive. For z1 (between two Gaussians) it is composed from existing primitives:
// KlGaussianForward with one column per row gives every element's KL, a GEMM with a ones row averages them over the
// batch (KL1_c), and the four KL1 gradients (computed into zeroed buffers) are masked by a ReLU backward whose
// "input" is KL1_c - lambda broadcast over the rows, so only dimensions above the floor pass gradient (the same
// strict test KlFreeBitsBackward makes). No new primitive: the masking costs a few (B, L1) passes in the free-bits
// path only.
//
// Latent groups for the evaluation: "z1" (means mu1(x)) and "z2" (means mu2(mu1(x)): q(z2 | z1) at z1's posterior
// mean, a deterministic function of x, computed by an extra pass of the small q2 network in Forward), each with its
// own KL total, so `vae eval` reports KL and active units per layer.
//
// State-dict names (PyTorch twin HVAE in benchmarks/pytorch/vae_model.py): enc1.i, mu1, logvar1, enc2.i, mu2, logvar2,
// prior.i, prior_mu, prior_logvar, dec.i, out; weights (out, in). Internally each [mu | logvar] pair is one head.
using Vae.Nn;
using Vae.Training;

namespace Vae.Models;

public sealed class HvaeModel : ITrainableModel, IImportanceSampled
{
    readonly IComputeBackend backend;
    readonly Mlp q1, q2, prior, decoder;
    readonly DeviceBuffer activationBuffer;
    readonly DeviceSpan<float> biasGradients;   // every bias gradient of the four networks: one region, zeroed once per step
    readonly List<NamedTensor> namedTensors = [];
    readonly DeviceSpan<float> groupTotals, kl1PerSample, kl2PerSample, ones, klElements, freeBitsMask;
    readonly DeviceSpan<float> dLogits, gradA, gradB, dz1, dz1FromTop, dz2, dMu1, dLogVar1, dHeads1, dMu2, dLogVar2, dHeads2;
    readonly DeviceSpan<float> kl1Gradients, dMu1Kl, dLogVar1Kl, dPriorMu, dPriorLogVar, dPriorHeads;

    public HvaeModel(IComputeBackend backend, HvaeConfig config, int capacity)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        this.backend = backend;
        Config = config;
        Capacity = capacity;
        int d = config.Input, l1 = config.Latent1, l2 = config.Latent2, b = capacity;
        q1 = Mlp.Stack("enc1", d, config.Hidden, "heads1", 2 * l1);
        q2 = Mlp.Stack("enc2", l1, config.Hidden2, "heads2", 2 * l2);
        prior = Mlp.Stack("prior", l2, config.Hidden2.Reverse().ToArray(), "prior_heads", 2 * l1);
        decoder = Mlp.Stack("dec", l1, config.Hidden.Reverse().ToArray(), "out", d);
        Mlp[] networks = [q1, q2, prior, decoder];

        // Weights of all four networks first, then every bias, so the bias gradients form one region.
        var layout = new TensorLayout();
        int firstBias = Mlp.AddParameters(layout, networks);
        Parameters = new ParameterStore(backend, layout);
        biasGradients = Parameters.Gradients.Slice(firstBias, layout.TotalLength - firstBias);

        // Activations and activation gradients for Capacity rows.
        int widest = Math.Max(1, networks.Max(n => n.WidestHidden));
        var acts = new TensorLayout();
        var eInput = acts.Add("input", b, d);
        var eNoise = acts.Add("noise", b, l1 + l2);
        q1.AddOutputs(acts, b);
        var eMu1 = acts.Add("mu1", b, l1);
        var eLogVar1 = acts.Add("logvar1", b, l1);
        var eEps1 = acts.Add("eps1", b, l1);
        var eZ1 = acts.Add("z1", b, l1);
        q2.AddOutputs(acts, b);
        var eZ2Means = acts.Add("z2.means", b, l2);
        var eMu2 = acts.Add("mu2", b, l2);
        var eLogVar2 = acts.Add("logvar2", b, l2);
        var eEps2 = acts.Add("eps2", b, l2);
        var eZ2 = acts.Add("z2", b, l2);
        prior.AddOutputs(acts, b);
        var ePriorMu = acts.Add("prior_mu", b, l1);
        var ePriorLogVar = acts.Add("prior_logvar", b, l1);
        decoder.AddOutputs(acts, b);
        var ePrediction = acts.Add("prediction", b, d);
        var eRecon = acts.Add("recon.per_sample", b);
        var eKl = acts.Add("kl.per_sample", b);
        var eKl1 = acts.Add("kl1.per_sample", b);
        var eKl2 = acts.Add("kl2.per_sample", b);
        var eTotals = acts.Add("totals", 2);
        var eGroupTotals = acts.Add("group_totals", 2);
        var eKlPerDimension = acts.Add("kl.per_dimension", l1 + l2);
        var eOnes = acts.Add("ones", b);
        var eKlElements = acts.Add("kl1.elements", b, l1);
        var eMask = acts.Add("kl1.free_bits_mask", b, l1);
        var eDLogits = acts.Add("d.logits", b, d);
        var eGradA = acts.Add("d.a", b, widest);
        var eGradB = acts.Add("d.b", b, widest);
        var eDz1 = acts.Add("d.z1", b, l1);
        var eDz1Top = acts.Add("d.z1.from_q2", b, l1);
        var eDz2 = acts.Add("d.z2", b, l2);
        var eDMu1 = acts.Add("d.mu1", b, l1);
        var eDLogVar1 = acts.Add("d.logvar1", b, l1);
        var eDHeads1 = acts.Add("d.heads1", b, 2 * l1);
        var eDMu2 = acts.Add("d.mu2", b, l2);
        var eDLogVar2 = acts.Add("d.logvar2", b, l2);
        var eDHeads2 = acts.Add("d.heads2", b, 2 * l2);
        var eKl1Gradients = acts.Add("d.kl1", 4, b, l1);   // [dMu1 | dLogVar1 | dPriorMu | dPriorLogVar] of KL1 alone
        var eDPriorHeads = acts.Add("d.prior_heads", b, 2 * l1);
        activationBuffer = backend.Allocate((long)acts.TotalLength * sizeof(float));
        var flat = activationBuffer.AsSpan<float>();
        DeviceSpan<float> V(TensorEntry e) => TensorLayout.View(flat, e);
        foreach (var net in networks) net.Bind(Parameters, flat);
        Input = V(eInput);
        Noise = V(eNoise);
        Mu1 = V(eMu1);
        LogVar1 = V(eLogVar1);
        Eps1 = V(eEps1);
        Z1 = V(eZ1);
        Z2Means = V(eZ2Means);
        Mu2 = V(eMu2);
        LogVar2 = V(eLogVar2);
        Eps2 = V(eEps2);
        Z2 = V(eZ2);
        PriorMu = V(ePriorMu);
        PriorLogVar = V(ePriorLogVar);
        Logits = decoder.Output;
        Prediction = V(ePrediction);
        ReconPerSample = V(eRecon);
        KlPerSample = V(eKl);
        kl1PerSample = V(eKl1);
        kl2PerSample = V(eKl2);
        LossTotals = V(eTotals);
        groupTotals = V(eGroupTotals);
        KlPerDimension = V(eKlPerDimension);
        ones = V(eOnes);
        klElements = V(eKlElements);
        freeBitsMask = V(eMask);
        dLogits = V(eDLogits);
        gradA = V(eGradA);
        gradB = V(eGradB);
        dz1 = V(eDz1);
        dz1FromTop = V(eDz1Top);
        dz2 = V(eDz2);
        dMu1 = V(eDMu1);
        dLogVar1 = V(eDLogVar1);
        dHeads1 = V(eDHeads1);
        dMu2 = V(eDMu2);
        dLogVar2 = V(eDLogVar2);
        dHeads2 = V(eDHeads2);
        kl1Gradients = V(eKl1Gradients);
        dMu1Kl = kl1Gradients.Slice(0, b * l1);
        dLogVar1Kl = kl1Gradients.Slice(b * l1, b * l1);
        dPriorMu = kl1Gradients.Slice(2 * b * l1, b * l1);
        dPriorLogVar = kl1Gradients.Slice(3 * b * l1, b * l1);
        dPriorHeads = V(eDPriorHeads);
        backend.Fill(ones, 1f);
        LatentGroups = [new LatentGroup("z1", l1, Mu1, groupTotals.Slice(0, 1)), new LatentGroup("z2", l2, Z2Means, groupTotals.Slice(1, 1))];

        // PyTorch state_dict names, in the twin's attribute order; each [mu | logvar] head is two Linear layers there.
        namedTensors.AddRange(q1.NamedTensors("mu1", "logvar1"));
        namedTensors.AddRange(q2.NamedTensors("mu2", "logvar2"));
        namedTensors.AddRange(prior.NamedTensors("prior_mu", "prior_logvar"));
        namedTensors.AddRange(decoder.NamedTensors());
    }

    public HvaeConfig Config { get; }
    IModelConfig ITrainableModel.Config => Config;
    public int Capacity { get; }
    public IComputeBackend Backend => backend;
    public ParameterStore Parameters { get; }
    public IReadOnlyList<NamedTensor> NamedTensors => namedTensors;
    public long ParameterCount => Parameters.Layout.ElementCount;

    public DeviceSpan<float> Input { get; }        // (Capacity, D) pixels in [0, 1]
    /// <summary>(Capacity, L1 + L2) the step's standard normal numbers, row r = [eps1 | eps2] of image r.</summary>
    public DeviceSpan<float> Noise { get; }
    public DeviceSpan<float> Mu1 { get; }          // (Capacity, L1) mean of q(z1 | x)
    public DeviceSpan<float> LogVar1 { get; }      // (Capacity, L1)
    public DeviceSpan<float> Eps1 { get; }         // (Capacity, L1)
    public DeviceSpan<float> Z1 { get; }           // (Capacity, L1)
    /// <summary>(Capacity, L2) the mean of q(z2 | z1 = mu1(x)), the z2 group's means for the evaluation.</summary>
    public DeviceSpan<float> Z2Means { get; }
    public DeviceSpan<float> Mu2 { get; }          // (Capacity, L2) mean of q(z2 | z1) at the sampled z1
    public DeviceSpan<float> LogVar2 { get; }      // (Capacity, L2)
    public DeviceSpan<float> Eps2 { get; }         // (Capacity, L2)
    public DeviceSpan<float> Z2 { get; }           // (Capacity, L2)
    public DeviceSpan<float> PriorMu { get; }      // (Capacity, L1) mean of p(z1 | z2)
    public DeviceSpan<float> PriorLogVar { get; }  // (Capacity, L1)
    public DeviceSpan<float> Logits { get; }       // (Capacity, D)
    public DeviceSpan<float> Prediction { get; }   // (Capacity, D) sigmoid(logits)
    public DeviceSpan<float> ReconPerSample { get; }
    /// <summary>(Capacity) KL1 + KL2 nats per row.</summary>
    public DeviceSpan<float> KlPerSample { get; }
    public DeviceSpan<float> LossTotals { get; }
    /// <summary>(L1 + L2) the batch-mean KL of each dimension, [z1 | z2], written by a Backward with free bits.</summary>
    public DeviceSpan<float> KlPerDimension { get; }

    public int Classes => 0;
    public DeviceSpan<float> Condition => default;
    public int NoisePerRow => Config.Latent1 + Config.Latent2;
    public IReadOnlyList<LatentGroup> LatentGroups { get; }
    public void AfterOptimizerStep(int rows) { }
    public IImportanceWeighted CreateImportanceWeights(int maxSamples = 0) => new HvaeImportanceWeights(this, maxSamples);

    IEnumerable<Linear> AllLayers() => new[] { q1, q2, prior, decoder }.SelectMany(n => n.Layers);

    /// <summary>PyTorch's nn.Linear default initialization from a Philox stream of <paramref name="seed"/> (the same on every backend); zeroes gradients and Adam's moments.</summary>
    public void InitializeParameters(ulong seed) => LinearInit.PyTorchDefault(Parameters, AllLayers(), seed);

    // ------------------------------------------------------------------ forward pieces

    /// <summary>q(z1 | x): Input (rows, D) -> Mu1, LogVar1 (rows, L1).</summary>
    public void Encode(int rows)
    {
        CheckRows(rows);
        int l1 = Config.Latent1;
        backend.Split(q1.Forward(backend, Input, rows), Mu1, LogVar1, rows, l1, l1);
    }

    /// <summary>q(z2 | z1): Z1 (rows, L1) -> Mu2, LogVar2 (rows, L2).</summary>
    public void EncodeTop(int rows)
    {
        CheckRows(rows);
        int l2 = Config.Latent2;
        backend.Split(q2.Forward(backend, Z1, rows), Mu2, LogVar2, rows, l2, l2);
    }

    /// <summary>p(z1 | z2): Z2 (rows, L2) -> PriorMu, PriorLogVar (rows, L1).</summary>
    public void Prior(int rows)
    {
        CheckRows(rows);
        int l1 = Config.Latent1;
        backend.Split(prior.Forward(backend, Z2, rows), PriorMu, PriorLogVar, rows, l1, l1);
    }

    /// <summary>p(x | z1): Z1 (rows, L1) -> Logits (rows, D), and Prediction = sigmoid(Logits) when <paramref name="probabilities"/>.</summary>
    public void Decode(int rows, bool probabilities = true)
    {
        CheckRows(rows);
        decoder.Forward(backend, Z1, rows);
        if (probabilities) ReconstructionTerm.Probabilities(backend, Logits, Prediction, rows, Config.Input);
    }

    /// <summary>
    /// The training forward pass on Input and Noise: z1 ~ q(z1 | x), z2 ~ q(z2 | z1), the prior p(z1 | z2), the decoder
    /// and the losses. Writes ReconPerSample, KlPerSample, the groups' KL totals and LossTotals = [sum recon, sum KL1 + KL2].
    /// </summary>
    public void Forward(int rows)
    {
        CheckRows(rows);
        int d = Config.Input, l1 = Config.Latent1, l2 = Config.Latent2;
        Encode(rows);
        backend.Split(Noise, Eps1, Eps2, rows, l1, l2);
        // The z2 group's means: q(z2 | z1) at z1 = mu1 (log-variances of this pass are overwritten below).
        backend.Split(q2.Forward(backend, Mu1, rows), Z2Means, LogVar2, rows, l2, l2);
        GaussianVae.Reparameterize(backend, Mu1, LogVar1, Eps1, Z1, rows * l1);
        EncodeTop(rows);
        GaussianVae.Reparameterize(backend, Mu2, LogVar2, Eps2, Z2, rows * l2);
        Prior(rows);
        Decode(rows, probabilities: Config.Reconstruction == ReconstructionLoss.Mse);

        ReconstructionTerm.Forward(backend, Config.Reconstruction, Logits, Prediction, Input, ReconPerSample, LossTotals.Slice(0, 1), rows, d);
        backend.KlGaussianForward(Mu1, LogVar1, PriorMu, PriorLogVar, kl1PerSample, groupTotals.Slice(0, 1), rows, l1);
        backend.KlStandardNormalForward(Mu2, LogVar2, kl2PerSample, groupTotals.Slice(1, 1), rows, l2);
        backend.Copy(kl1PerSample.Slice(0, rows), KlPerSample.Slice(0, rows));
        backend.Axpy(1f, kl2PerSample.Slice(0, rows), KlPerSample.Slice(0, rows));
        backend.Copy(groupTotals.Slice(0, 1), LossTotals.Slice(1, 1));
        backend.Axpy(1f, groupTotals.Slice(1, 1), LossTotals.Slice(1, 1));
    }

    // ------------------------------------------------------------------ backward

    /// <summary>
    /// After <see cref="Forward"/>: writes into Parameters.Gradients exactly the gradient of the batch mean of
    /// recon + klWeight * (KL1 + KL2), or with <paramref name="freeBits"/> &gt; 0 of recon + klWeight * (sum_c max(freeBits, KL1_c)
    /// + sum_c max(freeBits, KL2_c)), KL_c the batch-mean KL of dimension c of each layer (written to <see cref="KlPerDimension"/>).
    /// </summary>
    public void Backward(int rows, float klWeight, float freeBits)
    {
        ModelChecks.KlArguments(klWeight, freeBits);
        CheckRows(rows);
        int d = Config.Input, l1 = Config.Latent1, l2 = Config.Latent2;
        int n1 = rows * l1;
        float scale = 1f / rows, klScale = klWeight * scale;
        bool kl = klWeight != 0f, floor = kl && freeBits > 0f;
        backend.Fill(biasGradients, 0f);

        // Reconstruction -> dLogits -> decoder -> dz1 (assigned).
        ReconstructionTerm.Backward(backend, Config.Reconstruction, Logits, Prediction, Input, dLogits, rows, d, scale);
        decoder.Backward(backend, Z1, dLogits, dz1, gradA, gradB, rows);

        // KL1 = KL(q(z1 | x) || p(z1 | z2)): its four gradients into zeroed buffers (masked per dimension with free bits).
        backend.Fill(kl1Gradients, 0f);
        if (kl) backend.KlGaussianBackward(Mu1, LogVar1, PriorMu, PriorLogVar, dMu1Kl, dLogVar1Kl, dPriorMu, dPriorLogVar, rows, l1, klScale);
        if (floor) FloorKl1(rows, freeBits);

        // p(z1 | z2) -> dz2; reparameterization of z2 plus KL2 -> dMu2, dLogVar2 -> q(z2 | z1) -> dz1 (second path).
        backend.Concat(dPriorMu, dPriorLogVar, dPriorHeads, rows, l1, l1);
        prior.Backward(backend, Z2, dPriorHeads, dz2, gradA, gradB, rows);
        GaussianVae.LatentBackward(backend, Mu2, LogVar2, Eps2, dz2, dMu2, dLogVar2, dHeads2, KlPerDimension.Slice(l1, l2), rows, l2, klWeight, freeBits);
        q2.Backward(backend, Z1, dHeads2, dz1FromTop, gradA, gradB, rows);
        backend.Axpy(1f, dz1FromTop.Slice(0, n1), dz1.Slice(0, n1));

        // Reparameterization of z1 plus KL1's q-side gradients -> dMu1, dLogVar1 -> q(z1 | x); the input needs no gradient.
        backend.ReparameterizeBackward(LogVar1.Slice(0, n1), Eps1.Slice(0, n1), dz1.Slice(0, n1), dMu1.Slice(0, n1), dLogVar1.Slice(0, n1),
            Reparameterization.MinLogVar, Reparameterization.MaxLogVar);
        backend.Axpy(1f, dMu1Kl.Slice(0, n1), dMu1.Slice(0, n1));
        backend.Axpy(1f, dLogVar1Kl.Slice(0, n1), dLogVar1.Slice(0, n1));
        backend.Concat(dMu1, dLogVar1, dHeads1, rows, l1, l1);
        q1.Backward(backend, Input, dHeads1, default, gradA, gradB, rows);
    }

    /// <summary>
    /// Free bits for KL1: KL1_c = batch mean of every element's KL (KlGaussianForward with one column per row, then a
    /// ones-row GEMM scaled by 1 / rows), then the KL1 gradients are kept only in dimensions with KL1_c &gt; freeBits:
    /// a ReLU backward reading the mask KL1_c - freeBits (broadcast over rows) passes a gradient exactly where it is &gt; 0.
    /// </summary>
    void FloorKl1(int rows, float freeBits)
    {
        int l1 = Config.Latent1, n1 = rows * l1;
        var perDimension = KlPerDimension.Slice(0, l1);
        backend.KlGaussianForward(Mu1, LogVar1, PriorMu, PriorLogVar, klElements, default, n1, 1);
        backend.Gemm(false, false, 1, l1, rows, 1f / rows, ones, klElements, 0f, perDimension);
        var mask = freeBitsMask.Slice(0, n1);
        backend.Fill(mask, -freeBits);
        backend.BiasAdd(mask, perDimension, rows, l1);
        Mask(dMu1Kl);
        Mask(dLogVar1Kl);
        Mask(dPriorMu);
        Mask(dPriorLogVar);

        void Mask(DeviceSpan<float> gradient)
        {
            var view = gradient.Slice(0, n1);
            backend.ActivationBackward(Activation.Relu, mask, default, view, view);
        }
    }

    // ------------------------------------------------------------------ host-side conveniences (allocate; not for hot loops)

    /// <summary>
    /// Ancestral samples: z2 ~ N(0, I), z1 ~ p(z1 | z2), decoded to probabilities (count, D). Sample i takes the normal
    /// numbers [i (L1 + L2), (i + 1)(L1 + L2)) of stream <paramref name="seed"/>: [eps1 | z2].
    /// </summary>
    public float[] Sample(int count, ulong seed, ReadOnlySpan<int> labels = default)
    {
        NoLabels(labels.Length);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int l1 = Config.Latent1, l2 = Config.Latent2;
        return HostPasses.InChunks(backend, Capacity, count, (start, rows) =>
        {
            backend.RandomNormal(Noise.Slice(0, rows * NoisePerRow), seed, (ulong)start * (ulong)NoisePerRow);
            backend.Split(Noise, Eps1, Z2, rows, l1, l2);
            Prior(rows);
            GaussianVae.Reparameterize(backend, PriorMu, PriorLogVar, Eps1, Z1, rows * l1);
            Decode(rows);
        }, Prediction, Config.Input);
    }

    /// <summary>Means of q(z1 | x), (count, L1), of images (count, D).</summary>
    public float[] EncodeMeans(ReadOnlySpan<float> images, int count)
    {
        ModelChecks.Images(images, count, Config.Input);
        return HostPasses.InChunks(backend, Capacity, count, images, Input, (_, rows) => Encode(rows), Mu1, Config.Latent1);
    }

    /// <summary>Decodes first-layer codes z1 (count, L1) to probabilities (count, D).</summary>
    public float[] DecodeLatents(ReadOnlySpan<float> latents, int count)
    {
        ModelChecks.RowsOf(latents, count, Config.Latent1, $"first-layer codes of size {Config.Latent1}");
        return HostPasses.InChunks(backend, Capacity, count, latents, Z1, (_, rows) => Decode(rows), Prediction, Config.Input);
    }

    /// <summary>Reconstructions (count, D) through the mean of q(z1 | x) (no sampling).</summary>
    public float[] Reconstruct(ReadOnlySpan<float> images, int count, ReadOnlySpan<int> labels = default)
    {
        NoLabels(labels.Length);
        return DecodeLatents(EncodeMeans(images, count), count);
    }

    /// <summary><paramref name="steps"/> images decoded along the line between the q(z1 | x) means of images a and b.</summary>
    public float[] Interpolate(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int steps, int labelA = -1, int labelB = -1)
    {
        NoLabels(labelA >= 0 || labelB >= 0 ? 1 : 0);
        return HostPasses.Interpolate(a, b, steps, Config.Input, Config.Latent1, pair => EncodeMeans(pair, 2), (path, n) => DecodeLatents(path, n));
    }

    // ------------------------------------------------------------------ helpers

    void CheckRows(int rows) => ModelChecks.Rows(rows, Capacity);

    static void NoLabels(int given) => ModelChecks.NoLabels(given, "The hierarchical VAE");

    public void Dispose()
    {
        Parameters.Dispose();
        activationBuffer.Dispose();
    }
}
