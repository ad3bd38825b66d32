// The training loop of the VAE: seeded shuffling, fixed-size batches gathered on the backend into the model's
// preallocated input, the last partial batch kept, Adam with optional global-norm clipping, per-epoch history and a
// NaN/Inf guard. After the first step nothing here allocates on the managed heap.
// Adam's step count and the noise offset live in device memory (mirrored in State), so on a backend with graph
// capture (CUDA) the step after the first is recorded once per batch size and replayed from then on.
using Vae.Models;

namespace Vae.Training;

/// <summary>What a progress display needs after each batch (a struct: reporting allocates nothing).</summary>
public readonly record struct BatchProgress(int Epoch, int Epochs, int Batch, int Batches, long Images, long ImagesInEpoch, double Loss, double Seconds);

public interface ITrainingObserver
{
    void OnBatch(in BatchProgress progress);
    void OnEpoch(EpochRecord record);
}

public sealed class Trainer : IDisposable
{
    readonly ITrainableModel model;
    readonly IComputeBackend backend;
    readonly DeviceDataset train;
    readonly DeviceDataset? test;
    readonly int[] order;
    readonly DeviceBuffer scratch;
    readonly DeviceSpan<int> batchIndices;
    readonly DeviceSpan<float> gradientNorm;
    readonly DeviceSpan<int> finiteFlag;
    readonly DeviceSpan<int> stepCounter;     // Adam's step count on the device (State.Step)
    readonly DeviceSpan<ulong> noiseCounter;  // the noise stream's next index on the device (State.RngOffset)
    readonly float[] totals = new float[2];
    readonly int[] finiteHost = new int[1];
    readonly int[] stepHost = new int[1];
    readonly ulong[] noiseHost = new ulong[1];
    long deviceStep = -1;                     // State.Step / RngOffset as last put on the device (-1: not yet)
    ulong deviceNoise;
    int eagerSteps;
    readonly Dictionary<int, ICapturedGraph> graphs = [];

    public Trainer(ITrainableModel model, DeviceDataset train, DeviceDataset? test, TrainingOptions options, TrainingState state)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(state);
        options.Validate();
        if (options.BatchSize > model.Capacity)
            throw new ArgumentException($"Batch size {options.BatchSize} exceeds the model's capacity {model.Capacity}.", nameof(options));
        if (train.Pixels != model.Config.Input || (test is not null && test.Pixels != model.Config.Input))
            throw new ArgumentException($"The data has {train.Pixels} pixels per image but the model expects {model.Config.Input}.", nameof(train));
        if (model.Classes > 0 && (train.Classes != model.Classes || (test is not null && test.Classes != model.Classes)))
            throw new ArgumentException(
                $"The model is conditioned on {model.Classes} classes but the data carries {train.Classes} (test: {test?.Classes ?? 0}); load the DeviceDatasets with their labels and the model's class count.", nameof(train));
        this.model = model;
        backend = model.Backend;
        this.train = train;
        this.test = test;
        Options = options;
        State = state;
        order = new int[train.Count];
        scratch = backend.Allocate(64L * 3 + (long)options.BatchSize * sizeof(int));
        var floats = scratch.AsSpan<float>();
        gradientNorm = floats.Slice(0, 1);          // bytes 0..3
        stepCounter = scratch.AsSpan<int>().Slice(8, 1);     // bytes 32..35
        noiseCounter = scratch.AsSpan<ulong>().Slice(6, 1);  // bytes 48..55
        finiteFlag = scratch.AsSpan<int>().Slice(16, 1);     // bytes 64..67
        batchIndices = scratch.AsSpan<int>().Slice(32, options.BatchSize);
    }

    public TrainingOptions Options { get; }

    /// <summary>True when steps are replayed from captured graphs (a backend with <see cref="IGraphCapture"/> and
    /// <see cref="TrainingOptions.UseGraphs"/>, and a KL weight that does not change per step: a captured step
    /// bakes its scalars in).</summary>
    public bool UsesGraphs => Options.UseGraphs && backend is IGraphCapture && !Options.KlSchedule.VariesPerStep;

    /// <summary>The KL weight of optimizer step <paramref name="step"/>: the model's beta times the schedule's factor.</summary>
    public float KlWeight(long step) => model.Config.Beta * Options.KlSchedule.Factor(step);
    public TrainingState State { get; }
    public ITrainableModel Model => model;
    /// <summary>The test-set evaluation of the last epoch (null before the first epoch or without a test set).</summary>
    public EvaluationResult? LastEvaluation { get; private set; }
    public int BatchesPerEpoch => (train.Count + Options.BatchSize - 1) / Options.BatchSize;

    /// <summary>Trains until <see cref="TrainingOptions.Epochs"/> epochs are done; calls <paramref name="afterEpoch"/> (e.g. to checkpoint).</summary>
    public void Run(ITrainingObserver? observer, Action<EpochRecord>? afterEpoch = null)
    {
        while (State.Epoch < Options.Epochs)
        {
            var record = RunEpoch(observer);
            afterEpoch?.Invoke(record);
        }
    }

    /// <summary>One pass over the training set in the (seed, epoch) order, then an evaluation on the test set.</summary>
    public EpochRecord RunEpoch(ITrainingObserver? observer)
    {
        int epoch = State.Epoch + 1;
        Shuffle.Permutation(order, Options.Seed, epoch);
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        double recon = 0, kl = 0;
        int batches = BatchesPerEpoch;
        for (int b = 0; b < batches; b++)
        {
            int first = b * Options.BatchSize;
            int rows = Math.Min(Options.BatchSize, train.Count - first);
            LoadBatch(train, order.AsSpan(first, rows));
            TrainStep(rows);
            double r = totals[0], k = totals[1];
            CheckLossFinite(r, k, epoch, b, batches, State.Step);
            recon += r;
            kl += k;
            observer?.OnBatch(new BatchProgress(epoch, Options.Epochs, b + 1, batches, first + rows, train.Count,
                (recon + model.Config.Beta * kl) / (first + rows), System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds));
        }
        CheckParametersFinite(epoch);
        if (model is IEpochEndHook hook) hook.OnEpochEnd(train, epoch, Options.Seed);
        double seconds = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        recon /= train.Count;
        kl /= train.Count;
        var eval = test is null ? null : Evaluation.Run(model, test, null);
        LastEvaluation = eval;
        var record = new EpochRecord(epoch, recon + model.Config.Beta * kl, recon, kl,
            eval?.Loss ?? double.NaN, eval?.Recon ?? double.NaN, eval?.Kl ?? double.NaN, seconds);
        State.Epoch = epoch;
        State.History.Add(record);
        observer?.OnEpoch(record);
        return record;
    }

    /// <summary>Gathers dataset rows <paramref name="indices"/> into the model's input (and their one-hot labels into its condition).</summary>
    public void LoadBatch(DeviceDataset data, ReadOnlySpan<int> indices)
    {
        var idx = batchIndices.Slice(0, indices.Length);
        backend.Upload(indices, idx);
        backend.GatherRows(data.Images, idx, model.Input, data.Count, indices.Length, data.Pixels);
        if (model.Classes > 0) backend.GatherRows(data.OneHotLabels, idx, model.Condition, data.Count, indices.Length, data.Classes);
    }

    /// <summary>
    /// One optimizer step on the first <paramref name="rows"/> rows of the model's input: noise, forward, backward,
    /// clipping, Adam. Leaves [sum recon, sum KL] of the batch in <see cref="LastTotals"/>. With graphs, the first step
    /// runs eagerly (it allocates scratch and warms up cuBLAS), the next one of each batch size is captured, and every
    /// later one is a replay.
    /// </summary>
    public void TrainStep(int rows)
    {
        if (State.Step != deviceStep || State.RngOffset != deviceNoise)
        {
            // The host state changed underneath (a fresh or resumed run): put the counters on the device.
            stepHost[0] = checked((int)State.Step);
            noiseHost[0] = State.RngOffset;
            backend.Upload<int>(stepHost, stepCounter);
            backend.Upload<ulong>(noiseHost, noiseCounter);
        }
        if (!UsesGraphs || eagerSteps == 0)
        {
            StepCalls(rows);
            eagerSteps++;
        }
        else
        {
            if (!graphs.TryGetValue(rows, out var graph)) graph = CaptureStep(rows);
            graph.Replay();
        }
        State.Step++;
        State.RngOffset += (ulong)(rows * model.NoisePerRow);
        deviceStep = State.Step;
        deviceNoise = State.RngOffset;
        backend.Download<float>(model.LossTotals, totals);
    }

    // A separate method: a lambda capturing `rows` in TrainStep would allocate its closure on every call.
    ICapturedGraph CaptureStep(int rows)
    {
        var graph = ((IGraphCapture)backend).Capture(() => StepCalls(rows));
        graphs[rows] = graph;
        return graph;
    }

    /// <summary>The device work of one step; reads the step count and noise offset from device memory and advances them.</summary>
    void StepCalls(int rows)
    {
        int noise = rows * model.NoisePerRow;
        if (noise > 0) backend.RandomNormal(model.Noise.Slice(0, noise), Options.Seed, noiseCounter);
        model.Forward(rows);
        float klWeight = KlWeight(State.Step + 1);
        if (Options.KlSchedule.Kind == KlScheduleKind.Capacity)
        {
            // beta * |KL - C|: its gradient weights the KL by +-beta, by the sign of the batch-mean KL against C.
            backend.Download<float>(model.LossTotals, totals);
            double excess = totals[1] / rows - Options.KlSchedule.CapacityAt(State.Step + 1);
            klWeight = excess > 0 ? model.Config.Beta : excess < 0 ? -model.Config.Beta : 0f;
        }
        model.Backward(rows, klWeight, Options.FreeBits);
        var p = model.Parameters;
        if (Options.ClipNorm > 0)
        {
            backend.GlobalNorm(p.Gradients, gradientNorm);
            backend.ClipByNorm(p.Gradients, gradientNorm, Options.ClipNorm);
        }
        backend.AdamStep(p.Parameters, p.Gradients, p.AdamM, p.AdamV, Options.Adam, stepCounter);
        model.AfterOptimizerStep(rows);
    }

    /// <summary>[sum over rows of reconstruction nats, sum of KL nats] of the last step.</summary>
    public ReadOnlySpan<float> LastTotals => totals;

    void CheckParametersFinite(int epoch) => CheckParametersFinite(backend, model.Parameters.Parameters, finiteFlag, finiteHost, epoch, State.Step);

    /// <summary>The divergence guard of every training loop: throws when a batch's loss sums are not finite.</summary>
    internal static void CheckLossFinite(double recon, double kl, int epoch, int batch, int batches, long step)
    {
        if (!double.IsFinite(recon) || !double.IsFinite(kl))
            throw new TrainingDivergedException(
                $"Training diverged in epoch {epoch}, batch {batch + 1} of {batches} (step {step}): the loss is not finite " +
                $"(reconstruction sum {recon}, KL sum {kl}). Try a lower learning rate (--lr) or gradient clipping (--clip 1).");
    }

    /// <summary>The end-of-epoch guard of every training loop: throws when a parameter is NaN or infinite (flag and host are scratch).</summary>
    internal static void CheckParametersFinite(IComputeBackend backend, DeviceSpan<float> parameters, DeviceSpan<int> flag, int[] host, int epoch, long step)
    {
        backend.AllFinite(parameters, flag);
        backend.Download<int>(flag, host);
        if (host[0] == 0)
            throw new TrainingDivergedException(
                $"Training diverged in epoch {epoch} (step {step}): some parameters are NaN or infinite. " +
                "Try a lower learning rate (--lr) or gradient clipping (--clip 1).");
    }

    public void Dispose()
    {
        foreach (var g in graphs.Values) g.Dispose();
        graphs.Clear();
        scratch.Dispose();
    }
}
