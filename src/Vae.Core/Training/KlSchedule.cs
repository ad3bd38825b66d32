// The weight of the KL term over training, as a factor of the model's beta: constant; linear warm-up from ~0 to 1
// over the first steps (Bowman et al.); cyclical annealing (Fu et al. 2019): cycles of equal length in which the factor
// rises linearly over the first part and stays at 1 for the rest; capacity annealing (Burgess et al. 2018): the KL
// term becomes beta * |KL - C| with the capacity C rising linearly from 0 to CapacityNats over WarmupSteps, so the
// KL weight of a step is +beta or -beta by the sign of (batch-mean KL - C). Step numbers are Adam's (1 for the first
// update), so a resumed run continues the schedule exactly.
using System.Globalization;

namespace Vae.Training;

public enum KlScheduleKind { Constant, Linear, Cyclical, Capacity }

public readonly record struct KlSchedule(KlScheduleKind Kind = KlScheduleKind.Constant, long WarmupSteps = 0, long CycleSteps = 0, double RampFraction = 0.5,
    double CapacityNats = 0)
{
    public static KlSchedule Constant => default;

    /// <summary>Linear warm-up: the factor is step / steps until it reaches 1.</summary>
    public static KlSchedule Linear(long steps) => new(KlScheduleKind.Linear, WarmupSteps: steps);

    /// <summary>Cyclical: cycles of <paramref name="cycleSteps"/> steps, rising over the first <paramref name="rampFraction"/> of each.</summary>
    public static KlSchedule Cyclical(long cycleSteps, double rampFraction = 0.5) => new(KlScheduleKind.Cyclical, CycleSteps: cycleSteps, RampFraction: rampFraction);

    /// <summary>Capacity annealing: C rises linearly from 0 to <paramref name="nats"/> (per image) over <paramref name="steps"/> steps.</summary>
    public static KlSchedule Capacity(double nats, long steps) => new(KlScheduleKind.Capacity, WarmupSteps: steps, CapacityNats: nats);

    /// <summary>The capacity C (nats per image) at optimizer step <paramref name="step"/> (capacity annealing only).</summary>
    public double CapacityAt(long step) => WarmupSteps <= 0 ? CapacityNats : CapacityNats * Math.Min(1.0, step / (double)WarmupSteps);

    /// <summary>True when the factor changes from step to step (the trainer then launches each step's calls itself).</summary>
    public bool VariesPerStep => Kind != KlScheduleKind.Constant;

    /// <summary>The factor in (0, 1] for optimizer step <paramref name="step"/> (&gt;= 1); 1 for capacity annealing, whose
    /// weight depends on the batch's KL (see the trainer).</summary>
    public float Factor(long step)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(step, 1);
        switch (Kind)
        {
            case KlScheduleKind.Linear:
                return WarmupSteps <= 0 ? 1f : (float)Math.Min(1.0, step / (double)WarmupSteps);
            case KlScheduleKind.Cyclical:
                {
                    long position = (step - 1) % CycleSteps;              // 0 .. cycle - 1
                    double ramp = Math.Max(1.0, RampFraction * CycleSteps);
                    return (float)Math.Min(1.0, (position + 1) / ramp);
                }
            default:
                return 1f;
        }
    }

    public void Validate()
    {
        if (Kind == KlScheduleKind.Linear && WarmupSteps < 0)
            throw new ArgumentOutOfRangeException(nameof(WarmupSteps), WarmupSteps, "KL warm-up steps must be >= 0.");
        if (Kind == KlScheduleKind.Cyclical && CycleSteps < 1)
            throw new ArgumentOutOfRangeException(nameof(CycleSteps), CycleSteps, "A KL annealing cycle must last at least 1 step.");
        if (Kind == KlScheduleKind.Capacity && !(CapacityNats >= 0 && double.IsFinite(CapacityNats)))
            throw new ArgumentOutOfRangeException(nameof(CapacityNats), CapacityNats, "The KL capacity must be finite and >= 0 nats.");
        if (Kind == KlScheduleKind.Capacity && WarmupSteps < 0)
            throw new ArgumentOutOfRangeException(nameof(WarmupSteps), WarmupSteps, "The capacity's ramp must last >= 0 steps.");
        if (Kind == KlScheduleKind.Cyclical && !(RampFraction > 0 && RampFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(RampFraction), RampFraction, "The KL ramp fraction must be in (0, 1].");
    }

    public override string ToString() => Kind switch
    {
        KlScheduleKind.Linear => string.Create(CultureInfo.InvariantCulture, $"linear warm-up over {WarmupSteps} steps"),
        KlScheduleKind.Cyclical => string.Create(CultureInfo.InvariantCulture, $"cyclical, {CycleSteps}-step cycles rising over {RampFraction:P0}"),
        KlScheduleKind.Capacity => string.Create(CultureInfo.InvariantCulture, $"capacity |KL - C|, C rising to {CapacityNats} nats over {WarmupSteps} steps"),
        _ => "constant",
    };
}
