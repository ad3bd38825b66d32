// Hyper-parameters of Adam / AdamW, passed by value to IComputeBackend.AdamStep.
namespace Vae;

/// <summary>
/// Adam (Kingma and Ba) with PyTorch's formulas. With <see cref="Decoupled"/> false, weight decay is L2 added to the
/// gradient (torch.optim.Adam); with true, it is AdamW's decoupled decay p -= lr * wd * p (torch.optim.AdamW).
/// </summary>
public readonly record struct AdamSettings(
    float LearningRate = 1e-3f,
    float Beta1 = 0.9f,
    float Beta2 = 0.999f,
    float Epsilon = 1e-8f,
    float WeightDecay = 0f,
    bool Decoupled = false)
{
    public AdamSettings() : this(1e-3f) { }

    /// <summary>Throws when a value is outside its valid range.</summary>
    public void Validate()
    {
        if (!(LearningRate >= 0 && float.IsFinite(LearningRate))) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "Learning rate must be finite and >= 0.");
        if (!(Beta1 >= 0 && Beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(Beta1), Beta1, "Beta1 must be in [0, 1).");
        if (!(Beta2 >= 0 && Beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(Beta2), Beta2, "Beta2 must be in [0, 1).");
        if (!(Epsilon > 0 && float.IsFinite(Epsilon))) throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "Epsilon must be finite and > 0.");
        if (!(WeightDecay >= 0 && float.IsFinite(WeightDecay))) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "Weight decay must be finite and >= 0.");
    }

    /// <summary>L2 weight decay added to the gradient (Adam), or 0 when decoupled.</summary>
    public float L2 => Decoupled ? 0f : WeightDecay;

    /// <summary>The decoupled decay factor lr * wd (AdamW), or 0.</summary>
    public float DecoupledDecay => Decoupled ? LearningRate * WeightDecay : 0f;

    /// <summary>
    /// The bias-corrected step size lr / (1 - beta1^step) and sqrt(1 - beta2^step), computed in double and rounded to
    /// float as PyTorch does; the float backends all use these constants.
    /// </summary>
    public (float StepSize, float BiasCorrection2Sqrt) BiasCorrections(int step)
    {
        double biasCorrection1 = 1d - Math.Pow(Beta1, step);
        double biasCorrection2 = 1d - Math.Pow(Beta2, step);
        return ((float)(LearningRate / biasCorrection1), (float)Math.Sqrt(biasCorrection2));
    }
}
