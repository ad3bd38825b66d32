// `vae info`, `vae gradcheck` and `--backend cuda` through the real process. On a machine without a GPU (CI) CUDA is
// reported unavailable with the reason and `--backend cuda` fails with exit 1 and one line; with a GPU the same
// commands must list it and pass.
using System.Text.Json;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Cli;

public sealed class CliBackendTests : IDisposable
{
    readonly ScratchDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void InfoJsonListsTheCpuAndSaysWhetherCudaIsAvailable()
    {
        var r = VaeProcess.Run(_folder.Path, "info", "--json");
        CliAssert.Succeeded(r);
        using var doc = JsonDocument.Parse(r.Stdout);
        var o = doc.RootElement;
        Assert.True(o.GetProperty("cpu").GetProperty("cores").GetInt32() >= 1);
        var cuda = o.GetProperty("cuda");
        string? reason = Backends.CudaUnavailableReason();
        Assert.Equal(reason is null, cuda.GetProperty("available").GetBoolean());
        if (reason is null) Assert.True(cuda.GetProperty("devices").GetArrayLength() >= 1);
        else Assert.Equal(reason, cuda.GetProperty("reason").GetString());
    }

    [Fact]
    public void InfoNamesTheCudaBackendOrWhyItIsMissing()
    {
        var r = VaeProcess.Run(_folder.Path, "info");
        CliAssert.Succeeded(r);
        Assert.Contains(r.StdoutLines, l => l.StartsWith("cpu ", StringComparison.Ordinal));
        Assert.Contains(r.StdoutLines, l => l.StartsWith("cuda", StringComparison.Ordinal));
    }

    [Fact]
    public void BackendCudaWithoutAGpuIsOneClearLineAndExitOne()
    {
        string? reason = Backends.CudaUnavailableReason();
        if (reason is null) return; // a GPU is present: GpuBackendTests cover it
        var r = VaeProcess.Run(_folder.Path, "bench", "train", "--backend", "cuda", "--steps", "1");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"vae: CUDA unavailable: {reason}", Assert.Single(r.StderrLines));
    }

    [Fact]
    public void GradcheckPassesOnTheHostBackendsAndExitsZero()
    {
        var r = VaeProcess.Run(_folder.Path, "gradcheck", "--backend", "all");
        CliAssert.Succeeded(r);
        Assert.Equal(6 + (Backends.CudaUnavailableReason() is null ? 7 : 0), r.StdoutLines.Count(l => l.StartsWith("PASS", StringComparison.Ordinal)));
        Assert.EndsWith(" passed, 0 failed", r.StdoutLines[^1]);
    }

    [Fact]
    public void GradcheckRejectsAnUnknownBackend()
    {
        var r = VaeProcess.Run(_folder.Path, "gradcheck", "--backend", "tpu");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("Unknown backend 'tpu'", r.Stderr);
    }
}
