// `vae bench train --json` through the real process: one JSON object with the documented keys, numbers where numbers
// belong. The timing values are only checked to be positive numbers, never compared with any threshold. The text
// model's bench (VAE and language model) must also allocate nothing per step and count the predicted tokens of its
// fixed-length sentences (words and <eos>).
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

    [Theory]
    [InlineData("3", "vae")]
    [InlineData("0", "lm")]
    public void BenchTrainTextPrintsItsFieldsAndAllocatesNothingPerStep(string latent, string variant)
    {
        var r = VaeProcess.Run(_folder.Path, "bench", "train", "--model", "text", "--steps", "4", "--warmup", "2", "--batch", "5", "--length", "6",
            "--vocab-size", "40", "--embedding", "8", "--hidden", "12", "--latent", latent, "--threads", "2", "--json");
        var o = CliAssert.Json(r);
        Assert.Equal("vae", o.GetProperty("engine").GetString());
        Assert.Equal("text", o.GetProperty("model").GetString());
        Assert.Equal(variant, o.GetProperty("variant").GetString());
        Assert.Equal(5, o.GetProperty("batch").GetInt32());
        Assert.Equal(6, o.GetProperty("length").GetInt32());
        Assert.Equal(4, o.GetProperty("steps").GetInt32());
        Assert.Equal(2, o.GetProperty("threads").GetInt32());
        foreach (var key in new[] { "step_ms_median", "step_ms_min", "sequences_per_s", "tokens_per_s", "gflops", "peak_gflops" })
        {
            Assert.True(o.GetProperty(key).ValueKind == JsonValueKind.Number, $"{key} is not a number: {r.Stdout}");
            double value = o.GetProperty(key).GetDouble();
            Assert.True(double.IsFinite(value) && value >= 0, $"{key} = {value}: {r.Stdout}");
        }
        Assert.True(o.GetProperty("step_ms_min").GetDouble() <= o.GetProperty("step_ms_median").GetDouble(), r.Stdout);
        Assert.True(o.GetProperty("peak_gflops").GetDouble() > 0, r.Stdout);
        // 5 sentences of 6 words: the decoder predicts 6 words and <eos> each, on every timed step
        Assert.Equal(5 * 7, o.GetProperty("tokens_per_step").GetDouble());
        Assert.Equal(0, o.GetProperty("alloc_bytes_per_step").GetDouble());
        Assert.Empty(Directory.EnumerateFileSystemEntries(_folder.Path));
    }

    [Fact]
    public void BenchTrainTextRejectsImageOnlyFlags()
    {
        var r = VaeProcess.Run(_folder.Path, "bench", "train", "--model", "text", "--steps", "1", "--no-graph");
        CliAssert.UsageError(r, "--no-graph");
    }
}
