// Defaults for the log-variance clamp used by ReparameterizeForward/Backward.
namespace Vae;

public static class Reparameterization
{
    /// <summary>Lower clamp of log-variance: std = exp(-15) ~ 3e-7 keeps gradients finite.</summary>
    public const float MinLogVar = -30f;

    /// <summary>Upper clamp of log-variance: std = exp(10) ~ 2.2e4, exp stays far from float overflow.</summary>
    public const float MaxLogVar = 20f;
}
