// Maps the --backend option to a compute backend.
using Vae.Cpu;
using Vae.Cuda;

namespace Vae.Cli;

public static class BackendFactory
{
    public const string Names = "cpu (SIMD, all cores), reference (scalar, for checking), cuda (GPU 0; see 'vae info')";

    /// <summary>The backend named by --backend; cuda throws <see cref="CudaUnavailableException"/> saying why when there is no GPU.</summary>
    public static IComputeBackend Create(string? name, int? threads) => (name ?? "cpu") switch
    {
        "cpu" => new CpuBackend(threads),
        "reference" => new ReferenceBackend(),
        "cuda" => CudaBackend.Open(),
        var other => throw new UsageException($"Unknown backend '{other}'. Available: {Names}."),
    };
}
