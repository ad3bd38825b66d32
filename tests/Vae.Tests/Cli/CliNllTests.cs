// `vae eval --nll [K]` end to end on a tiny trained run: the JSON carries nll, nll_k, neg_elbo_k, nll_likelihood and
// nll_seconds, equal to the library's estimate on the same checkpoint and test set; the text form prints the same nll;
// a bare --nll means K = 1000; K < 1 or a non-number is a usage error.
using System.Globalization;
using Vae.Models;
using Vae.Tests.Support;
using Vae.Training;
using Xunit;

namespace Vae.Tests.Cli;

public sealed class CliNllTests(TrainedRunFixture run) : IClassFixture<TrainedRunFixture>
{
    [Fact]
    public void Eval_json_reports_the_library_estimate()
    {
        var o = CliAssert.Json(VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.Checkpoint, "--data", run.Data.Folder, "--nll", "20", "--json"));
        double nll = o.GetProperty("nll").GetDouble(), negElbo = o.GetProperty("neg_elbo_k").GetDouble(), loss = o.GetProperty("test_loss").GetDouble();
        Assert.Equal(20, o.GetProperty("nll_k").GetInt32());
        Assert.Equal("bernoulli", o.GetProperty("nll_likelihood").GetString());
        Assert.True(o.GetProperty("nll_seconds").GetDouble() >= 0);
        Assert.True(double.IsFinite(nll) && nll > 0 && nll < negElbo, $"0 < nll < neg_elbo_k expected: {o}");
        Assert.True(nll < loss, $"with 20 samples the bound should be below the one-sample test loss: {o}");

        // The same estimate in process: same checkpoint, test set, default seed and batch (500).
        using var loaded = new CheckpointInProcess(run.Checkpoint, run.Data.Folder);
        using var weights = new VaeImportanceWeights((VaeModel)loaded.Model);
        var expected = ImportanceSampling.Run(weights, loaded.Test, 20);
        Assert.Equal(expected.Nll, nll, 9);
        Assert.Equal(expected.NegativeElbo, negElbo, 9);

        // Without --nll the fields are absent; the text form prints the same nll.
        var plain = CliAssert.Json(VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.Checkpoint, "--data", run.Data.Folder, "--json"));
        Assert.False(plain.TryGetProperty("nll", out _));
        Assert.Equal(loss, plain.GetProperty("test_loss").GetDouble());
        var text = VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.Checkpoint, "--data", run.Data.Folder, "--nll", "20");
        CliAssert.Succeeded(text);
        var line = text.StdoutLines.Single(l => l.TrimStart().StartsWith("nll ", StringComparison.Ordinal));
        Assert.Contains("K = 20", line, StringComparison.Ordinal);
        double printed = double.Parse(line.TrimStart().Split(' ')[1], CultureInfo.InvariantCulture);
        Assert.True(Math.Abs(printed - nll) <= 0.0005 + 1e-9, $"text form {line} vs JSON {nll}");
    }

    [Fact]
    public void Bare_nll_uses_1000_samples()
    {
        var o = CliAssert.Json(VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.Checkpoint, "--data", run.Data.Folder, "--nll", "--json"));
        Assert.Equal(ImportanceSampling.DefaultSamples, o.GetProperty("nll_k").GetInt32());
        Assert.True(o.GetProperty("nll").GetDouble() < o.GetProperty("neg_elbo_k").GetDouble(), o.ToString());
    }

    [Theory]
    [InlineData("0", "--nll must be in [1, 1000000] (got 0)")]
    [InlineData("many", "--nll needs an integer value (got 'many')")]
    public void Bad_k_is_a_usage_error(string k, string message)
    {
        var r = VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.Checkpoint, "--data", run.Data.Folder, "--nll", k);
        CliAssert.UsageError(r, message);
    }
}
