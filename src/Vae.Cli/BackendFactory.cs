// Maps the --backend option to a compute backend.
using Vae.Cpu;

namespace Vae.Cli;

public static class BackendFactory
{
    public const string Names = "cpu (SIMD, all cores), reference (scalar, for checking)";

    public static IComputeBackend Create(string? name, int? threads) => (name ?? "cpu") switch
    {
        "cpu" => new CpuBackend(threads),
        "reference" => new ReferenceBackend(),
        var other => throw new UsageException($"Unknown backend '{other}'. Available here: {Names}."),
    };
}
