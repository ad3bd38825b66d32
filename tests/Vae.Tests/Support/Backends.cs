// Backends by name, for [Theory] tests that run on every backend: the host ones, the CUDA backend on the PTX
// interpreter ("cuda-interpreted", always available) and on a real GPU ("cuda", when this machine has one).
using Vae.Cpu;
using Vae.Cuda;
using Vae.Cuda.Device;

namespace Vae.Tests.Support;

public static class Backends
{
    /// <summary>"cpu" (shared pool), "cpu-1" (one thread), "cpu-3" (three threads), "reference", "cuda-interpreted" or "cuda".</summary>
    public static IComputeBackend Create(string name) => name switch
    {
        "cpu" => new CpuBackend(),
        "cpu-1" => new CpuBackend(threads: 1),
        "cpu-3" => new CpuBackend(threads: 3),
        "reference" => new ReferenceBackend(),
        "cuda-interpreted" => new CudaBackend(new InterpretedCudaDevice()),
        "cuda" => CudaBackend.Open(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown backend name."),
    };

    /// <summary>Null when this machine has a CUDA GPU, else why not (tests on "cuda" then pass with this message).</summary>
    public static string? CudaUnavailableReason()
    {
        int count = CudaDriverDevice.DeviceCount(out string? reason);
        return count > 0 ? null : reason;
    }
}
