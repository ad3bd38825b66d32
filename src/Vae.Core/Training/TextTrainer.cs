// The training loop of the text VAE: a seeded epoch order bucketed by length (chunks of 32 batches sorted by length,
// then the batches shuffled, so a batch pads little and the order still changes every epoch), word dropout and
// teacher forcing drawn per step from the seed, the KL schedule and free bits of the common options, Adam with optional
// global-norm clipping, a NaN/Inf guard and a validation report after each epoch. After the first step nothing here
// allocates on the managed heap. Steps run eagerly (the batch's length changes the work from step to step).
using Vae.Data.Text;
using Vae.Models.Text;
using Vae.Random;

namespace Vae.Training;

public sealed class TextTrainer : IDisposable
{
    /// <summary>Batches whose sequences are sorted by length together.</summary>
    public const int BucketBatches = 32;

    readonly TextVaeModel model;
    readonly IComputeBackend backend;
    readonly TextDataset train;
    readonly TextDataset? validation;
    readonly int[] order, keys, batchOrder;
    readonly bool[] feedBack;
    readonly float[] totals = new float[2];
    readonly DeviceBuffer scratch;
    readonly DeviceSpan<float> gradientNorm;
    readonly DeviceSpan<int> finiteFlag;
    readonly int[] finiteHost = new int[1];

    public TextTrainer(TextVaeModel model, TextDataset train, TextDataset? validation, TextTrainingOptions options, TrainingState state)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(state);
        options.Validate();
        if (options.Common.BatchSize > model.Capacity)
            throw new ArgumentException($"Batch size {options.Common.BatchSize} exceeds the model's capacity {model.Capacity}.", nameof(options));
        if (train.Count == 0) throw new ArgumentException($"{train.Name} holds no sequences to train on.", nameof(train));
        TextEvaluation.CheckVocabulary(model, train);
        if (validation is not null) TextEvaluation.CheckVocabulary(model, validation);
        this.model = model;
        backend = model.Backend;
        this.train = train;
        this.validation = validation;
        Options = options;
        State = state;
        order = new int[train.Count];
        keys = new int[train.Count];
        batchOrder = new int[BatchesPerEpoch];
        feedBack = new bool[model.Config.MaxLength];
        scratch = backend.Allocate(128);
        gradientNorm = scratch.AsSpan<float>().Slice(0, 1);
        finiteFlag = scratch.AsSpan<int>().Slice(16, 1);
    }

    public TextTrainingOptions Options { get; }
    public TrainingState State { get; }
    public TextVaeModel Model => model;
    public int BatchesPerEpoch => (train.Count + Options.Common.BatchSize - 1) / Options.Common.BatchSize;
    /// <summary>The validation report of the last epoch (null before the first epoch or without validation data).</summary>
    public TextEvaluationResult? LastEvaluation { get; private set; }
    /// <summary>Predicted tokens (words and &lt;eos&gt;) of the last epoch's training steps.</summary>
    public long LastEpochTokens { get; private set; }

    /// <summary>The KL weight of optimizer step <paramref name="step"/>: beta times the schedule's factor.</summary>
    public float KlWeight(long step) => model.Config.Beta * Options.Common.KlSchedule.Factor(step);

    /// <summary>Trains until the options' epochs are done; calls <paramref name="afterEpoch"/> (e.g. to checkpoint).</summary>
    public void Run(ITrainingObserver? observer, Action<EpochRecord>? afterEpoch = null)
    {
        while (State.Epoch < Options.Common.Epochs)
        {
            var record = RunEpoch(observer);
            afterEpoch?.Invoke(record);
        }
    }

    /// <summary>
    /// The batches of epoch <paramref name="epoch"/>: writes the permuted, length-bucketed sequence order into
    /// <paramref name="sequences"/> and the order of the batches into <paramref name="batches"/>; batch j covers
    /// sequences[j B .. min((j + 1) B, n)).
    /// </summary>
    public static void EpochOrder(Span<int> sequences, Span<int> keys, Span<int> batches, ReadOnlySpan<int> lengths, int batchSize, ulong seed, int epoch)
    {
        Shuffle.Permutation(sequences, seed, epoch);
        for (int i = 0; i < sequences.Length; i++) keys[i] = lengths[sequences[i]];
        int chunk = batchSize * BucketBatches;
        for (int first = 0; first < sequences.Length; first += chunk)
        {
            int length = Math.Min(chunk, sequences.Length - first);
            keys.Slice(first, length).Sort(sequences.Slice(first, length));
        }
        Shuffle.Permutation(batches, seed, int.MinValue + epoch);
    }

    /// <summary>One pass over the training set, then a validation report.</summary>
    public EpochRecord RunEpoch(ITrainingObserver? observer)
    {
        int epoch = State.Epoch + 1, batchSize = Options.Common.BatchSize;
        EpochOrder(order, keys, batchOrder, train.Lengths, batchSize, Options.Common.Seed, epoch);
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        double recon = 0, kl = 0;
        long tokens = 0, sequences = 0;
        int batches = BatchesPerEpoch;
        for (int b = 0; b < batches; b++)
        {
            int first = batchOrder[b] * batchSize;
            int rows = Math.Min(batchSize, train.Count - first);
            TrainStep(order.AsSpan(first, rows));
            double r = totals[0], k = totals[1];
            Trainer.CheckLossFinite(r, k, epoch, b, batches, State.Step);
            recon += r;
            kl += k;
            tokens += model.PredictedTokens;
            sequences += rows;
            observer?.OnBatch(new BatchProgress(epoch, Options.Common.Epochs, b + 1, batches, sequences, train.Count,
                (recon + model.Config.Beta * kl) / sequences, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds));
        }
        Trainer.CheckParametersFinite(backend, model.Parameters.Parameters, finiteFlag, finiteHost, epoch, State.Step);
        double seconds = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        LastEpochTokens = tokens;
        recon /= train.Count;
        kl /= train.Count;
        var eval = validation is null ? null : TextEvaluation.Run(model, validation, Options.Common.Seed);
        LastEvaluation = eval;
        var record = new EpochRecord(epoch, recon + model.Config.Beta * kl, recon, kl,
            eval is null ? double.NaN : eval.Recon + model.Config.Beta * eval.Kl, eval?.Recon ?? double.NaN, eval?.Kl ?? double.NaN, seconds);
        State.Epoch = epoch;
        State.History.Add(record);
        observer?.OnEpoch(record);
        return record;
    }

    /// <summary>
    /// One optimizer step on training sequences <paramref name="indices"/>: batch (with word dropout), noise, forward
    /// (teacher forcing drawn per decoder step), backward, clipping, Adam. Leaves [sum recon, sum KL] in <see cref="LastTotals"/>.
    /// </summary>
    public void TrainStep(ReadOnlySpan<int> indices)
    {
        var common = Options.Common;
        long step = State.Step + 1;
        model.LoadBatch(train.Tokens, train.MaxLength, train.Lengths, indices, Options.WordDropout, common.Seed, step);
        int rows = indices.Length, noise = rows * model.NoisePerRow;
        if (noise > 0) backend.RandomNormal(model.Noise.Slice(0, noise), common.Seed, State.RngOffset);
        int decoderSteps = model.Steps - 1;
        bool anyFeedBack = false;
        if (Options.TeacherForcing < 1f)
            for (int k = 1; k < decoderSteps; k++)
                anyFeedBack |= feedBack[k] = Uniform(common.Seed, step, k) >= Options.TeacherForcing;
        model.Forward(anyFeedBack ? feedBack.AsSpan(0, decoderSteps) : default);
        model.Backward(KlWeight(step), common.FreeBits);
        var p = model.Parameters;
        if (common.ClipNorm > 0)
        {
            backend.GlobalNorm(p.Gradients, gradientNorm);
            backend.ClipByNorm(p.Gradients, gradientNorm, common.ClipNorm);
        }
        backend.AdamStep(p.Parameters, p.Gradients, p.AdamM, p.AdamV, common.Adam, checked((int)step));
        State.Step = step;
        State.RngOffset += (ulong)noise;
        backend.Download<float>(model.LossTotals, totals);
    }

    /// <summary>[sum over rows of reconstruction nats, sum of KL nats] of the last step.</summary>
    public ReadOnlySpan<float> LastTotals => totals;

    /// <summary>A uniform number in [0, 1) for decoder step <paramref name="position"/> of optimizer step <paramref name="step"/>.</summary>
    static double Uniform(ulong seed, long step, int position)
    {
        uint c0 = (uint)position, c1 = (uint)step, c2 = (uint)((ulong)step >> 32), c3 = 0x7f0cu;
        Philox.Philox4x32x10(ref c0, ref c1, ref c2, ref c3, (uint)seed, (uint)(seed >> 32));
        return c0 * (1.0 / 4294967296.0);
    }

    public void Dispose() => scratch.Dispose();
}
