// The backend-agnostic primitive tests, run a third time: on the CUDA backend with its kernels interpreted by the PTX
// interpreter (InterpretedCudaDevice) and GEMM on the CPU in place of cuBLAS. Every kernel executes, with the
// interpreter's fault checks (out-of-bounds, uninitialised reads, races, divergent barriers), in every CI run.
using Vae.Cuda;
using Vae.Tests.Support;

namespace Vae.Tests.Primitives;

public sealed class InterpretedCudaBackendPrimitiveTests : BackendPrimitiveTests
{
    protected override IComputeBackend CreateBackend() => new CudaBackend(new InterpretedCudaDevice());
}
