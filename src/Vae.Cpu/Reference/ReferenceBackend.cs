// The test oracle: every primitive written as plain scalar loops, accumulating in double, to be obviously correct.
// Slow on purpose. The formulas live in ReferenceMath (double in, double out) so finite-difference tests can check
// the analytic gradients in double precision; this class only converts float buffers to and from double.
namespace Vae.Cpu;

public sealed partial class ReferenceBackend : HostBackend, IComputeBackend
{
    public override string Name => "reference";
}
