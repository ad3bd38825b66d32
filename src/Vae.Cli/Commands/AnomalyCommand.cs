// `vae anomaly`: one-class-out anomaly detection with the VAE. For each held-out class c in turn it trains a fresh VAE
// on the training images of every other class, scores every image by its negative ELBO (Vae.Anomaly.AnomalyScores),
// sets the threshold at a percentile of the training images' scores, and reports how well the test-set scores pick
// out class c: ROC AUC, and precision, recall and F1 of "score > threshold". Writes a table (stdout, or JSON lines),
// anomaly.csv, per-class scores, and pictures of the highest- and lowest-scored test images. Progress goes to stderr.
using System.Globalization;
using System.Text;
using System.Text.Json;
using Vae.Anomaly;
using Vae.Data;
using Vae.Imaging;
using Vae.IO;
using Vae.Models;
using Vae.Training;

namespace Vae.Cli.Commands;

public static class AnomalyCommand
{
    public const string Help = """
usage: vae anomaly [--data DIR] [--epochs 5] [--classes 0-9] [--percentile 95] [--score mean|sample|nll]
                   [--hidden 400,400] [--latent 20] [--batch 128] [--lr 1e-3] [--seed 1]
                   [--out runs/anomaly] [--json] [--backend cpu] [--threads N]

One-class-out anomaly detection. For each held-out class c: trains a fresh VAE (default 784-400-400-20, BCE + KL,
Adam) on the training images of every class but c, scores every image by its negative ELBO (reconstruction nats +
KL nats), takes the --percentile of the training images' scores as the threshold, and reports for the test set,
with class c as the anomalies: the ROC AUC (exact, ties counted one half) and the precision, recall and F1 of
flagging scores above the threshold. Prints a table and the mean AUC (--json: one object per class, then a summary).

Writes into the output folder: anomaly.csv (the table), anomaly-<c>.png (the 20 highest-scored test images above a
gap and the 20 lowest-scored), anomaly.png (one row per class: the 8 highest, a gap, the 8 lowest), scores-<c>.csv
(every test image's label, reconstruction, KL and score). Progress goes to stderr.

  --classes LIST     held-out classes, e.g. 0-9, 3 or 0,2,5-7 (default: every class in the data)
  --percentile P     threshold = the P-th percentile (0-100, linear interpolation) of the training scores
  --score mean|sample|nll  recon + KL at the posterior mean (default, deterministic) or at one fixed-seed sample, or
                     the importance-sampled estimate of -log p(x) (--nll-samples K, default 100; slower)
  --epochs N         training epochs per held-out class
Class names are Fashion-MNIST's for a ten-class set (digits for a folder named like MNIST), else 'class K'.
""" + "\n" + CommonOptions.DataHelp + CommonOptions.BackendHelp;

    static readonly string[] FashionMnistNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    const int PictureColumns = 10, PictureRows = 2, SummaryCount = 8;

    sealed record ClassResult(int Class, string Name, AnomalyEvaluation Evaluation, int TrainImages, int TestImages, double Seconds);

    public static int Run(CliArgs cli)
    {
        if (cli.Flag("help")) { Console.WriteLine(Help); return 0; }
        string dataDir = CommonOptions.DataDirectory(cli);
        int epochs = cli.Int("epochs", 5, 1, 100_000);
        string? classesText = cli.String("classes");
        double percentile = Percentile(cli);
        var mode = (cli.String("score") ?? "mean") switch
        {
            "mean" => AnomalyScoreMode.PosteriorMean,
            "sample" => AnomalyScoreMode.OneSample,
            "nll" => AnomalyScoreMode.Nll,
            var other => throw new UsageException($"--score {other}: use 'mean' (posterior mean), 'sample' (one fixed-seed posterior sample) or 'nll' (importance-sampled -log p(x))."),
        };
        int nllSamples = cli.Int("nll-samples", AnomalyScores.DefaultNllSamples, 1, 1_000_000);
        if (cli.Has("nll-samples") && mode != AnomalyScoreMode.Nll) throw new UsageException("--nll-samples sets the samples of --score nll: give --score nll too.");
        int[] hidden = cli.IntList("hidden", [400, 400]);
        int latent = cli.Int("latent", 20, 1, 100_000);
        var options = new TrainingOptions
        {
            Epochs = epochs,
            BatchSize = cli.Int("batch", 128, 1, 65536),
            Adam = new AdamSettings(cli.Float("lr", 1e-3f, 0f, 10f)),
            Seed = (ulong)cli.Int("seed", 1, 0, int.MaxValue),
        };
        string outDir = cli.String("out") ?? Path.Combine("runs", "anomaly");
        bool json = cli.Flag("json");
        List<int>? requested = classesText is null ? null : ParseClasses(classesText);
        using var backend = CommonOptions.Backend(cli);
        cli.RejectUnknown();

        var train = ImageDatasets.Load(dataDir, train: true);
        var test = ImageDatasets.Load(dataDir, train: false);
        if (test.Pixels != train.Pixels || test.Height != train.Height)
            throw new InvalidDataException($"{dataDir}: training images are {train.Height}x{train.Width} but test images {test.Height}x{test.Width}; both splits must have the same size.");
        int classCount = Math.Max(train.Classes, test.Classes);
        var classes = requested ?? Enumerable.Range(0, classCount).ToList();
        foreach (int c in classes)
            if (c >= classCount)
                throw new UsageException($"--classes: class {c} is not in {dataDir} (its labels are 0-{classCount - 1}).");
        var names = ClassNames(dataDir, classCount);
        foreach (int c in classes)
        {
            if (!test.Labels.Contains((byte)c))
                throw new InvalidDataException($"{dataDir}: the test set has no images of class {c} ({names[c]}), so there is nothing to detect; leave it out of --classes.");
            if (test.Labels.All(label => label == c))
                throw new InvalidDataException($"{dataDir}: every test image is of class {c} ({names[c]}), so there are no normal images to tell apart; use a test set with several classes.");
            if (train.Labels.All(label => label == c))
                throw new InvalidDataException($"{dataDir}: every training image is of class {c} ({names[c]}), so holding it out leaves nothing to train on.");
        }

        var config = new VaeConfig(train.Pixels, hidden, latent);
        var inv = CultureInfo.InvariantCulture;
        Directory.CreateDirectory(outDir);
        using var testSet = new DeviceDataset(backend, test.Images, test.Count, test.Pixels);
        var results = new List<ClassResult>();
        var summaryTiles = new List<float>();
        var written = new List<string>();
        string csvPath = Path.Combine(outDir, "anomaly.csv");
        string scoreName = mode switch { AnomalyScoreMode.PosteriorMean => "mean", AnomalyScoreMode.OneSample => "sample", _ => "nll" };
        foreach (int c in classes)
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            var (normalImages, normalCount) = WithoutClass(train, c);
            Console.Error.WriteLine(string.Create(inv,
                $"anomaly: class {c} ({names[c]}) held out: training VAE {config.Describe()} on {normalCount} images of {train.Name} for {epochs} epochs ({backend.Name})"));
            using var model = new VaeModel(backend, config, options.BatchSize);
            model.InitializeParameters(options.Seed);
            using var trainSet = new DeviceDataset(backend, normalImages, normalCount, train.Pixels);
            using (var trainer = new Trainer(model, trainSet, null, options, new TrainingState()))
                trainer.Run(new EpochLines(c));

            var trainScores = AnomalyScores.Compute(model, trainSet, mode, nllSamples);
            var testScores = AnomalyScores.Compute(model, testSet, mode, nllSamples);
            var isAnomaly = test.Labels.Select(label => label == c).ToArray();
            var evaluation = AnomalyScores.Evaluate(trainScores.Scores, testScores.Scores, isAnomaly, percentile);
            double seconds = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
            var result = new ClassResult(c, names[c], evaluation, normalCount, test.Count, seconds);
            results.Add(result);
            Console.Error.WriteLine(string.Create(inv,
                $"anomaly: class {c} ({names[c]}): AUC {evaluation.Auc:F4}, precision {evaluation.Precision:F4}, recall {evaluation.Recall:F4} at threshold {evaluation.Threshold:F2} ({seconds:F1} s)"));

            written.Add(WritePicture(Path.Combine(outDir, $"anomaly-{c}.png"), test, testScores.Scores));
            written.Add(WriteScores(Path.Combine(outDir, $"scores-{c}.csv"), test, testScores));
            AppendSummaryRow(summaryTiles, test, testScores.Scores);
            WriteTable(csvPath, results, scoreName);
            if (json) Console.WriteLine(ClassJson(result, scoreName));
        }
        string summaryPath = Path.Combine(outDir, "anomaly.png");
        ImageGrid.WriteGrid(summaryPath, summaryTiles.ToArray(), results.Count * (2 * SummaryCount + 1), test.Height, test.Width,
            2 * SummaryCount + 1, padding: 2, scale: 2);
        written.Add(summaryPath);
        written.Add(csvPath);

        double meanAuc = results.Average(r => r.Evaluation.Auc);
        if (json)
        {
            Console.WriteLine(SummaryJson(results, meanAuc, percentile, scoreName, epochs, config));
            return 0;
        }
        Console.WriteLine(string.Create(inv,
            $"held-out class detection on {test.Name}: VAE {config.Describe()}, {epochs} epochs per class, score = {(mode == AnomalyScoreMode.Nll ? $"-log p(x), importance-sampled with K = {nllSamples}" : mode == AnomalyScoreMode.PosteriorMean ? "recon + KL (posterior mean)" : "recon + KL (one posterior sample)")}, threshold = {Ordinal(percentile)} percentile of training scores"));
        int nameWidth = Math.Max(4, results.Max(r => r.Name.Length));
        Console.WriteLine($"{"class",5}  {"name".PadRight(nameWidth)}  {"AUC",6}  {"precision",9}  {"recall",6}  {"F1",6}  {"threshold",10}");
        foreach (var r in results)
        {
            var e = r.Evaluation;
            Console.WriteLine(string.Create(inv,
                $"{r.Class,5}  {r.Name.PadRight(nameWidth)}  {e.Auc,6:F4}  {e.Precision,9:F4}  {e.Recall,6:F4}  {e.F1,6:F4}  {e.Threshold,10:F2}"));
        }
        Console.WriteLine(string.Create(inv, $"mean AUC {meanAuc:F4} over {results.Count} {(results.Count == 1 ? "class" : "classes")}"));
        foreach (var path in written) Console.WriteLine($"wrote {path}");
        return 0;
    }

    /// <summary>--percentile P, a number in [0, 100] (read as a double, so 99.9 stays 99.9).</summary>
    static double Percentile(CliArgs cli)
    {
        string? text = cli.String("percentile");
        if (text is null) return AnomalyScores.DefaultPercentile;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double p) || !(p >= 0 && p <= 100))
            throw new UsageException($"--percentile needs a number in [0, 100] (got '{text}').");
        return p;
    }

    /// <summary>95 -> "95th", 1 -> "1st", 22 -> "22nd", 12 -> "12th", 99.5 -> "99.5th".</summary>
    static string Ordinal(double p)
    {
        string text = p.ToString("G", CultureInfo.InvariantCulture);
        if (p != Math.Floor(p)) return text + "th";
        int n = (int)p;
        string suffix = (n % 100) is 11 or 12 or 13 ? "th" : (n % 10) switch { 1 => "st", 2 => "nd", 3 => "rd", _ => "th" };
        return text + suffix;
    }

    /// <summary>"0-9", "3", "0,2,5-7": class indices in the order given, each once. Bad syntax is a usage error.</summary>
    internal static List<int> ParseClasses(string text)
    {
        var result = new List<int>();
        string Bad() => $"--classes needs class numbers or ranges separated by commas, e.g. 0-9, 3 or 0,2,5-7 (got '{text}').";
        foreach (var part in text.Split(','))
        {
            var ends = part.Split('-');
            if (ends.Length > 2 || !int.TryParse(ends[0], NumberStyles.None, CultureInfo.InvariantCulture, out int first))
                throw new UsageException(Bad());
            int last = first;
            if (ends.Length == 2 && !int.TryParse(ends[1], NumberStyles.None, CultureInfo.InvariantCulture, out last))
                throw new UsageException(Bad());
            if (last < first) throw new UsageException($"--classes: the range {part} is empty (write the smaller class first).");
            if (last > 255) throw new UsageException($"--classes: class {last} cannot be a label (IDX labels are bytes, 0-255).");
            for (int c = first; c <= last; c++)
                if (!result.Contains(c)) result.Add(c);
        }
        return result;
    }

    static string[] ClassNames(string dataDir, int count)
    {
        string folder = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDir))).ToLowerInvariant();
        bool digits = folder.Contains("mnist", StringComparison.Ordinal) && !folder.Contains("fashion", StringComparison.Ordinal);
        return Enumerable.Range(0, count).Select(c =>
            count == FashionMnistNames.Length ? (digits ? $"digit {c}" : FashionMnistNames[c]) : $"class {c}").ToArray();
    }

    /// <summary>The images of every class but <paramref name="heldOut"/>, in dataset order.</summary>
    static (float[] Images, int Count) WithoutClass(ImageDataset data, int heldOut)
    {
        int count = data.Labels.Count(label => label != heldOut), p = data.Pixels;
        var images = new float[(long)count * p];
        int k = 0;
        for (int i = 0; i < data.Count; i++)
            if (data.Labels[i] != heldOut)
                data.Images.AsSpan(i * p, p).CopyTo(images.AsSpan(k++ * p, p));
        return (images, count);
    }

    /// <summary>A tile of the grid's border grey: a gap between the highest- and the lowest-scored images.</summary>
    static void AddGap(List<float> tiles, int pixels)
    {
        for (int i = 0; i < pixels; i++) tiles.Add(128f / 255f);
    }

    static void AddImages(List<float> tiles, ImageDataset data, int[] indices)
    {
        foreach (int i in indices) tiles.AddRange(data.Images.AsSpan(i * data.Pixels, data.Pixels));
    }

    /// <summary>Rows of the highest-scored test images (highest first), a row of gap tiles, rows of the lowest (lowest first).</summary>
    static string WritePicture(string path, ImageDataset test, double[] scores)
    {
        var (highest, lowest) = AnomalyScores.Extremes(scores, PictureColumns * PictureRows);
        var tiles = new List<float>();
        AddImages(tiles, test, highest);
        for (int i = highest.Length; i < PictureColumns * PictureRows; i++) AddGap(tiles, test.Pixels);
        for (int i = 0; i < PictureColumns; i++) AddGap(tiles, test.Pixels);
        AddImages(tiles, test, lowest);
        int count = tiles.Count / test.Pixels;
        ImageGrid.WriteGrid(path, tiles.ToArray(), count, test.Height, test.Width, PictureColumns, padding: 2, scale: 2);
        return path;
    }

    static void AppendSummaryRow(List<float> tiles, ImageDataset test, double[] scores)
    {
        var (highest, lowest) = AnomalyScores.Extremes(scores, SummaryCount);
        AddImages(tiles, test, highest);
        for (int i = highest.Length; i < SummaryCount; i++) AddGap(tiles, test.Pixels);
        AddGap(tiles, test.Pixels);
        AddImages(tiles, test, lowest);
        for (int i = lowest.Length; i < SummaryCount; i++) AddGap(tiles, test.Pixels);
    }

    static string WriteScores(string path, ImageDataset test, AnomalyScoreSet scores)
    {
        var sb = new StringBuilder("index,label,recon,kl,score\n");
        for (int i = 0; i < scores.Count; i++)
            sb.Append(CultureInfo.InvariantCulture, $"{i},{test.Labels[i]},{scores.Recon[i]:R},{scores.Kl[i]:R},{scores.Scores[i]:R}\n");
        AtomicFile.WriteAllText(path, sb.ToString());
        return path;
    }

    static void WriteTable(string path, List<ClassResult> results, string score)
    {
        var sb = new StringBuilder("class,name,auc,precision,recall,f1,threshold,percentile,score,train_images,test_images,test_anomalies,flagged,true_positives,seconds\n");
        foreach (var r in results)
        {
            var e = r.Evaluation;
            sb.Append(CultureInfo.InvariantCulture,
                $"{r.Class},{r.Name},{e.Auc:R},{e.Precision:R},{e.Recall:R},{e.F1:R},{e.Threshold:R},{e.Percentile:R},{score},{r.TrainImages},{r.TestImages},{e.Counts.Positives},{e.Counts.Flagged},{e.Counts.TruePositives},{r.Seconds:F2}\n");
        }
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    static string ClassJson(ClassResult r, string score)
    {
        var e = r.Evaluation;
        return Json(w =>
        {
            w.WriteNumber("class", r.Class);
            w.WriteString("name", r.Name);
            w.WriteNumber("auc", e.Auc);
            w.WriteNumber("precision", e.Precision);
            w.WriteNumber("recall", e.Recall);
            w.WriteNumber("f1", e.F1);
            w.WriteNumber("threshold", e.Threshold);
            w.WriteNumber("percentile", e.Percentile);
            w.WriteString("score", score);
            w.WriteNumber("train_images", r.TrainImages);
            w.WriteNumber("test_images", r.TestImages);
            w.WriteNumber("test_anomalies", e.Counts.Positives);
            w.WriteNumber("flagged", e.Counts.Flagged);
            w.WriteNumber("true_positives", e.Counts.TruePositives);
            w.WriteNumber("false_positive_rate", e.Counts.FalsePositiveRate);
            w.WriteNumber("seconds", Math.Round(r.Seconds, 2));
        });
    }

    static string SummaryJson(List<ClassResult> results, double meanAuc, double percentile, string score, int epochs, VaeConfig config) => Json(w =>
    {
        w.WriteStartObject("summary");
        w.WriteStartArray("classes");
        foreach (var r in results) w.WriteNumberValue(r.Class);
        w.WriteEndArray();
        w.WriteNumber("mean_auc", meanAuc);
        w.WriteNumber("mean_precision", results.Average(r => r.Evaluation.Precision));
        w.WriteNumber("mean_recall", results.Average(r => r.Evaluation.Recall));
        w.WriteNumber("mean_f1", results.Average(r => r.Evaluation.F1));
        w.WriteNumber("percentile", percentile);
        w.WriteString("score", score);
        w.WriteNumber("epochs", epochs);
        w.WriteString("model", config.Describe());
        w.WriteEndObject();
    });

    static string Json(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>One stderr line per training epoch of a held-out class.</summary>
    sealed class EpochLines(int heldOut) : ITrainingObserver
    {
        public void OnBatch(in BatchProgress progress) { }

        public void OnEpoch(EpochRecord r) => Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"anomaly: class {heldOut}: epoch {r.Epoch}: train loss {r.TrainLoss:F2} (recon {r.TrainRecon:F2}, kl {r.TrainKl:F2}), {r.Seconds:F1} s"));
    }
}
