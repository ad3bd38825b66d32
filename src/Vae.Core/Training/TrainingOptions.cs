// Hyper-parameters of a training run and the state that a checkpoint carries between runs.
namespace Vae.Training;

public sealed record TrainingOptions
{
    /// <summary>Total epochs of the run (a resumed run continues until this many epochs are done).</summary>
    public int Epochs { get; init; } = 10;
    public int BatchSize { get; init; } = 128;
    public AdamSettings Adam { get; init; } = new(1e-3f);
    /// <summary>Clip gradients to this global L2 norm; 0 disables clipping.</summary>
    public float ClipNorm { get; init; }
    /// <summary>Seeds initialization, shuffling and the reparameterization noise.</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>Replay captured steps on backends that support it (CUDA graphs); false runs every call eagerly, for debugging.
    /// A runtime choice, not stored in checkpoints.</summary>
    public bool UseGraphs { get; init; } = true;
    /// <summary>How the KL term's weight (the model's beta times this schedule's factor) changes over the steps.</summary>
    public KlSchedule KlSchedule { get; init; } = KlSchedule.Constant;
    /// <summary>Free bits (Kingma et al. 2016): a KL floor in nats per latent dimension; the KL term becomes
    /// sum over latents of max(FreeBits, batch-mean KL of the latent), times the schedule's weight. 0 = off.</summary>
    public float FreeBits { get; init; }

    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Epochs must be >= 1.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "Batch size must be >= 1.");
        if (!(ClipNorm >= 0 && float.IsFinite(ClipNorm))) throw new ArgumentOutOfRangeException(nameof(ClipNorm), ClipNorm, "Clip norm must be finite and >= 0 (0 = off).");
        Adam.Validate();
        KlSchedule.Validate();
        if (!(FreeBits >= 0 && float.IsFinite(FreeBits)))
            throw new ArgumentOutOfRangeException(nameof(FreeBits), FreeBits, "Free bits must be finite and >= 0 nats per latent dimension (0 = off).");
        if (FreeBits > 0 && KlSchedule.Kind == KlScheduleKind.Capacity)
            throw new ArgumentException("Free bits and capacity annealing both set a target for the KL; use one of them.", nameof(FreeBits));
    }
}

/// <summary>One epoch's averages, in nats per image.</summary>
public sealed record EpochRecord(int Epoch, double TrainLoss, double TrainRecon, double TrainKl, double TestLoss, double TestRecon, double TestKl, double Seconds);

/// <summary>Where a run stands: the counters a resumed run needs to continue bit-exactly, and the history so far.</summary>
public sealed class TrainingState
{
    /// <summary>Optimizer steps taken (Adam's step count).</summary>
    public long Step { get; set; }
    /// <summary>Epochs completed.</summary>
    public int Epoch { get; set; }
    /// <summary>Next unused index of the reparameterization noise stream.</summary>
    public ulong RngOffset { get; set; }
    public List<EpochRecord> History { get; } = [];
}

/// <summary>Thrown when the loss or the parameters stop being finite; the message says where and what to try.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
