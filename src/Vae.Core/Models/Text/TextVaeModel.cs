// A sentence VAE (Bowman et al. 2016) on the compute layer, and with Latent = 0 its language-model baseline (the same
// decoder without z). Every tensor lives in a few preallocated buffers (parameters, gradients and Adam moments in one
// ParameterStore; float activations in one buffer; token ids in one int buffer mirrored by one host array), so a
// training step allocates nothing.
//
// Shapes (B = rows <= Capacity, T = the batch's longest sequence in ids with <bos> and <eos>, S = T - 1 decoder steps,
// V vocabulary, E embedding, H hidden, Z latent; sequences are time-major, row t B + b is step t of sequence b):
//   encoder:  tokens (T, B) -> embedding (T B, E) -> bidirectional LSTM (EncoderLayers) -> last layer's final h of both
//             directions [h_fwd | h_bwd] (B, 2H) -> latent (Linear) (B, 2Z) = [mu | logvar] -> z = mu + exp(logvar/2) eps
//   decoder:  [h0 | c0] (B, 2H) = decoder_init(z) (Linear); inputs (S, B, E + Z) = [embedding(previous token) | z] ->
//             LSTM (one layer, H) -> output (Linear) logits (S B, V) -> softmax cross-entropy against the next token,
//             padding ignored.
// The decoder's input at step t is token t of the sequence (<bos> first) with teacher forcing, or the decoder's own
// most likely token of step t - 1 (ArgMaxRows on the device) where the step is fed back; word dropout (applied when
// the batch is loaded) replaces input words by <unk>. The targets are tokens 1 .. len - 1 (the words and <eos>).
// Loss per sequence in nats: recon = sum over its len - 1 predicted tokens of -log p(token), KL(q(z|x) || N(0, I))
// summed over the Z latents; LossTotals = [sum recon, sum KL] over the batch; the objective is their mean over the
// batch, recon + klWeight KL (free bits: the KL floored per latent dimension, as the image models do).
// Parameter names follow a PyTorch module with attributes embedding (nn.Embedding, padding_idx 0), encoder
// (nn.LSTM, bidirectional), latent (nn.Linear(2H, 2Z), rows mu then logvar), decoder_init (nn.Linear(Z, 2H), rows h0
// then c0), decoder (nn.LSTM) and output (nn.Linear(H, V)).
using Vae.Data.Text;
using Vae.Nn;
using Vae.Random;

namespace Vae.Models.Text;

public sealed class TextVaeModel : IDisposable
{
    readonly IComputeBackend backend;
    readonly Embedding embedding;
    readonly Lstm? encoder;
    readonly Lstm decoder;
    readonly Linear latent, decoderInit, output;
    readonly DeviceBuffer floatBuffer, intBuffer;
    readonly int[] hostInts;
    readonly int capacity, maxSteps;   // Capacity and MaxLength (T at most); S at most maxSteps - 1
    // int regions (each sized for Capacity rows), laid out the same on the host and the device
    readonly int encTokensAt, decTokensAt, targetsAt, encLengthsAt, decLengthsAt, latentRowAt, pickedAt;
    readonly DeviceSpan<int> ints;
    // float activations and their gradients
    readonly DeviceSpan<float> encEmb, encFinal, heads, z, initState, h0, c0, decEmb, zRep, decInput, logits, cePerRow, klPerDimension;
    readonly DeviceSpan<float> dDecOut, dDecInput, dDecEmb, dzRep, dH0, dC0, dInit, dz, dMu, dLogVar, dHeads, dEncFinal, dFinalHidden, dEncEmb;
    int rows = -1, steps;              // the loaded batch: sequences and T
    long predictedTokens;

    public TextVaeModel(IComputeBackend backend, TextVaeConfig config, int capacity)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        this.backend = backend;
        Config = config;
        this.capacity = capacity;
        maxSteps = config.MaxLength;
        int v = config.Vocabulary, e = config.Embedding, h = config.Hidden, zw = config.Latent, t = config.MaxLength, s = t - 1, b = capacity;
        bool vae = !config.IsLanguageModel;
        if ((long)s * b * Math.Max(v, e + zw) > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, $"{capacity} sequences of {t} ids make logits of more than {int.MaxValue} floats; use a smaller batch.");

        // Parameters in state_dict order.
        var layout = new TensorLayout();
        Embedding.AddParameters(layout, "embedding.weight", v, e);
        if (vae)
        {
            Lstm.AddParameters(layout, "encoder.", e, h, config.EncoderLayers, bidirectional: true);
            layout.Add("latent.weight", 2 * zw, 2 * h);
            layout.Add("latent.bias", 2 * zw);
            layout.Add("decoder_init.weight", 2 * h, zw);
            layout.Add("decoder_init.bias", 2 * h);
        }
        Lstm.AddParameters(layout, "decoder.", e + zw, h, 1, bidirectional: false);
        layout.Add("output.weight", v, h);
        layout.Add("output.bias", v);
        Parameters = new ParameterStore(backend, layout);
        NamedTensors = layout.Entries.Select(x => new NamedTensor(x.Name, x.Shape, x.Offset, x.Length)).ToArray();
        ParameterCount = layout.ElementCount;
        Linear LinearOf(string name, int input, int outputs) => new(input, outputs, Parameters.Parameter(name + ".weight"), Parameters.Parameter(name + ".bias"),
            Parameters.Gradient(name + ".weight"), Parameters.Gradient(name + ".bias"));
        embedding = new Embedding(backend, v, e, Parameters.Parameter("embedding.weight"), Parameters.Gradient("embedding.weight"), Vocabulary.Pad);
        if (vae)
        {
            encoder = new Lstm(backend, Parameters, "encoder.", e, h, config.EncoderLayers, bidirectional: true, t, b);
            latent = LinearOf("latent", 2 * h, 2 * zw);
            decoderInit = LinearOf("decoder_init", zw, 2 * h);
        }
        decoder = new Lstm(backend, Parameters, "decoder.", e + zw, h, 1, bidirectional: false, s, b);
        output = LinearOf("output", h, v);

        // Token ids: one int buffer, one host mirror.
        int next = 0;
        int Region(int length)
        {
            int at = next;
            next += (length + TensorLayout.Alignment - 1) / TensorLayout.Alignment * TensorLayout.Alignment;
            return at;
        }
        encTokensAt = Region(t * b);
        decTokensAt = Region(s * b);
        targetsAt = Region(s * b);
        encLengthsAt = Region(b);
        decLengthsAt = Region(b);
        latentRowAt = Region(s * b);
        pickedAt = Region(b);
        hostInts = new int[next];
        intBuffer = backend.Allocate((long)next * sizeof(int));
        ints = intBuffer.AsSpan<int>();

        var acts = new TensorLayout();
        var eEncEmb = acts.Add("enc.embedded", vae ? t * b : 0, e);
        var eEncFinal = acts.Add("enc.final", b, vae ? 2 * h : 0);
        var eHeads = acts.Add("heads", b, 2 * zw);
        var eMu = acts.Add("mu", b, zw);
        var eLogVar = acts.Add("logvar", b, zw);
        var eNoise = acts.Add("eps", b, zw);
        var eZ = acts.Add("z", b, zw);
        var eInit = acts.Add("init", b, vae ? 2 * h : 0);
        var eH0 = acts.Add("h0", b, vae ? h : 0);
        var eC0 = acts.Add("c0", b, vae ? h : 0);
        var eDecEmb = acts.Add("dec.embedded", s * b, e);
        var eZRep = acts.Add("dec.z", s * b, zw);
        var eDecInput = acts.Add("dec.input", s * b, vae ? e + zw : 0);
        var eLogits = acts.Add("logits", s * b, v);
        var eCe = acts.Add("ce.per_row", s * b);
        var eRecon = acts.Add("recon.per_sample", b);
        var eKl = acts.Add("kl.per_sample", b);
        var eTotals = acts.Add("totals", 2);
        var eKlDim = acts.Add("kl.per_dimension", zw);
        var eDDecOut = acts.Add("d.dec.output", s * b, h);
        var eDDecInput = acts.Add("d.dec.input", s * b, vae ? e + zw : 0);
        var eDDecEmb = acts.Add("d.dec.embedded", s * b, e);
        var eDzRep = acts.Add("d.dec.z", s * b, zw);
        var eDH0 = acts.Add("d.h0", b, vae ? h : 0);
        var eDC0 = acts.Add("d.c0", b, vae ? h : 0);
        var eDInit = acts.Add("d.init", b, vae ? 2 * h : 0);
        var eDz = acts.Add("d.z", b, zw);
        var eDMu = acts.Add("d.mu", b, zw);
        var eDLogVar = acts.Add("d.logvar", b, zw);
        var eDHeads = acts.Add("d.heads", b, 2 * zw);
        var eDEncFinal = acts.Add("d.enc.final", b, vae ? 2 * h : 0);
        var eDFinalHidden = acts.Add("d.enc.h_n", vae ? 2 * config.EncoderLayers : 0, b, h);
        var eDEncEmb = acts.Add("d.enc.embedded", vae ? t * b : 0, e);
        floatBuffer = backend.Allocate(Math.Max(1L, acts.TotalLength) * sizeof(float));
        var flat = floatBuffer.AsSpan<float>();
        DeviceSpan<float> V(TensorEntry x) => TensorLayout.View(flat, x);
        (encEmb, encFinal, heads, Mu, LogVar, Noise, z, initState, h0, c0) =
            (V(eEncEmb), V(eEncFinal), V(eHeads), V(eMu), V(eLogVar), V(eNoise), V(eZ), V(eInit), V(eH0), V(eC0));
        (decEmb, zRep, decInput, logits, cePerRow, ReconPerSample, KlPerSample, LossTotals, klPerDimension) =
            (V(eDecEmb), V(eZRep), V(eDecInput), V(eLogits), V(eCe), V(eRecon), V(eKl), V(eTotals), V(eKlDim));
        (dDecOut, dDecInput, dDecEmb, dzRep, dH0, dC0, dInit, dz, dMu, dLogVar, dHeads, dEncFinal, dFinalHidden, dEncEmb) =
            (V(eDDecOut), V(eDDecInput), V(eDDecEmb), V(eDzRep), V(eDH0), V(eDC0), V(eDInit), V(eDz), V(eDMu), V(eDLogVar), V(eDHeads), V(eDEncFinal), V(eDFinalHidden), V(eDEncEmb));
    }

    public TextVaeConfig Config { get; }
    public IComputeBackend Backend => backend;
    /// <summary>The most sequences one call handles.</summary>
    public int Capacity => capacity;
    public ParameterStore Parameters { get; }
    /// <summary>The PyTorch state_dict view of the parameters, in state_dict order.</summary>
    public IReadOnlyList<NamedTensor> NamedTensors { get; }
    public long ParameterCount { get; }

    /// <summary>Standard normal numbers one sequence consumes per training step (Latent).</summary>
    public int NoisePerRow => Config.Latent;
    /// <summary>(Capacity, Latent) the reparameterization noise Forward reads.</summary>
    public DeviceSpan<float> Noise { get; }
    /// <summary>(Capacity, Latent) posterior means after Forward.</summary>
    public DeviceSpan<float> Mu { get; }
    /// <summary>(Capacity, Latent) posterior log-variances after Forward.</summary>
    public DeviceSpan<float> LogVar { get; }
    /// <summary>[sum over sequences of recon nats, sum of KL nats] after Forward.</summary>
    public DeviceSpan<float> LossTotals { get; }
    /// <summary>(Capacity) reconstruction nats per sequence after Forward.</summary>
    public DeviceSpan<float> ReconPerSample { get; }
    /// <summary>(Capacity) KL nats per sequence after Forward.</summary>
    public DeviceSpan<float> KlPerSample { get; }

    /// <summary>Sequences in the loaded batch.</summary>
    public int Rows => rows;
    /// <summary>T of the loaded batch: its longest sequence in ids.</summary>
    public int Steps => steps;
    /// <summary>Tokens the decoder predicts in the loaded batch: the sum over its sequences of len - 1 (words and &lt;eos&gt;).</summary>
    public long PredictedTokens => predictedTokens;

    /// <summary>Initializes every parameter from <paramref name="seed"/> (PyTorch's defaults: embedding N(0, 1) with a zero padding row, LSTM and Linear uniform) and zeroes gradients and Adam moments.</summary>
    public void InitializeParameters(ulong seed)
    {
        var layout = Parameters.Layout;
        var host = new float[layout.TotalLength];
        var embeddingEntry = layout["embedding.weight"];
        embedding.Initialize(host.AsSpan(embeddingEntry.Offset, embeddingEntry.Length), seed, 0);
        uint stream = 1;
        int e = Config.Embedding, h = Config.Hidden, zw = Config.Latent;
        if (encoder is not null)
        {
            stream = Lstm.Initialize(host, layout, "encoder.", e, h, Config.EncoderLayers, true, seed, stream);
            stream = LinearInit.FillLayers(host, Parameters, [latent, decoderInit], seed, stream);
        }
        stream = Lstm.Initialize(host, layout, "decoder.", e + zw, h, 1, false, seed, stream);
        LinearInit.FillLayers(host, Parameters, [output], seed, stream);
        LinearInit.Upload(Parameters, host);
    }

    // ------------------------------------------------------------------ batches

    /// <summary>
    /// Loads sequences <paramref name="indices"/> of a row-major id table (<paramref name="stride"/> ids per sequence,
    /// &lt;bos&gt; first, &lt;eos&gt; at lengths[i] - 1, &lt;pad&gt; after) as the batch: encoder and decoder inputs
    /// time-major, targets, lengths. Each decoder input word (not &lt;bos&gt;) becomes &lt;unk&gt; with probability
    /// <paramref name="wordDropout"/>, drawn from Philox stream (<paramref name="seed"/>, <paramref name="step"/>), so a run
    /// is reproducible and a resumed one continues the same draws. Allocates nothing.
    /// </summary>
    public void LoadBatch(ReadOnlySpan<int> tokens, int stride, ReadOnlySpan<int> lengths, ReadOnlySpan<int> indices, float wordDropout = 0f, ulong seed = 0, long step = 0)
    {
        int b = indices.Length;
        if (b < 1 || b > capacity)
            throw new ArgumentOutOfRangeException(nameof(indices), b, $"A batch holds 1 to {capacity} sequences (the model's capacity); got {b}.");
        if (!(wordDropout >= 0 && wordDropout < 1))
            throw new ArgumentOutOfRangeException(nameof(wordDropout), wordDropout, "Word dropout must be in [0, 1).");
        int t = 0;
        foreach (int i in indices)
        {
            if ((uint)i >= (uint)lengths.Length)
                throw new ArgumentOutOfRangeException(nameof(indices), i, $"Sequence {i} is outside the {lengths.Length} sequences given.");
            int length = lengths[i];
            if (length < 2 || length > stride || length > maxSteps)
                throw new ArgumentException($"Sequence {i} has length {length}; lengths must be in [2, {Math.Min(stride, maxSteps)}] (<bos> ... <eos>, at most the model's {maxSteps} ids).", nameof(lengths));
            t = Math.Max(t, length);
        }
        int s = t - 1, v = Config.Vocabulary;
        var host = hostInts.AsSpan();
        uint threshold = (uint)(wordDropout * 4294967296.0);
        long predicted = 0;
        for (int r = 0; r < b; r++)
        {
            int i = indices[r], length = lengths[i];
            var sequence = tokens.Slice(i * stride, stride);
            predicted += length - 1;
            for (int k = 0; k < t; k++)
            {
                int id = k < length ? sequence[k] : Vocabulary.Pad;
                if ((uint)id >= (uint)v)
                    throw new ArgumentException($"Sequence {i} holds token id {id} at position {k}, outside the model's vocabulary of {v}; encode the text with the checkpoint's vocabulary.", nameof(tokens));
                host[encTokensAt + k * b + r] = id;
                if (k < s)
                {
                    bool word = k > 0 && k < length - 1;
                    host[decTokensAt + k * b + r] = word && threshold > 0 && Draw(seed, step, k, r) < threshold ? Vocabulary.Unknown : id;
                    host[targetsAt + k * b + r] = k + 1 < length ? sequence[k + 1] : Vocabulary.Pad;
                    host[latentRowAt + k * b + r] = r;
                }
            }
            host[encLengthsAt + r] = length;
            host[decLengthsAt + r] = length - 1;
        }
        backend.Upload<int>(hostInts, ints);
        rows = b;
        steps = t;
        predictedTokens = predicted;
    }

    /// <summary>A 32-bit uniform word for (step, position, row) of a seed's word-dropout stream.</summary>
    static uint Draw(ulong seed, long step, int position, int row)
    {
        uint c0 = (uint)row, c1 = (uint)position, c2 = (uint)step, c3 = (uint)((ulong)step >> 32) ^ 0xd50a7u;
        Philox.Philox4x32x10(ref c0, ref c1, ref c2, ref c3, (uint)seed, (uint)(seed >> 32));
        return c0;
    }

    // ------------------------------------------------------------------ forward

    /// <summary>
    /// The training forward pass of the loaded batch with the first rows of Noise: writes the losses. Where
    /// <paramref name="feedBack"/>[t] is true (t &gt;= 1), the decoder's input at step t is its own most likely token of
    /// step t - 1 instead of the sequence's; an empty span means teacher forcing at every step (one GEMM for all input
    /// projections). Allocates nothing.
    /// </summary>
    public void Forward(ReadOnlySpan<bool> feedBack = default)
    {
        if (rows < 0) throw new InvalidOperationException("Load a batch (LoadBatch) before Forward.");
        int b = rows, t = steps, s = t - 1, e = Config.Embedding, h = Config.Hidden, zw = Config.Latent, v = Config.Vocabulary;
        var totals = LossTotals;
        if (encoder is not null)
        {
            Encode(b, t);
            backend.ReparameterizeForward(Mu.Slice(0, b * zw), LogVar.Slice(0, b * zw), Noise.Slice(0, b * zw), z.Slice(0, b * zw),
                Reparameterization.MinLogVar, Reparameterization.MaxLogVar);
            backend.KlStandardNormalForward(Mu, LogVar, KlPerSample, totals.Slice(1, 1), b, zw);
            decoderInit.Forward(backend, z, initState, b);
            backend.Split(initState, h0, c0, b, h, h);
            backend.GatherRows(z, IntView(latentRowAt, s * b), zRep, b, s * b, zw);
        }
        else
        {
            backend.Fill(KlPerSample.Slice(0, b), 0f);
            backend.Fill(totals.Slice(1, 1), 0f);
        }
        var input = encoder is not null ? decInput : decEmb;
        var decTokens = IntView(decTokensAt, s * b);
        var initialH = encoder is not null ? h0 : default;
        var initialC = encoder is not null ? c0 : default;
        bool stepwise = false;
        for (int k = 1; k < Math.Min(s, feedBack.Length); k++) stepwise |= feedBack[k];
        if (!stepwise)
        {
            embedding.Forward(decTokens, decEmb, s * b);
            if (encoder is not null) backend.Concat(decEmb, zRep, decInput, s * b, e, zw);
            decoder.Forward(input, IntView(decLengthsAt, b), initialH, initialC, s, b);
            output.Forward(backend, decoder.Output, logits, s * b);
        }
        else
        {
            decoder.BeginSteps(input, IntView(decLengthsAt, b), initialH, initialC, s, b);
            for (int k = 0; k < s; k++)
            {
                var stepTokens = decTokens.Slice(k * b, b);
                if (k > 0 && k < feedBack.Length && feedBack[k])
                    backend.ArgMaxRows(logits.Slice((k - 1) * b * v, b * v), stepTokens, b, v);
                StepInput(stepTokens, k, b, z);
                decoder.Step(k);
                output.Forward(backend, decoder.StepOutput(k), logits.Slice(k * b * v, b * v), b);
            }
        }
        backend.CrossEntropyForward(logits, IntView(targetsAt, s * b), cePerRow, totals.Slice(0, 1), s * b, v, Vocabulary.Pad);
        // Per sequence: the column sums of the (S, B) per-token losses.
        backend.Fill(ReconPerSample.Slice(0, b), 0f);
        backend.BiasGradient(cePerRow, ReconPerSample, s, b);
    }

    /// <summary>The encoder on the loaded batch (b sequences of up to t ids): the posterior's Mu and LogVar.</summary>
    void Encode(int b, int t)
    {
        int h = Config.Hidden, zw = Config.Latent, last = 2 * (Config.EncoderLayers - 1);
        embedding.Forward(IntView(encTokensAt, t * b), encEmb, t * b);
        encoder!.Forward(encEmb, IntView(encLengthsAt, b), default, default, t, b);
        backend.Concat(encoder.FinalHidden.Slice(last * b * h, b * h), encoder.FinalHidden.Slice((last + 1) * b * h, b * h), encFinal, b, h, h);
        latent.Forward(backend, encFinal, heads, b);
        backend.Split(heads, Mu, LogVar, b, zw, zw);
    }

    /// <summary>Decoder input rows of step k: the embedding of its tokens, with z beside them for a VAE.</summary>
    void StepInput(DeviceSpan<int> stepTokens, int k, int b, DeviceSpan<float> latents)
    {
        int e = Config.Embedding, zw = Config.Latent;
        var embedded = decEmb.Slice(k * b * e, b * e);
        embedding.Forward(stepTokens, embedded, b);
        if (encoder is not null) backend.Concat(embedded, latents.Slice(0, b * zw), decInput.Slice(k * b * (e + zw), b * (e + zw)), b, e, zw);
    }

    // ------------------------------------------------------------------ backward

    /// <summary>
    /// After Forward: writes into Parameters.Gradients the gradient of the batch's objective, the mean over its sequences of
    /// recon + klWeight * KL (the KL floored at <paramref name="freeBits"/> nats per latent dimension when &gt; 0). Allocates nothing.
    /// </summary>
    public void Backward(float klWeight, float freeBits)
    {
        if (rows < 0) throw new InvalidOperationException("Backward needs a batch and a Forward first.");
        int b = rows, t = steps, s = t - 1, e = Config.Embedding, h = Config.Hidden, zw = Config.Latent, v = Config.Vocabulary;
        float scale = 1f / b;
        backend.Fill(Parameters.Gradients, 0f);
        var targets = IntView(targetsAt, s * b);
        var decTokens = IntView(decTokensAt, s * b);
        backend.CrossEntropyBackward(logits, targets, logits, s * b, v, Vocabulary.Pad, scale);
        output.Backward(backend, decoder.Output, logits, dDecOut, s * b);
        if (encoder is null)
        {
            decoder.Backward(dDecOut, default, default, dDecEmb, default, default);
            embedding.Backward(decTokens, dDecEmb, s * b);
            return;
        }
        decoder.Backward(dDecOut, default, default, dDecInput, dH0, dC0);
        backend.Split(dDecInput, dDecEmb, dzRep, s * b, e, zw);
        embedding.Backward(decTokens, dDecEmb, s * b);
        backend.Concat(dH0, dC0, dInit, b, h, h);
        decoderInit.Backward(backend, z, dInit, dz, b);
        backend.ScatterAddRows(dzRep, IntView(latentRowAt, s * b), dz, b, s * b, zw);
        int n = b * zw;
        backend.ReparameterizeBackward(LogVar.Slice(0, n), Noise.Slice(0, n), dz.Slice(0, n), dMu.Slice(0, n), dLogVar.Slice(0, n),
            Reparameterization.MinLogVar, Reparameterization.MaxLogVar);
        if (freeBits > 0) backend.KlFreeBitsBackward(Mu, LogVar, dMu, dLogVar, klPerDimension, b, zw, klWeight * scale, freeBits);
        else backend.KlStandardNormalBackward(Mu, LogVar, dMu, dLogVar, b, zw, klWeight * scale);
        backend.Concat(dMu, dLogVar, dHeads, b, zw, zw);
        latent.Backward(backend, encFinal, dHeads, dEncFinal, b);
        int layers = Config.EncoderLayers, last = 2 * (layers - 1);
        if (layers > 1) backend.Fill(dFinalHidden.Slice(0, last * b * h), 0f);
        backend.Split(dEncFinal, dFinalHidden.Slice(last * b * h, b * h), dFinalHidden.Slice((last + 1) * b * h, b * h), b, h, h);
        encoder!.Backward(default, dFinalHidden.Slice(0, 2 * layers * b * h), default, dEncEmb, default, default);
        embedding.Backward(IntView(encTokensAt, t * b), dEncEmb, t * b);
    }

    // ------------------------------------------------------------------ inference

    /// <summary>
    /// Posterior means (count, Latent) of sequences <paramref name="indices"/> of an id table laid out as for
    /// <see cref="LoadBatch"/>, in chunks of Capacity. A language model has no latents (an empty array).
    /// </summary>
    public float[] EncodeMeans(ReadOnlySpan<int> tokens, int stride, ReadOnlySpan<int> lengths, ReadOnlySpan<int> indices)
    {
        int zw = Config.Latent, count = indices.Length;
        var means = new float[count * zw];
        if (encoder is null) return means;
        for (int first = 0; first < count; first += capacity)
        {
            int n = Math.Min(capacity, count - first);
            LoadBatch(tokens, stride, lengths, indices.Slice(first, n));
            Encode(n, steps);
            backend.Download(Mu.Slice(0, n * zw), means.AsSpan(first * zw, n * zw));
        }
        rows = -1;   // the batch's activations are not a training Forward's
        return means;
    }

    /// <summary>
    /// Decodes one sequence per latent row of <paramref name="latents"/> ((count, Latent); for a language model pass
    /// <paramref name="count"/> and an empty span), token by token from &lt;bos&gt; until &lt;eos&gt; or MaxLength - 1
    /// tokens, choosing each token by <paramref name="decoding"/>. Returns the token ids of each sequence, without
    /// &lt;bos&gt; and &lt;eos&gt;. Runs in chunks of Capacity.
    /// </summary>
    public int[][] Decode(ReadOnlySpan<float> latents, int count, TextDecoding decoding)
    {
        ArgumentNullException.ThrowIfNull(decoding);
        int zw = Config.Latent;
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (latents.Length != count * zw)
            throw new ArgumentException($"latents has {latents.Length} values but {count} sequences of {zw} latents need {count * zw}.", nameof(latents));
        foreach (float x in latents)
            if (!float.IsFinite(x)) throw new ArgumentException("latents contain NaN or infinite values.", nameof(latents));
        var result = new int[count][];
        for (int first = 0; first < count; first += capacity)
        {
            int n = Math.Min(capacity, count - first);
            DecodeChunk(latents.Slice(first * zw, n * zw), n, decoding, first, result.AsSpan(first, n));
        }
        return result;
    }

    void DecodeChunk(ReadOnlySpan<float> latents, int n, TextDecoding decoding, int firstRow, Span<int[]> result)
    {
        int e = Config.Embedding, h = Config.Hidden, zw = Config.Latent, v = Config.Vocabulary, s = maxSteps - 1;
        rows = -1;
        if (encoder is not null)
        {
            backend.Upload(latents, z.Slice(0, n * zw));
            decoderInit.Forward(backend, z, initState, n);
            backend.Split(initState, h0, c0, n, h, h);
        }
        var input = encoder is not null ? decInput : decEmb;
        decoder.BeginSteps(input.Slice(0, s * n * (encoder is not null ? e + zw : e)), default, encoder is not null ? h0 : default, encoder is not null ? c0 : default, s, n);
        var produced = new List<int>[n];
        var done = new bool[n];
        for (int r = 0; r < n; r++) produced[r] = [];
        var next = new int[n];
        Array.Fill(next, Vocabulary.Bos);
        var picked = new int[n];
        var rowLogits = decoding.Greedy ? null : new float[n * v];
        var decTokens = IntView(decTokensAt, s * n);
        int finished = 0;
        for (int k = 0; k < s && finished < n; k++)
        {
            var stepTokens = decTokens.Slice(k * n, n);
            backend.Upload<int>(next, stepTokens);
            StepInput(stepTokens, k, n, z);
            decoder.Step(k);
            var stepLogits = logits.Slice(k * n * v, n * v);
            output.Forward(backend, decoder.StepOutput(k), stepLogits, n);
            if (rowLogits is null)
            {
                var pickedView = IntView(pickedAt, n);
                backend.ArgMaxRows(stepLogits, pickedView, n, v);
                backend.Download<int>(pickedView, picked);
            }
            else
            {
                backend.Download<float>(stepLogits, rowLogits);
                for (int r = 0; r < n; r++) picked[r] = decoding.Choose(rowLogits.AsSpan(r * v, v), firstRow + r, k);
            }
            for (int r = 0; r < n; r++)
            {
                next[r] = picked[r];
                if (done[r]) continue;
                if (picked[r] == Vocabulary.Eos) { done[r] = true; finished++; }
                else produced[r].Add(picked[r]);
            }
        }
        for (int r = 0; r < n; r++) result[r] = [.. produced[r]];
    }

    DeviceSpan<int> IntView(int at, int length) => ints.Slice(at, length);

    public void Dispose()
    {
        encoder?.Dispose();
        decoder.Dispose();
        embedding.Dispose();
        floatBuffer.Dispose();
        intBuffer.Dispose();
        Parameters.Dispose();
    }
}
