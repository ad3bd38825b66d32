// `vae latent`: 2-D maps of a trained VAE's latent space. Encodes test images to their posterior means and writes
// scatter plots coloured by class: the means themselves for a 2-D latent space (latent-scatter.png) together with the
// decoded manifold grid (latent-manifold.png); for larger latent spaces the projection on the top two principal
// axes (latent-pca.png) and a t-SNE embedding of a subsample (latent-tsne.png).
using System.Diagnostics;
using System.Globalization;
using Vae.Analysis;
using Vae.Data;
using Vae.Imaging;
using Vae.Training;

namespace Vae.Cli.Commands;

public static class LatentCommand
{
    public const string Help = """
usage: vae latent --checkpoint FILE [--data DIR] [--out DIR] [--points 5000] [--seed 1] [--tsne | --no-tsne]
                  [--tsne-points 2000] [--perplexity 30] [--iterations 1000] [--grid 20] [--range 3] [--batch 500]

Encodes a seeded random subset of --points test images to their posterior means and draws them coloured by class
(Fashion-MNIST's class names when the data folder's path contains "fashion", else the label numbers), into the
output folder (default: the checkpoint's folder):
  latent size 2:   latent-scatter.png (the means) and latent-manifold.png (decoded --grid x --grid codes evenly
                   spaced over [-range, range]^2, z1 to the right, z2 upwards)
  latent size > 2: latent-pca.png (the means projected on their top two principal axes) and latent-tsne.png
                   (exact t-SNE of the first --tsne-points of the subset; --no-tsne skips it)
  --tsne           also draw latent-tsne.png for a 2-D latent space
  --tsne-points N  points in the t-SNE map (at most 5000; its cost grows as N^2: 2000 points take seconds)
  --perplexity P   t-SNE's effective number of neighbours (needs at least 3 P + 1 points)
  --iterations N   t-SNE gradient steps (early exaggeration 12 for the first 250, learning rate max(N / 12, 200))
  --seed S         picks the subset and t-SNE's initial layout
""" + "\n" + CommonOptions.DataHelp + CommonOptions.BackendHelp;

    public static int Run(CliArgs cli)
    {
        if (cli.Flag("help")) { Console.WriteLine(Help); return 0; }
        string path = CommonOptions.CheckpointPath(cli);
        string dataDir = CommonOptions.DataDirectory(cli);
        string? outOption = cli.String("out");
        int points = cli.Int("points", 5000, 1, 1_000_000);
        bool tsneFlag = cli.Flag("tsne"), noTsne = cli.Flag("no-tsne");
        int tsnePoints = cli.Int("tsne-points", 2000, 2, Tsne.MaxPoints);
        float perplexity = cli.Float("perplexity", 30f, 1f, 1000f);
        int iterations = cli.Int("iterations", 1000, 1, 100_000);
        int seed = cli.Int("seed", 1, 0, int.MaxValue);
        int grid = cli.Int("grid", 20, 2, 100);
        float range = cli.Float("range", 3f, 1e-3f, 1e3f);
        int batch = cli.Int("batch", 500, 1, 65536);
        int? threads = cli.Has("threads") ? cli.Int("threads", 1, 1, 4096) : null;
        if (tsneFlag && noTsne) throw new UsageException("--tsne and --no-tsne contradict each other.");
        using var backend = CommonOptions.Backend(cli);
        cli.RejectUnknown();

        var (_, model) = CommonOptions.LoadVae(backend, path, batch, "latent");
        using (model)
        {
            int latent = model.Config.Latent;
            if (latent < 2)
                throw new InvalidDataException($"{path}: the model's latent space has {latent} dimension; a 2-D latent map needs at least 2. Train with --latent 2 (or more).");
            var test = ImageDatasets.Load(dataDir, train: false);
            CommonOptions.CheckImageSize(test, model);
            if (test.Classes > ScatterPlot.Palette.Count)
                throw new InvalidDataException($"{test.Name}: labels go up to {test.Classes - 1}, but the scatter plots colour at most {ScatterPlot.Palette.Count} classes.");
            var classNames = ClassNames(dataDir, test.Classes);

            int count = Math.Min(points, test.Count);
            bool runTsne = latent > 2 ? !noTsne : tsneFlag;
            int tsneCount = Math.Min(tsnePoints, count);
            if (runTsne && tsneCount < 3 * perplexity + 1)
                throw new UsageException(string.Create(CultureInfo.InvariantCulture,
                    $"t-SNE with --perplexity {perplexity} needs at least {(int)Math.Ceiling(3 * perplexity) + 1} points, but only {tsneCount} are mapped; pass a --perplexity of at most {Math.Max(1, (tsneCount - 1) / 3)}, more --points/--tsne-points, or --no-tsne."));
            string outDir = outOption ?? Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
            Directory.CreateDirectory(outDir);

            // A seeded random subset, in random order (so that no class is systematically drawn over the others).
            var order = new int[test.Count];
            Shuffle.Permutation(order, (ulong)seed, 0);
            int pixels = test.Pixels;
            var images = new float[count * pixels];
            var labels = new byte[count];
            for (int i = 0; i < count; i++)
            {
                test.Images.AsSpan(order[i] * pixels, pixels).CopyTo(images.AsSpan(i * pixels));
                labels[i] = test.Labels[order[i]];
            }
            var clock = Stopwatch.StartNew();
            var means = model.EncodeMeans(images, count);
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine(string.Create(inv, $"encoded {count} images of {test.Name} to their {latent}-D latent means in {clock.Elapsed.TotalSeconds:F2} s"));
            foreach (float v in means)
                if (!float.IsFinite(v)) throw new InvalidDataException($"{path}: the encoder produced a non-finite latent mean; the checkpoint is broken.");

            if (latent == 2)
            {
                string scatter = Path.Combine(outDir, "latent-scatter.png");
                ScatterPlot.Write(scatter, means, labels, classNames, new ScatterPlotOptions
                {
                    Title = string.Create(inv, $"Latent means of {count} test images"),
                    XLabel = "z1",
                    YLabel = "z2",
                });
                Console.WriteLine($"wrote {scatter}");
                string manifold = Path.Combine(outDir, "latent-manifold.png");
                LatentManifold.Write(manifold, model, grid, range, test.Height, test.Width);
                Console.WriteLine(string.Create(inv, $"wrote {manifold} ({grid} x {grid} codes over [-{range}, {range}]^2)"));
            }
            else
            {
                var pca = Pca.Fit(means, count, latent);
                var projected = pca.Project(means, count);
                double r1 = 100 * pca.ExplainedRatio(0), r2 = 100 * pca.ExplainedRatio(1);
                string pcaPath = Path.Combine(outDir, "latent-pca.png");
                ScatterPlot.Write(pcaPath, projected, labels, classNames, new ScatterPlotOptions
                {
                    Title = string.Create(inv, $"PCA of the latent means of {count} test images"),
                    XLabel = string.Create(inv, $"PC1 ({r1:F1}% of variance)"),
                    YLabel = string.Create(inv, $"PC2 ({r2:F1}%)"),
                });
                Console.WriteLine(string.Create(inv, $"PCA: the first two axes hold {r1:F1} % and {r2:F1} % of the latent means' variance"));
                Console.WriteLine($"wrote {pcaPath}");
            }

            if (runTsne)
            {
                var options = new TsneOptions { Perplexity = perplexity, Iterations = iterations, Seed = (ulong)seed, Threads = threads };
                clock.Restart();
                var result = Tsne.Embed(means.AsSpan(0, tsneCount * latent), tsneCount, latent, options);
                double seconds = clock.Elapsed.TotalSeconds;
                Console.WriteLine(string.Create(inv,
                    $"t-SNE: {tsneCount} points, perplexity {perplexity}, {iterations} iterations in {seconds:F2} s; KL {result.KlHistory[0].Kl:F3} -> {result.FinalKl:F3}"));
                string tsnePath = Path.Combine(outDir, "latent-tsne.png");
                ScatterPlot.Write(tsnePath, result.Embedding, labels.AsSpan(0, tsneCount), classNames, new ScatterPlotOptions
                {
                    Title = string.Create(inv, $"t-SNE of the latent means of {tsneCount} test images"),
                    XLabel = "t-SNE 1",
                    YLabel = "t-SNE 2",
                });
                Console.WriteLine($"wrote {tsnePath}");
            }
        }
        return 0;
    }

    /// <summary>Fashion-MNIST's names for a folder whose path says fashion, else the label numbers.</summary>
    static List<string> ClassNames(string dataDir, int classes)
    {
        bool fashion = Path.GetFullPath(dataDir).Contains("fashion", StringComparison.OrdinalIgnoreCase) && classes <= ScatterPlot.FashionMnistClasses.Count;
        return Enumerable.Range(0, Math.Max(classes, 1))
            .Select(c => fashion ? ScatterPlot.FashionMnistClasses[c] : c.ToString(CultureInfo.InvariantCulture)).ToList();
    }
}
