// The VQ-VAE (van den Oord et al. 2017) with dense layers: an MLP encoder whose output is a grid of P latent vectors of
// D values, each replaced by its nearest codebook vector, and an MLP decoder from the quantized grid to logits.
//
// Shapes (B = rows <= Capacity, X = input pixels, P positions, D code size, K codes):
//   input (B, X) -> enc.0 .. enc.n (ReLU between) -> z_e (B, P*D), the same memory as (B*P, D) rows
//   codes (B*P) = NearestCode(z_e, codebook (K, D)) (lowest index on ties), z_q (B*P, D) = codebook rows (GatherRows)
//   z_q as (B, P*D) -> dec.0 .. dec.n (ReLU between) -> logits (B, X) -> prediction = sigmoid(logits)
// Objective per image (the batch mean is trained): recon (BCE from logits, or squared error of sigmoid(logits)) +
// sum over positions of ||sg(z_e) - e||^2 (the codebook loss; left out with EMA updates) + commitment * ||z_e - sg(e)||^2.
// The decoder's input gradient is copied straight through to z_e. Reported (ITrainableModel's convention): LossTotals =
// [sum recon, sum of P ln K], the uniform prior's cost of the codes, so the test loss bounds -log p(x) from above;
// QuantizationTotal gives the sum of the squared distances, from which both training terms follow.
//
// EMA codebook (the paper's appendix): after each optimizer step, with n_k this batch's count of code k and s_k the
// sum of its z_e rows, N_k = decay N_k + (1 - decay) n_k, m_k = decay m_k + (1 - decay) s_k, and code k = m_k over the
// Laplace-smoothed N_k (EmaCodebook). N and m, the code prior fitted on the training set and the restart count are
// non-trained state in the ParameterStore: zero gradient, saved in checkpoints under state_dict buffer names.
// After each epoch (IEpochEndHook): codes used fewer than RestartThreshold * (the epoch's assignments / K) times are
// reset to encoder outputs of a random training batch (Philox of the seed and epoch), then the prior over codes is
// refitted (per position, counts of the training set's codes with add-one smoothing).
//
// State_dict names: enc.<i>.weight/.bias, codebook.weight (K, D), codebook.cluster_size (K), codebook.embed_sum (K, D)
// (EMA only), codebook.restarts (1), dec.<i>.weight/.bias, prior.log_probs (P, K).
using Vae.Nn;
using Vae.Random;
using Vae.Training;

namespace Vae.Models;

public sealed class VqVaeModel : ITrainableModel, IEpochEndHook
{
    /// <summary>The Laplace smoothing of the EMA cluster sizes.</summary>
    public const float EmaEpsilon = 1e-5f;

    /// <summary>Pseudo-counts added to every (position, code) count when the prior is fitted.</summary>
    public const double PriorSmoothing = 1.0;

    readonly IComputeBackend backend;
    readonly Mlp encoder, decoder;
    readonly DeviceBuffer activationBuffer;
    readonly DeviceSpan<float> zeroedGradients;   // all bias gradients and the codebook's: one region, zeroed once per Backward
    readonly DeviceSpan<float> codebook, codebookGradient, clusterSize, embedSum, restartCount, priorLogProbs;
    readonly DeviceSpan<int> codes;
    readonly DeviceSpan<float> distances, zq, dLogits, gradA, gradB, dCode, difference, ones, batchCounts, batchSums, epochUsage;
    readonly List<NamedTensor> namedTensors = [];
    readonly long trainedCount;
    readonly int p, d, k;

    public VqVaeModel(IComputeBackend backend, VqVaeConfig config, int capacity)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        if ((long)capacity * config.LatentWidth > int.MaxValue / 4 || (long)capacity * config.Input > int.MaxValue / 4)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, $"{capacity} rows of {config.Describe()} do not fit in one buffer; use a smaller batch.");
        this.backend = backend;
        Config = config;
        Capacity = capacity;
        (p, d, k) = (config.Positions, config.CodeDim, config.Codes);
        encoder = Mlp.Numbered("enc", [config.Input, .. config.Hidden, config.LatentWidth]);
        decoder = Mlp.Numbered("dec", [config.LatentWidth, .. config.Hidden.Reverse(), config.Input]);

        // Weights, then biases and the codebook (the region whose gradients are zeroed per step), then the state.
        var layout = new TensorLayout();
        int firstZeroed = Mlp.AddParameters(layout, encoder, decoder);
        var eCodebook = layout.Add("codebook.weight", k, d);
        int endZeroed = layout.TotalLength;
        trainedCount = layout.ElementCount;
        var eClusterSize = config.Ema ? layout.Add("codebook.cluster_size", k) : null;
        var eEmbedSum = config.Ema ? layout.Add("codebook.embed_sum", k, d) : null;
        var eRestarts = layout.Add("codebook.restarts", 1);
        var ePrior = layout.Add("prior.log_probs", p, k);
        Parameters = new ParameterStore(backend, layout);
        zeroedGradients = Parameters.Gradients.Slice(firstZeroed, endZeroed - firstZeroed);

        // Activations and their gradients for Capacity rows; the code indices are int views of the same buffer.
        int b = capacity, n = capacity * p;
        var acts = new TensorLayout();
        var eInput = acts.Add("input", b, config.Input);
        encoder.AddOutputs(acts, b);
        var eCodes = acts.Add("codes", n);
        var eDistances = acts.Add("distances", n);
        var eZq = acts.Add("z_q", n, d);
        decoder.AddOutputs(acts, b);
        var ePrediction = acts.Add("prediction", b, config.Input);
        var eRecon = acts.Add("recon.per_sample", b);
        var eKl = acts.Add("kl.per_sample", b);
        var eTotals = acts.Add("totals", 2);
        var eQuantization = acts.Add("quantization.total", 1);
        var eDLogits = acts.Add("d.logits", b, config.Input);
        int widest = Math.Max(1, Math.Max(encoder.WidestHidden, decoder.WidestHidden));
        var eGradA = acts.Add("d.a", b, widest);
        var eGradB = acts.Add("d.b", b, widest);
        var eDCode = acts.Add("d.code", n, d);
        var eDifference = acts.Add("difference", n, d);
        var eOnes = acts.Add("ones", n);
        var eBatchCounts = acts.Add("batch.counts", k);
        var eBatchSums = acts.Add("batch.sums", k, d);
        var eEpochUsage = acts.Add("epoch.usage", k);
        activationBuffer = backend.Allocate((long)acts.TotalLength * sizeof(float));
        var flat = activationBuffer.AsSpan<float>();
        DeviceSpan<float> V(TensorEntry e) => TensorLayout.View(flat, e);
        encoder.Bind(Parameters, flat);
        decoder.Bind(Parameters, flat);
        Input = V(eInput);
        codes = activationBuffer.AsSpan<int>().Slice(eCodes.Offset, eCodes.Length);
        distances = V(eDistances);
        zq = V(eZq);
        Prediction = V(ePrediction);
        ReconPerSample = V(eRecon);
        KlPerSample = V(eKl);
        LossTotals = V(eTotals);
        QuantizationTotal = V(eQuantization);
        dLogits = V(eDLogits);
        gradA = V(eGradA);
        gradB = V(eGradB);
        dCode = V(eDCode);
        difference = V(eDifference);
        ones = V(eOnes);
        batchCounts = V(eBatchCounts);
        batchSums = V(eBatchSums);
        epochUsage = V(eEpochUsage);
        backend.Fill(ones, 1f);

        DeviceSpan<float> P(TensorEntry e) => TensorLayout.View(Parameters.Parameters, e);
        codebook = P(eCodebook);
        codebookGradient = TensorLayout.View(Parameters.Gradients, eCodebook);
        clusterSize = eClusterSize is null ? default : P(eClusterSize);
        embedSum = eEmbedSum is null ? default : P(eEmbedSum);
        restartCount = P(eRestarts);
        priorLogProbs = P(ePrior);

        // PyTorch state_dict order: enc, the quantizer's parameter and buffers, dec, the prior.
        static NamedTensor Named(TensorEntry e) => new(e.Name, e.Shape, e.Offset, e.Length);
        namedTensors.AddRange(encoder.NamedTensors());
        namedTensors.Add(Named(eCodebook));
        if (eClusterSize is not null && eEmbedSum is not null)
        {
            namedTensors.Add(Named(eClusterSize));
            namedTensors.Add(Named(eEmbedSum));
        }
        namedTensors.Add(Named(eRestarts));
        namedTensors.AddRange(decoder.NamedTensors());
        namedTensors.Add(Named(ePrior));
    }

    public VqVaeConfig Config { get; }
    IModelConfig ITrainableModel.Config => Config;
    public int Capacity { get; }
    public IComputeBackend Backend => backend;
    public ParameterStore Parameters { get; }
    /// <summary>The state_dict view: parameters, then the non-trained state (EMA statistics, restart count, code prior).</summary>
    public IReadOnlyList<NamedTensor> NamedTensors => namedTensors;
    /// <summary>Trained values: weights, biases and the codebook (not the EMA statistics or the prior).</summary>
    public long ParameterCount => trainedCount;

    public DeviceSpan<float> Input { get; }            // (Capacity, X)
    /// <summary>(Capacity, P*D) the encoder's output z_e, as (Capacity*P, D) rows.</summary>
    public DeviceSpan<float> EncoderOutput => encoder.Output;
    /// <summary>(Capacity*P) the code of each latent vector, written by Forward (Quantize).</summary>
    public DeviceSpan<int> Codes => codes;
    /// <summary>(Capacity*P) the squared distance of each latent vector to its code.</summary>
    public DeviceSpan<float> Distances => distances;
    /// <summary>(Capacity*P, D) the quantized latents z_q, the decoder's input.</summary>
    public DeviceSpan<float> Quantized => zq;
    public DeviceSpan<float> Logits => decoder.Output;  // (Capacity, X)
    public DeviceSpan<float> Prediction { get; }       // (Capacity, X) sigmoid(logits)
    public DeviceSpan<float> ReconPerSample { get; }
    /// <summary>(Capacity) P ln K per row: the uniform prior's cost of the codes.</summary>
    public DeviceSpan<float> KlPerSample { get; }
    public DeviceSpan<float> LossTotals { get; }
    /// <summary>(1) after Forward: the sum over the rows' latent vectors of ||z_e - e||^2. Over rows, the batch-mean codebook loss; times Commitment, the commitment loss.</summary>
    public DeviceSpan<float> QuantizationTotal { get; }
    /// <summary>(K, D) the codebook.</summary>
    public DeviceSpan<float> Codebook => codebook;
    /// <summary>(K) the EMA cluster sizes N (the null view without EMA).</summary>
    public DeviceSpan<float> ClusterSize => clusterSize;
    /// <summary>(K, D) the EMA sums m (the null view without EMA).</summary>
    public DeviceSpan<float> EmbedSum => embedSum;
    /// <summary>(P, K) the log-probabilities of the fitted prior over each position's code.</summary>
    public DeviceSpan<float> PriorLogProbs => priorLogProbs;
    /// <summary>(K) how often each code was chosen in training steps since the last epoch end.</summary>
    public DeviceSpan<float> EpochUsage => epochUsage;
    /// <summary>Codes restarted at the last epoch end.</summary>
    public int LastRestarts { get; private set; }

    /// <summary>The uniform prior's cost of one image's codes, P ln K nats.</summary>
    public double UniformPriorNats => p * Math.Log(k);

    // ITrainableModel: unconditional, no noise, no Gaussian latent groups.
    public int Classes => 0;
    public DeviceSpan<float> Condition => default;
    public int NoisePerRow => 0;
    public DeviceSpan<float> Noise => default;
    public IReadOnlyList<LatentGroup> LatentGroups { get; } = [];

    /// <summary>
    /// PyTorch's nn.Linear initialization for the MLPs (Philox streams of <paramref name="seed"/>, the same on every
    /// backend), the codebook uniform in +-1/sqrt(D), EMA statistics N = 1 and m = the codebook, the uniform prior, no
    /// restarts; gradients and Adam moments zero.
    /// </summary>
    public void InitializeParameters(ulong seed)
    {
        var layout = Parameters.Layout;
        var host = new float[layout.TotalLength];
        uint stream = LinearInit.FillLayers(host, Parameters, encoder.Layers.Concat(decoder.Layers), seed);
        var eCodebook = layout["codebook.weight"];
        ParameterInit.FillUniform(host.AsSpan(eCodebook.Offset, eCodebook.Length), 1f / MathF.Sqrt(d), seed, stream);
        if (Config.Ema)
        {
            host.AsSpan(layout["codebook.cluster_size"].Offset, k).Fill(1f);
            host.AsSpan(eCodebook.Offset, eCodebook.Length).CopyTo(host.AsSpan(layout["codebook.embed_sum"].Offset));
        }
        host.AsSpan(layout["prior.log_probs"].Offset, p * k).Fill((float)-Math.Log(k));
        LinearInit.Upload(Parameters, host);
        backend.Fill(epochUsage, 0f);
        LastRestarts = 0;
    }

    // ------------------------------------------------------------------ forward

    /// <summary>Input (rows, X) -> z_e (rows, P*D) -> codes, distances and z_q.</summary>
    public void Encode(int rows)
    {
        CheckRows(rows);
        encoder.Forward(backend, Input, rows);
        Quantize(rows);
    }

    /// <summary>z_e (rows*P, D) -> codes (rows*P), distances (rows*P), z_q = codebook rows (rows*P, D).</summary>
    public void Quantize(int rows)
    {
        CheckRows(rows);
        int n = rows * p;
        backend.NearestCode(encoder.Output, codebook, codes, distances, n, k, d);
        backend.GatherRows(codebook, codes, zq, k, n, d);
    }

    /// <summary>z_q (rows, P*D) -> Logits (rows, X), and Prediction = sigmoid(Logits) when <paramref name="probabilities"/>.</summary>
    public void Decode(int rows, bool probabilities = true)
    {
        CheckRows(rows);
        decoder.Forward(backend, zq, rows);
        if (probabilities) ReconstructionTerm.Probabilities(backend, Logits, Prediction, rows, Config.Input);
    }

    /// <summary>Encode, quantize, decode and the losses of the first <paramref name="rows"/> rows of Input.</summary>
    public void Forward(int rows)
    {
        Encode(rows);
        Decode(rows, probabilities: Config.Reconstruction == ReconstructionLoss.Mse);
        ReconstructionTerm.Forward(backend, Config.Reconstruction, Logits, Prediction, Input, ReconPerSample, LossTotals.Slice(0, 1), rows, Config.Input);
        backend.Fill(KlPerSample.Slice(0, rows), (float)UniformPriorNats);
        backend.Fill(LossTotals.Slice(1, 1), (float)(rows * UniformPriorNats));
        backend.Sum(distances.Slice(0, rows * p), QuantizationTotal);
    }

    // ------------------------------------------------------------------ backward

    /// <summary>
    /// Gradients of the batch mean of recon + codebook loss (without EMA) + Commitment * commitment loss, after Forward.
    /// The "KL" (P ln K) is a constant, so <paramref name="klWeight"/> and <paramref name="freeBits"/> change nothing
    /// (they are checked like every model's). Weight gradients are assigned, the bias and codebook region is zeroed once.
    /// </summary>
    public void Backward(int rows, float klWeight, float freeBits)
    {
        ModelChecks.KlArguments(klWeight, freeBits);
        CheckRows(rows);
        int n = rows * p, values = n * d;
        float scale = 1f / rows;
        backend.Fill(zeroedGradients, 0f);

        ReconstructionTerm.Backward(backend, Config.Reconstruction, Logits, Prediction, Input, dLogits, rows, Config.Input, scale);
        decoder.Backward(backend, zq, dLogits, dCode, gradA, gradB, rows);

        // Straight through: dz_e = dz_q + commitment * 2 (z_e - e) / rows; the codebook gets 2 (e - z_e) / rows per use.
        if (Config.Commitment != 0f || !Config.Ema)
        {
            var diff = difference.Slice(0, values);
            backend.Copy(encoder.Output.Slice(0, values), diff);
            backend.Axpy(-1f, zq.Slice(0, values), diff);
            if (Config.Commitment != 0f) backend.Axpy(2f * Config.Commitment * scale, diff, dCode.Slice(0, values));
            if (!Config.Ema)
            {
                backend.Scale(diff, -2f * scale);
                backend.ScatterAddRows(diff, codes, codebookGradient, k, n, d);
            }
        }
        encoder.Backward(backend, Input, dCode, default, gradA, gradB, rows);
    }

    /// <summary>
    /// After the optimizer step: counts this batch's codes into the epoch's usage and, with EMA, updates the cluster
    /// sizes, the sums and the codebook from the forward pass's codes and z_e. Allocation-free and capturable.
    /// </summary>
    public void AfterOptimizerStep(int rows)
    {
        CheckRows(rows);
        int n = rows * p;
        backend.Fill(batchCounts, 0f);
        backend.ScatterAddRows(ones, codes, batchCounts, k, n, 1);
        backend.Axpy(1f, batchCounts, epochUsage);
        if (!Config.Ema) return;
        float decay = Config.EmaDecay;
        backend.Scale(clusterSize, decay);
        backend.Axpy(1f - decay, batchCounts, clusterSize);
        backend.Fill(batchSums, 0f);
        backend.ScatterAddRows(encoder.Output, codes, batchSums, k, n, d);
        backend.Scale(embedSum, decay);
        backend.Axpy(1f - decay, batchSums, embedSum);
        backend.EmaCodebook(clusterSize, embedSum, codebook, k, d, EmaEpsilon);
    }

    // ------------------------------------------------------------------ between epochs (host side; allocates)

    /// <summary>Restarts the codes the epoch left unused (see <see cref="RestartDeadCodes"/>), clears the usage, refits the prior on <paramref name="train"/>.</summary>
    public void OnEpochEnd(DeviceDataset train, int epoch, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(train);
        RestartDeadCodes(train, epoch, seed);
        backend.Fill(epochUsage, 0f);
        FitPrior(train);
    }

    /// <summary>
    /// Codes whose <see cref="EpochUsage"/> is below RestartThreshold * (total usage / K) are set to distinct encoder
    /// outputs (latent vectors) of min(Capacity, images) training images drawn (with replacement) by Philox from (seed, epoch); with EMA their
    /// N becomes 1 and m the new code. Their Adam moments are cleared. Returns how many codes were restarted (also added
    /// to the codebook.restarts counter and kept in <see cref="LastRestarts"/>).
    /// </summary>
    public int RestartDeadCodes(DeviceDataset train, int epoch, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(train);
        CheckData(train);
        LastRestarts = 0;
        var usage = Download(epochUsage);
        double total = 0;
        foreach (float u in usage) total += u;
        if (Config.RestartThreshold <= 0 || total <= 0) return 0;
        double floor = Config.RestartThreshold * total / k;
        var dead = Enumerable.Range(0, k).Where(c => usage[c] < floor).ToArray();
        if (dead.Length == 0) return 0;

        // A random training batch through the encoder: its image indices go through the code buffer.
        int rows = Math.Min(Capacity, train.Count);
        var images = new int[rows];
        for (int i = 0; i < rows; i++) images[i] = UniformIndex(seed, (uint)i, (uint)epoch, 0xDEAD_C0DE, train.Count);
        backend.Upload<int>(images, codes.Slice(0, rows));
        backend.GatherRows(train.Images, codes, Input, train.Count, rows, train.Pixels);
        encoder.Forward(backend, Input, rows);
        var candidates = Download(encoder.Output.Slice(0, rows * p * d));

        // Distinct candidates for the dead codes: a partial Fisher-Yates shuffle of the rows * P latent vectors (should
        // there be more dead codes than vectors, the later ones reuse the shuffled vectors in order).
        int count = rows * p, take = Math.Min(dead.Length, count);
        var order = Enumerable.Range(0, count).ToArray();
        for (int j = 0; j < take; j++)
        {
            int pick = j + UniformIndex(seed, (uint)j, (uint)epoch, 0xC0DE_5EED, count - j);
            (order[j], order[pick]) = (order[pick], order[j]);
        }
        var book = Download(codebook);
        var sizes = Config.Ema ? Download(clusterSize) : [];
        var sums = Config.Ema ? Download(embedSum) : [];
        int codebookOffset = Parameters.Layout["codebook.weight"].Offset;
        for (int j = 0; j < dead.Length; j++)
        {
            var vector = candidates.AsSpan(order[j % count] * d, d);
            int code = dead[j];
            vector.CopyTo(book.AsSpan(code * d, d));
            if (Config.Ema)
            {
                sizes[code] = 1f;
                vector.CopyTo(sums.AsSpan(code * d, d));
            }
            backend.Fill(Parameters.AdamM.Slice(codebookOffset + code * d, d), 0f);
            backend.Fill(Parameters.AdamV.Slice(codebookOffset + code * d, d), 0f);
        }
        backend.Upload<float>(book, codebook);
        if (Config.Ema)
        {
            backend.Upload<float>(sizes, clusterSize);
            backend.Upload<float>(sums, embedSum);
        }
        var restarts = Download(restartCount);
        restarts[0] += dead.Length;
        backend.Upload<float>(restarts, restartCount);
        LastRestarts = dead.Length;
        return dead.Length;
    }

    /// <summary>Codes restarted over the whole run (the codebook.restarts counter, saved in checkpoints).</summary>
    public long TotalRestarts => (long)Download(restartCount)[0];

    /// <summary>
    /// Fits the prior over codes on <paramref name="data"/>: for each position, log((count of each code + 1) / (images + K)),
    /// from the codes of every image in order. Writes <see cref="PriorLogProbs"/>.
    /// </summary>
    public void FitPrior(DeviceDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var counts = new long[p * k];
        foreach (var batch in CodesOf(data)) VqCodeStatistics.CountPerPosition(batch, p, k, counts);
        backend.Upload<float>(VqCodeStatistics.PriorLogProbs(counts, data.Count, p, k, PriorSmoothing), priorLogProbs);
    }

    /// <summary>
    /// Test-set statistics: reconstruction nats, the uniform-prior and fitted-prior bounds on -log p(x), code perplexity
    /// and usage, the mean squared quantization error, in one pass over <paramref name="data"/> in order.
    /// </summary>
    public VqCodeStatistics Statistics(DeviceDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var logPrior = Download(priorLogProbs);
        var usage = new long[k];
        var batchCodes = new int[Capacity * p];
        var totals = new float[2];
        var quantization = new float[1];
        double reconSum = 0, priorNats = 0, quantizationSum = 0;
        foreach (int rows in Batches(data))
        {
            Forward(rows);
            backend.Download<float>(LossTotals, totals);
            backend.Download<float>(QuantizationTotal, quantization);
            backend.Download<int>(codes.Slice(0, rows * p), batchCodes.AsSpan(0, rows * p));
            reconSum += totals[0];
            quantizationSum += quantization[0];
            for (int i = 0; i < rows * p; i++)
            {
                int code = batchCodes[i];
                usage[code]++;
                priorNats -= logPrior[(i % p) * k + code];
            }
        }
        int images = data.Count;
        return new VqCodeStatistics(images, reconSum / images, UniformPriorNats, priorNats / images,
            VqCodeStatistics.CodePerplexity(usage), usage.Count(u => u > 0), k, quantizationSum / images, TotalRestarts);
    }

    /// <summary>The codes (count, P) of every image of <paramref name="data"/>, batch by batch in order.</summary>
    IEnumerable<int[]> CodesOf(DeviceDataset data)
    {
        foreach (int rows in Batches(data))
        {
            Encode(rows);
            var batch = new int[rows * p];
            backend.Download<int>(codes.Slice(0, rows * p), batch);
            yield return batch;
        }
    }

    /// <summary>Copies <paramref name="data"/>'s images into Input batch by batch, in order, yielding each batch's rows.</summary>
    IEnumerable<int> Batches(DeviceDataset data)
    {
        CheckData(data);
        for (int first = 0; first < data.Count; first += Capacity)
        {
            int rows = Math.Min(Capacity, data.Count - first);
            backend.Copy(data.Images.Slice(first * data.Pixels, rows * data.Pixels), Input.Slice(0, rows * data.Pixels));
            yield return rows;
        }
    }

    // ------------------------------------------------------------------ host-side conveniences (allocate; not for hot loops)

    /// <summary>
    /// <paramref name="count"/> draws of codes (count, P) from the fitted prior, each position independently: code k of
    /// position j with probability exp(PriorLogProbs[j, k]) (renormalized), by inverse CDF of a Philox uniform from (seed, sample, position).
    /// </summary>
    public int[] SampleCodes(int count, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var cumulative = VqCodeStatistics.CumulativeProbabilities(Download(priorLogProbs), p, k);
        var result = new int[count * p];
        for (int i = 0; i < count; i++)
            for (int j = 0; j < p; j++)
            {
                uint c0 = (uint)i, c1 = (uint)j, c2 = 0x5A3D_1E00, c3 = 0;
                Philox.Philox4x32x10(ref c0, ref c1, ref c2, ref c3, (uint)seed, (uint)(seed >> 32));
                double u = ((ulong)c0 << 21 ^ c1 >> 11) * (1.0 / (1UL << 53));   // uniform in [0, 1), 53 bits
                result[i * p + j] = VqCodeStatistics.InverseCdf(cumulative.AsSpan(j * k, k), u);
            }
        return result;
    }

    /// <summary>Decodes <paramref name="count"/> draws from the fitted prior (see <see cref="SampleCodes"/>); returns (count, X) probabilities.</summary>
    public float[] Sample(int count, ulong seed, ReadOnlySpan<int> labels = default)
    {
        NoLabels(labels.Length);
        return DecodeCodes(SampleCodes(count, seed), count);
    }

    /// <summary>Decodes codes (count, P), each in [0, K), to probabilities (count, X).</summary>
    public float[] DecodeCodes(ReadOnlySpan<int> imageCodes, int count)
    {
        ModelChecks.RowsOf(imageCodes, count, p, $"images of {p} codes");
        foreach (int c in imageCodes)
            if ((uint)c >= (uint)k) throw new ArgumentOutOfRangeException(nameof(imageCodes), c, $"Code {c} is outside the codebook [0, {k}).");
        return HostPasses.InChunks(backend, Capacity, count, imageCodes, codes, (_, rows) =>
        {
            backend.GatherRows(codebook, codes, zq, k, rows * p, d);
            Decode(rows);
        }, Prediction, Config.Input);
    }

    /// <summary>The encoder outputs z_e (count, P*D) of images (count, X), before quantization.</summary>
    public float[] EncodeLatents(ReadOnlySpan<float> images, int count)
    {
        ModelChecks.Images(images, count, Config.Input);
        return HostPasses.InChunks(backend, Capacity, count, images, Input, (_, rows) => encoder.Forward(backend, Input, rows), encoder.Output, Config.LatentWidth);
    }

    /// <summary>Quantizes latents (count, P*D) to their nearest codes and decodes them: probabilities (count, X).</summary>
    public float[] DecodeLatents(ReadOnlySpan<float> latents, int count)
    {
        ModelChecks.RowsOf(latents, count, Config.LatentWidth, $"latent grids of {p} x {d}");
        return HostPasses.InChunks(backend, Capacity, count, latents, encoder.Output, (_, rows) =>
        {
            Quantize(rows);
            Decode(rows);
        }, Prediction, Config.Input);
    }

    /// <summary>Reconstructions (count, X) of images (count, X): encode, quantize, decode.</summary>
    public float[] Reconstruct(ReadOnlySpan<float> images, int count, ReadOnlySpan<int> labels = default)
    {
        NoLabels(labels.Length);
        return DecodeLatents(EncodeLatents(images, count), count);
    }

    /// <summary><paramref name="steps"/> images: the straight line between the encoder outputs of a and b (both ends included), each point quantized and decoded.</summary>
    public float[] Interpolate(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int steps, int labelA = -1, int labelB = -1)
    {
        NoLabels(labelA >= 0 || labelB >= 0 ? 1 : 0);
        return HostPasses.Interpolate(a, b, steps, Config.Input, Config.LatentWidth, pair => EncodeLatents(pair, 2), (path, n) => DecodeLatents(path, n));
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>A Philox draw from (seed; i, epoch, stream), scaled to [0, range).</summary>
    static int UniformIndex(ulong seed, uint i, uint epoch, uint stream, int range)
    {
        uint c0 = i, c1 = epoch, c2 = stream, c3 = 0;
        Philox.Philox4x32x10(ref c0, ref c1, ref c2, ref c3, (uint)seed, (uint)(seed >> 32));
        return (int)(((ulong)c0 * (ulong)range) >> 32);
    }

    float[] Download(DeviceSpan<float> view)
    {
        var host = new float[view.Length];
        backend.Download(view, host);
        return host;
    }

    void CheckRows(int rows) => ModelChecks.Rows(rows, Capacity);

    void CheckData(DeviceDataset data)
    {
        if (data.Pixels != Config.Input)
            throw new ArgumentException($"The data has {data.Pixels} pixels per image but the model expects {Config.Input}; use the dataset it was trained on.", nameof(data));
    }

    static void NoLabels(int given) => ModelChecks.NoLabels(given, "The VQ-VAE");

    public void Dispose()
    {
        Parameters.Dispose();
        activationBuffer.Dispose();
    }
}
