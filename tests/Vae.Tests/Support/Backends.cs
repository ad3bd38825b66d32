// Backends by name, for [Theory] tests that run on every host backend.
using Vae.Cpu;

namespace Vae.Tests.Support;

public static class Backends
{
    /// <summary>"cpu" (shared pool), "cpu-1" (one thread), "cpu-3" (three threads) or "reference".</summary>
    public static IComputeBackend Create(string name) => name switch
    {
        "cpu" => new CpuBackend(),
        "cpu-1" => new CpuBackend(threads: 1),
        "cpu-3" => new CpuBackend(threads: 3),
        "reference" => new ReferenceBackend(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown backend name."),
    };
}
