// [GpuFact] / [GpuTheory]: tests that need a real CUDA device. Without one they are reported as skipped, with the
// reason (no driver, no device), instead of passing silently.
using Xunit;

namespace Vae.Tests.Support;

public sealed class GpuFactAttribute : FactAttribute
{
    public GpuFactAttribute()
    {
        if (Backends.CudaUnavailableReason() is string reason) Skip = $"needs a CUDA GPU: {reason}";
    }
}

public sealed class GpuTheoryAttribute : TheoryAttribute
{
    public GpuTheoryAttribute()
    {
        if (Backends.CudaUnavailableReason() is string reason) Skip = $"needs a CUDA GPU: {reason}";
    }
}
