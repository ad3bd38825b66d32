// The backend-agnostic primitive tests run on the SIMD CPU backend: with the shared pool (one thread per core) and
// with a single thread, so both the partitioned and the inline paths are compared with the reference.
using Vae.Cpu;

namespace Vae.Tests.Primitives;

public sealed class CpuBackendPrimitiveTests : BackendPrimitiveTests
{
    protected override IComputeBackend CreateBackend() => new CpuBackend();
}

public sealed class CpuBackendSingleThreadPrimitiveTests : BackendPrimitiveTests
{
    protected override IComputeBackend CreateBackend() => new CpuBackend(threads: 1);
}
