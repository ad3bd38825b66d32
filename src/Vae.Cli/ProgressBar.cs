// Training progress for the terminal: a redrawn bar with throughput and ETA when stdout is a terminal, or a few plain
// lines per epoch when it is redirected to a file or pipe (so logs stay readable).
using System.Globalization;
using Vae.Training;

namespace Vae.Cli;

/// <param name="unit">What a training example is called in the lines ("images", "sentences").</param>
public sealed class ProgressBar(string unit = "images") : ITrainingObserver
{
    readonly bool interactive = !Console.IsOutputRedirected;
    readonly System.Diagnostics.Stopwatch sinceDraw = System.Diagnostics.Stopwatch.StartNew();
    int lastQuarter;

    public void OnBatch(in BatchProgress p)
    {
        var inv = CultureInfo.InvariantCulture;
        double rate = p.Images / Math.Max(p.Seconds, 1e-9);
        double eta = (p.ImagesInEpoch - p.Images) / Math.Max(rate, 1e-9);
        if (interactive)
        {
            if (sinceDraw.ElapsedMilliseconds < 100 && p.Batch != p.Batches) return;
            sinceDraw.Restart();
            const int width = 30;
            int filled = (int)(width * p.Images / p.ImagesInEpoch);
            string bar = new string('#', filled) + new string('.', width - filled);
            Console.Write(string.Create(inv, $"\repoch {p.Epoch}/{p.Epochs} [{bar}] {p.Images}/{p.ImagesInEpoch}  loss {p.Loss:F2}  {rate:F0} {unit}/s  ETA {eta:F0} s   "));
            if (p.Batch == p.Batches) Console.Write('\r' + new string(' ', 110) + '\r');
        }
        else
        {
            int quarter = (int)(4 * p.Images / p.ImagesInEpoch);
            if (p.Batch == 1) lastQuarter = 0;
            if (quarter > lastQuarter && quarter < 4)
            {
                lastQuarter = quarter;
                Console.WriteLine(string.Create(inv, $"epoch {p.Epoch}/{p.Epochs}: {p.Images}/{p.ImagesInEpoch} {unit}, loss {p.Loss:F2}, {rate:F0} {unit}/s, ETA {eta:F0} s"));
            }
        }
    }

    public void OnEpoch(EpochRecord r) => Console.WriteLine(Describe(r));

    public static string Describe(EpochRecord r) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {r.Epoch,3}  train {r.TrainLoss:F2} (recon {r.TrainRecon:F2}, kl {r.TrainKl:F2})  test {r.TestLoss:F2} (recon {r.TestRecon:F2}, kl {r.TestKl:F2})  {r.Seconds:F1} s");
}
