// The files a training run writes into its output folder, and the pictures made from a trained model: an 8x8 grid
// of samples, reconstruction pairs (inputs above, outputs below), interpolation strips and the loss curves.
using System.Globalization;
using System.Text;
using Vae.Data;
using Vae.Imaging;
using Vae.IO;
using Vae.Models;
using Vae.Training;

namespace Vae.Cli;

public static class RunFiles
{
    public const string CheckpointName = "vae.safetensors";

    /// <summary>Writes every picture and the history of a run into <paramref name="folder"/>; returns the paths written.</summary>
    public static List<string> WritePictures(string folder, ITrainableModel model, ImageDataset test, IReadOnlyList<EpochRecord> history, ulong seed)
    {
        var written = new List<string>
        {
            model.Classes > 0
                ? WriteClassSamples(Path.Combine(folder, "samples.png"), model, test.Height, test.Width, 10, seed)
                : WriteSamples(Path.Combine(folder, "samples.png"), model, test.Height, test.Width, 64, 8, seed),
            WriteReconstructions(Path.Combine(folder, "reconstructions.png"), model, test, 0, 16, 8),
            WriteInterpolations(Path.Combine(folder, "interpolations.png"), model, test, 10),
        };
        if (history.Count > 0)
        {
            written.Add(WriteLossCurves(Path.Combine(folder, "loss.svg"), history));
            written.Add(WriteHistoryCsv(Path.Combine(folder, "history.csv"), history));
        }
        return written;
    }

    public static string WriteSamples(string path, ITrainableModel model, int height, int width, int count, int columns, ulong seed)
    {
        var images = model.Sample(count, seed);
        ImageGrid.WriteGrid(path, images, count, height, width, columns, padding: 2, scale: 2);
        return path;
    }

    /// <summary>A conditional model's samples: one row of <paramref name="columns"/> per class, class 0 on top.</summary>
    public static string WriteClassSamples(string path, ITrainableModel model, int height, int width, int columns, ulong seed)
    {
        int count = model.Classes * columns;
        var labels = new int[count];
        for (int i = 0; i < count; i++) labels[i] = i / columns;
        ImageGrid.WriteGrid(path, model.Sample(count, seed, labels), count, height, width, columns, padding: 2, scale: 2);
        return path;
    }

    /// <summary>The labels of test images first .. first+count-1 for a conditional model; empty for an unconditional one.</summary>
    public static int[] LabelsFor(ITrainableModel model, ImageDataset test, int first, int count)
    {
        if (model.Classes == 0) return [];
        var labels = new int[count];
        for (int i = 0; i < count; i++) labels[i] = test.Labels[first + i];
        return labels;
    }

    /// <summary>Pairs of rows: <paramref name="columns"/> test images, then their reconstructions through the posterior mean.</summary>
    public static string WriteReconstructions(string path, ITrainableModel model, ImageDataset test, int first, int count, int columns)
    {
        CheckRange(test, first, count);
        int pixels = test.Pixels;
        var inputs = test.Images.AsSpan(first * pixels, count * pixels);
        var outputs = model.Reconstruct(inputs, count, LabelsFor(model, test, first, count));
        int rows = (count + columns - 1) / columns;
        var tiles = new float[rows * 2 * columns * pixels];
        for (int i = 0; i < count; i++)
        {
            int row = i / columns, col = i % columns;
            inputs.Slice(i * pixels, pixels).CopyTo(tiles.AsSpan(((2 * row) * columns + col) * pixels));
            outputs.AsSpan(i * pixels, pixels).CopyTo(tiles.AsSpan(((2 * row + 1) * columns + col) * pixels));
        }
        ImageGrid.WriteGrid(path, tiles, rows * 2 * columns, test.Height, test.Width, columns, padding: 2, scale: 2);
        return path;
    }

    /// <summary>One strip per pair of test images of different classes: decoded along the line between their means.</summary>
    public static string WriteInterpolations(string path, ITrainableModel model, ImageDataset test, int steps, int strips = 8)
    {
        var pairs = new List<(int A, int B)>();
        for (int i = 0; i + 1 < test.Count && pairs.Count < strips; i += 2)
            if (test.Labels[i] != test.Labels[i + 1]) pairs.Add((i, i + 1));
        var all = new List<float>();
        foreach (var (a, b) in pairs) all.AddRange(Interpolate(model, test, a, b, steps));
        ImageGrid.WriteGrid(path, all.ToArray(), pairs.Count * steps, test.Height, test.Width, steps, padding: 2, scale: 2);
        return path;
    }

    public static float[] Interpolate(ITrainableModel model, ImageDataset test, int a, int b, int steps)
    {
        CheckRange(test, a, 1);
        CheckRange(test, b, 1);
        int p = test.Pixels;
        int labelA = model.Classes > 0 ? test.Labels[a] : -1, labelB = model.Classes > 0 ? test.Labels[b] : -1;
        return model.Interpolate(test.Images.AsSpan(a * p, p), test.Images.AsSpan(b * p, p), steps, labelA, labelB);
    }

    public static string WriteLossCurves(string path, IReadOnlyList<EpochRecord> history)
    {
        var series = new List<ChartSeries>
        {
            new("train loss", history.Select(h => h.TrainLoss).ToList()),
            new("test loss", history.Select(h => h.TestLoss).ToList()),
        };
        LineChartSvg.Write(path, "VAE loss per image (nats)", "epoch", "nats per image", series);
        return path;
    }

    public static string WriteHistoryCsv(string path, IReadOnlyList<EpochRecord> history)
    {
        var sb = new StringBuilder("epoch,train_loss,train_recon,train_kl,test_loss,test_recon,test_kl,seconds\n");
        foreach (var h in history)
            sb.Append(string.Create(CultureInfo.InvariantCulture,
                $"{h.Epoch},{h.TrainLoss:R},{h.TrainRecon:R},{h.TrainKl:R},{h.TestLoss:R},{h.TestRecon:R},{h.TestKl:R},{h.Seconds:F2}\n"));
        AtomicFile.WriteAllText(path, sb.ToString());
        return path;
    }

    static void CheckRange(ImageDataset data, int first, int count)
    {
        if (first < 0 || count < 1 || first + count > data.Count)
            throw new UsageException($"Images {first}..{first + count - 1} are outside the dataset's {data.Count} images.");
    }
}
