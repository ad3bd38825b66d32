// `vae anomaly` end to end on a tiny IDX dataset (8x8 images of four prototype shapes plus noise: horizontal bar,
// vertical bar, frame, filled quadrant): holding out the frame or the quadrant, a small VAE trained on the other
// classes detects the held-out class with an AUC well above 1/2; the JSON, the table, anomaly.csv and scores-<c>.csv
// agree with each other and with metrics recomputed from the written scores; the pictures have the documented
// layout; bad options and missing data give one clear error line.
using System.Globalization;
using System.Text.Json;
using Vae.Tests.Cli;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Anomaly;

public sealed class AnomalyRunFixture : IDisposable
{
    readonly ScratchDirectory _scratch = new();

    public static readonly string[] Settings = ["--epochs", "8", "--hidden", "32", "--latent", "3", "--batch", "32", "--lr", "3e-3"];

    public AnomalyRunFixture()
    {
        Data = TinyIdxDataset.Write(_scratch.File("data"), trainCount: 384, testCount: 96, height: 8, width: 8, gzip: true, seed: 7);
        Out = _scratch.File("out");
        Json = VaeProcess.Run(Folder, ["anomaly", "--data", Data.Folder, "--classes", "2,3", .. Settings, "--out", Out, "--json"]);
        Assert.True(Json.ExitCode == 0, Json.ToString());
    }

    public string Folder => _scratch.Path;
    public TinyIdxDataset Data { get; }
    public string Out { get; }
    /// <summary>The run with --json holding out classes 2 (frame) and 3 (quadrant).</summary>
    public VaeRunResult Json { get; }

    public string File(string name) => _scratch.File(name);

    public void Dispose() => _scratch.Dispose();
}

public sealed class CliAnomalyTests(AnomalyRunFixture run) : IClassFixture<AnomalyRunFixture>
{
    static readonly string[] Classes = ["2", "3"];

    static int GridSize(int tiles, int side) => tiles * (2 * side + 2) + 2;

    [Fact]
    public void Json_is_one_object_per_class_and_a_summary_with_a_high_auc()
    {
        var lines = run.Json.StdoutLines;
        Assert.True(lines.Length == 3, run.Json.ToString());
        var aucs = new List<double>();
        for (int k = 0; k < 2; k++)
        {
            using var doc = JsonDocument.Parse(lines[k]);
            var o = doc.RootElement;
            int c = o.GetProperty("class").GetInt32();
            Assert.Equal(int.Parse(Classes[k], CultureInfo.InvariantCulture), c);
            Assert.Equal($"class {c}", o.GetProperty("name").GetString());
            double auc = o.GetProperty("auc").GetDouble();
            Assert.True(auc > 0.9, $"class {c}: AUC {auc} should be well above 1/2\n{run.Json}");
            aucs.Add(auc);
            Assert.InRange(o.GetProperty("precision").GetDouble(), 0, 1);
            Assert.InRange(o.GetProperty("recall").GetDouble(), 0, 1);
            Assert.Equal(95, o.GetProperty("percentile").GetDouble());
            Assert.Equal("mean", o.GetProperty("score").GetString());
            Assert.Equal(run.Data.TrainLabels.Count(l => l != c), o.GetProperty("train_images").GetInt32());
            Assert.Equal(run.Data.TestLabels.Length, o.GetProperty("test_images").GetInt32());
            Assert.Equal(run.Data.TestLabels.Count(l => l == c), o.GetProperty("test_anomalies").GetInt32());
        }
        using var summary = JsonDocument.Parse(lines[2]);
        var s = summary.RootElement.GetProperty("summary");
        Assert.Equal([2, 3], s.GetProperty("classes").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(aucs.Average(), s.GetProperty("mean_auc").GetDouble(), 12);
        Assert.Equal("64-32-3", s.GetProperty("model").GetString());
        Assert.Equal(8, s.GetProperty("epochs").GetInt32());
    }

    [Fact]
    public void Progress_goes_to_stderr()
    {
        var err = run.Json.StderrLines;
        foreach (var c in Classes)
        {
            Assert.Contains(err, l => l.StartsWith($"anomaly: class {c} (class {c}) held out: training VAE 64-32-3 on ", StringComparison.Ordinal));
            Assert.Equal(8, err.Count(l => l.StartsWith($"anomaly: class {c}: epoch ", StringComparison.Ordinal)));
            Assert.Contains(err, l => l.StartsWith($"anomaly: class {c} (class {c}): AUC ", StringComparison.Ordinal));
        }
        Assert.DoesNotContain("Exception", run.Json.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Reported_metrics_follow_from_the_written_scores()
    {
        var table = File.ReadAllLines(Path.Combine(run.Out, "anomaly.csv"));
        Assert.Equal("class,name,auc,precision,recall,f1,threshold,percentile,score,train_images,test_images,test_anomalies,flagged,true_positives,seconds", table[0]);
        Assert.Equal(3, table.Length);
        for (int k = 0; k < 2; k++)
        {
            var row = table[k + 1].Split(',');
            int c = int.Parse(row[0], CultureInfo.InvariantCulture);
            double F(int i) => double.Parse(row[i], CultureInfo.InvariantCulture);
            using var doc = JsonDocument.Parse(run.Json.StdoutLines[k]);
            Assert.Equal(doc.RootElement.GetProperty("auc").GetDouble(), F(2));
            double threshold = F(6);
            Assert.Equal(doc.RootElement.GetProperty("threshold").GetDouble(), threshold);

            // Every test image's score, in order, with its true label; recount everything by brute force.
            var scores = File.ReadAllLines(Path.Combine(run.Out, $"scores-{c}.csv"));
            Assert.Equal("index,label,recon,kl,score", scores[0]);
            Assert.Equal(run.Data.TestLabels.Length + 1, scores.Length);
            var s = new double[scores.Length - 1];
            var anomaly = new bool[s.Length];
            for (int i = 0; i < s.Length; i++)
            {
                var f = scores[i + 1].Split(',');
                Assert.Equal(i.ToString(CultureInfo.InvariantCulture), f[0]);
                Assert.Equal(run.Data.TestLabels[i].ToString(CultureInfo.InvariantCulture), f[1]);
                float recon = float.Parse(f[2], CultureInfo.InvariantCulture), kl = float.Parse(f[3], CultureInfo.InvariantCulture);
                s[i] = double.Parse(f[4], CultureInfo.InvariantCulture);
                Assert.Equal((double)recon + kl, s[i]);   // the float terms are written round-trip, the score as their double sum
                anomaly[i] = run.Data.TestLabels[i] == c;
            }
            double pairs = 0;
            long tp = 0, fp = 0, fn = 0;
            for (int i = 0; i < s.Length; i++)
            {
                if (anomaly[i]) { if (s[i] > threshold) tp++; else fn++; }
                else if (s[i] > threshold) fp++;
                if (!anomaly[i]) continue;
                for (int j = 0; j < s.Length; j++)
                    if (!anomaly[j]) pairs += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
            }
            Assert.Equal(pairs / (anomaly.Count(a => a) * (double)anomaly.Count(a => !a)), F(2), 12);
            Assert.Equal(tp + fp == 0 ? 0 : tp / (double)(tp + fp), F(3), 12);
            Assert.Equal(tp / (double)(tp + fn), F(4), 12);
            Assert.Equal((tp + fp).ToString(CultureInfo.InvariantCulture), row[12]);
            Assert.Equal(tp.ToString(CultureInfo.InvariantCulture), row[13]);
        }
    }

    [Fact]
    public void Pictures_show_the_highest_and_lowest_scored_test_images()
    {
        foreach (var c in Classes)
        {
            var png = PngDecoder.Decode(File.ReadAllBytes(Path.Combine(run.Out, $"anomaly-{c}.png")));
            // 10 columns; 2 rows of the highest, a gap row, 2 rows of the lowest
            Assert.Equal((GridSize(10, 8), GridSize(5, 8)), (png.Width, png.Height));
        }
        var summary = PngDecoder.Decode(File.ReadAllBytes(Path.Combine(run.Out, "anomaly.png")));
        Assert.Equal((GridSize(17, 8), GridSize(2, 8)), (summary.Width, summary.Height));   // per class: 8, a gap, 8
    }

    [Fact]
    public void Table_lists_each_class_and_the_mean_auc()
    {
        string output = run.File("table-" + Guid.NewGuid().ToString("N"));
        var r = VaeProcess.Run(run.Folder, ["anomaly", "--data", run.Data.Folder, "--classes", "3", .. AnomalyRunFixture.Settings,
            "--percentile", "90", "--score", "sample", "--out", output]);
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = r.StdoutLines;
        Assert.Contains("threshold = 90th percentile of training scores", lines[0], StringComparison.Ordinal);
        Assert.Contains("one posterior sample", lines[0], StringComparison.Ordinal);
        Assert.Equal(["class", "name", "AUC", "precision", "recall", "F1", "threshold"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var row = lines[2].Split("  ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal("3", row[0]);
        Assert.Equal("class 3", row[1]);
        double auc = double.Parse(row[2], CultureInfo.InvariantCulture);
        Assert.True(auc > 0.9, r.ToString());
        Assert.Equal($"mean AUC {row[2]} over 1 class", lines[3]);
        Assert.Contains(lines, l => l == $"wrote {Path.Combine(output, "anomaly.csv")}");
        var csv = File.ReadAllLines(Path.Combine(output, "anomaly.csv"));
        Assert.Equal(2, csv.Length);
        Assert.Contains(",90,sample,", csv[1], StringComparison.Ordinal);
    }

    [Fact]
    public void The_nll_score_runs_and_is_named()
    {
        string output = run.File("nll-" + Guid.NewGuid().ToString("N"));
        var r = VaeProcess.Run(run.Folder, ["anomaly", "--data", run.Data.Folder, "--classes", "3", .. AnomalyRunFixture.Settings,
            "--score", "nll", "--nll-samples", "5", "--out", output]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("importance-sampled with K = 5", r.StdoutLines[0], StringComparison.Ordinal);
        Assert.Contains(",nll,", File.ReadAllLines(Path.Combine(output, "anomaly.csv"))[1], StringComparison.Ordinal);
        var bad = VaeProcess.Run(run.Folder, ["anomaly", "--data", run.Data.Folder, "--nll-samples", "5", "--out", output]);
        Assert.Equal(2, bad.ExitCode);
    }

    [Fact]
    public void Help_shows_the_usage()
    {
        var r = VaeProcess.Run(run.Folder, "anomaly", "--help");
        CliAssert.Succeeded(r);
        Assert.StartsWith("usage: vae anomaly ", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("--percentile", r.Stdout, StringComparison.Ordinal);
        var general = VaeProcess.Run(run.Folder, "help");
        Assert.Contains(general.StdoutLines, l => l.StartsWith("  anomaly ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--classes", "x", "--classes needs class numbers")]
    [InlineData("--classes", "3-1", "the range 3-1 is empty")]
    [InlineData("--classes", "1,,2", "--classes needs class numbers")]
    [InlineData("--classes", "300", "IDX labels are bytes")]
    [InlineData("--percentile", "101", "--percentile needs a number in [0, 100]")]
    [InlineData("--score", "median", "--score median")]
    [InlineData("--epochs", "0", "--epochs must be in")]
    public void Bad_options_are_usage_errors(string option, string value, string fragment)
    {
        var r = VaeProcess.Run(run.Folder, "anomaly", "--data", run.Data.Folder, option, value, "--out", run.File("unused"));
        CliAssert.UsageError(r, fragment);
        Assert.False(Directory.Exists(run.File("unused")));
    }

    [Fact]
    public void A_class_the_data_lacks_is_a_usage_error()
    {
        var r = VaeProcess.Run(run.Folder, "anomaly", "--data", run.Data.Folder, "--classes", "1,7", "--out", run.File("unused"));
        CliAssert.UsageError(r, "class 7 is not in", "labels are 0-3");
        Assert.False(Directory.Exists(run.File("unused")));
    }

    [Fact]
    public void Missing_data_is_an_input_error()
    {
        var r = VaeProcess.Run(run.Folder, "anomaly", "--data", run.File("no-such-folder"), "--out", run.File("unused"));
        CliAssert.InputError(r, "Dataset folder not found", "no-such-folder");
    }
}
