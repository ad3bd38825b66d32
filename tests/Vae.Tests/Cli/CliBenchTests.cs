// `vae bench train --json` through the real process: one JSON object with the documented keys, numbers where numbers
// belong. The timing values are only checked to be positive numbers, never compared with any threshold.
using System.Text.Json;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Cli;

public sealed class CliBenchTests : IDisposable
{
    readonly ScratchDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void BenchTrainJsonIsOneObjectWithTheDocumentedKeys()
    {
        var r = VaeProcess.Run(_folder.Path, "bench", "train", "--steps", "3", "--warmup", "1", "--hidden", "16", "--latent", "3", "--batch", "16", "--json");
        CliAssert.Succeeded(r);
        Assert.Single(r.StdoutLines);
        using var doc = JsonDocument.Parse(r.Stdout);
        var o = doc.RootElement;
        Assert.Equal(JsonValueKind.Object, o.ValueKind);
        Assert.Equal("vae", o.GetProperty("model").GetString());
        Assert.False(string.IsNullOrEmpty(o.GetProperty("backend").GetString()));
        Assert.Equal(16, o.GetProperty("batch").GetInt32());
        Assert.Equal(3, o.GetProperty("steps").GetInt32());
        // gflops is printed with one decimal, so a slow step on a busy machine may show 0.0; none can be negative
        foreach (var key in new[] { "step_ms_median", "images_per_s", "gflops", "peak_gflops", "alloc_bytes_per_step" })
        {
            Assert.True(o.GetProperty(key).ValueKind == JsonValueKind.Number, $"{key} is not a number: {r.Stdout}");
            double value = o.GetProperty(key).GetDouble();
            Assert.True(double.IsFinite(value) && value >= 0, $"{key} = {value}: {r.Stdout}");
        }
        Assert.True(o.GetProperty("step_ms_median").GetDouble() > 0 && o.GetProperty("peak_gflops").GetDouble() > 0, r.Stdout);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_folder.Path));
    }
}
