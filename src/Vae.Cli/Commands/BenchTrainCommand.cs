// `vae bench train --model KIND --backend cpu --batch 128 [--steps N] [--threads N] [--json]`: the median time of a
// whole training step (gather batch, noise, forward, losses, backward, Adam) of any model of the family (the seed VAE
// by default), the plain VAE's useful GEMM throughput against the FMA peak measured in the same run, and the managed
// bytes allocated per step.
using System.Diagnostics;
using System.Globalization;
using Vae.Cpu.Gemm;
using Vae.Diagnostics;
using Vae.Models;
using Vae.Training;

namespace Vae.Cli.Commands;

public static class BenchTrainCommand
{
    public const string Help = """
usage: vae bench train [--model vae] [--backend cpu] [--batch 128] [--steps 200] [--warmup 30] [--threads N]
                       [--hidden 400,400] [--latent 20] [--iwae K] [model flags of vae train] [--json] [--profile] [--no-graph]

Times full training steps of a model (--model takes the kinds and shape flags of vae train; conditional models get
random labels) on random images of Fashion-MNIST's shape and prints the median step time,
images per second, useful GEMM GFLOP/s (forward 2*B*sum(in*out), backward twice that minus the first layer's input
gradient), the CPU's FMA peak measured in the same run, and managed bytes allocated per step (all threads).
--iwae K times the importance-weighted objective (K samples per image, see vae train --help).
--profile also prints the time spent in each primitive per step (eager calls, no graphs). On --backend cuda the step
after the first is captured as a CUDA graph and replayed; --no-graph launches every kernel eagerly instead.
""";

    public static int Run(CliArgs cli)
    {
        if (cli.Flag("help")) { Console.WriteLine(Help); return 0; }
        string kind = cli.String("model") ?? "vae";
        int batch = cli.Int("batch", 128, 1, 65536);
        int steps = cli.Int("steps", 200, 1, 1_000_000);
        int warmup = cli.Int("warmup", 30, 1, 1_000_000);
        const int classes = 10;
        var config = ModelOptions.FromCli(kind, cli, 784, classes);
        bool json = cli.Flag("json");
        bool profile = cli.Flag("profile");
        bool noGraph = cli.Flag("no-graph");

        var inner = CommonOptions.Backend(cli);
        cli.RejectUnknown();
        double peakPerCore = inner.Name is "cpu" or "reference" ? FmaPeak.MeasureGflops(TimeSpan.FromMilliseconds(100), repetitions: 5) : double.NaN;
        int usedThreads = inner is Vae.Cpu.CpuBackend cpu ? cpu.Pool.ThreadCount : 1;
        var profiler = profile ? new ProfilingBackend(inner) : null;
        using IComputeBackend backend = profiler ?? inner;

        const int images = 2048;
        var data = new float[images * config.Input];
        var rng = new System.Random(7);
        for (int i = 0; i < data.Length; i++) data[i] = rng.NextSingle() < 0.5f ? 0f : rng.NextSingle();   // half the pixels 0, like clothes on black
        var labels = new byte[images];
        for (int i = 0; i < images; i++) labels[i] = (byte)rng.Next(classes);
        using var vae = config.Create(backend, batch);
        vae.InitializeParameters(1);
        using var dataset = new DeviceDataset(backend, data, images, config.Input, labels, vae.Classes);
        var options = new TrainingOptions { BatchSize = batch, Epochs = 1, UseGraphs = !noGraph };
        using var trainer = new Trainer(vae, dataset, null, options, new TrainingState());
        var order = new int[images];
        Shuffle.Permutation(order, 1, 1);

        int position = 0;
        void Step()
        {
            if (position + batch > images) position = 0;
            trainer.LoadBatch(dataset, order.AsSpan(position, batch));
            trainer.TrainStep(batch);
            position += batch;
        }
        for (int i = 0; i < warmup; i++) Step();
        profiler?.Reset();
        var times = new double[steps];
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < steps; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            Step();
            times[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        Array.Sort(times);
        double median = times[steps / 2];
        double flops = config is VaeConfig plain && plain.Kind == "vae" ? UsefulFlopsPerStep(plain, batch) : double.NaN;   // counted for the plain VAE only
        var inv = CultureInfo.InvariantCulture;
        double gflops = flops / (median * 1e-3) / 1e9;
        double peak = peakPerCore * usedThreads;
        if (json)
            Console.WriteLine(string.Create(inv,
                $"{{\"model\":\"{config.Kind}\",\"backend\":\"{backend.Name}\",\"config\":\"{config.Describe()}\",\"batch\":{batch},\"threads\":{usedThreads},\"steps\":{steps}," +
                $"\"step_ms_median\":{median:F4},\"step_ms_min\":{times[0]:F4},\"images_per_s\":{batch / (median * 1e-3):F0},\"gflops\":{(double.IsFinite(gflops) ? gflops.ToString("F1", inv) : "null")}," +
                $"\"peak_gflops\":{(double.IsFinite(peak) ? peak.ToString("F1", inv) : "null")},\"alloc_bytes_per_step\":{(double)allocated / steps:0.##},\"graph\":{(trainer.UsesGraphs ? "true" : "false")}}}"));
        else
        {
            Console.WriteLine(string.Create(inv, $"{config.Kind} {config.Describe()} on {backend.Name} ({usedThreads} threads), batch {batch}, {steps} steps after {warmup} warm-up{(trainer.UsesGraphs ? ", replayed as a CUDA graph" : "")}"));
            Console.WriteLine(string.Create(inv, $"  step median {median:F3} ms (min {times[0]:F3}), {batch / (median * 1e-3):F0} images/s"));
            if (double.IsFinite(gflops))
                Console.WriteLine(double.IsFinite(peak)
                ? string.Create(inv, $"  useful GEMM throughput {gflops:F1} GFLOP/s = {gflops / peak:P0} of the measured FMA peak {peak:F1} GFLOP/s")
                : string.Create(inv, $"  useful GEMM throughput {gflops:F1} GFLOP/s"));
            Console.WriteLine(string.Create(inv, $"  managed allocation {(double)allocated / steps:0.##} bytes per step"));
        }
        if (profiler is not null) PrintProfile(profiler, steps, median);
        return 0;
    }

    static void PrintProfile(ProfilingBackend p, int steps, double medianMs)
    {
        var inv = CultureInfo.InvariantCulture;
        double total = 0;
        var rows = new List<(string Name, double Ms, double Calls)>();
        for (int i = 0; i < ProfilingBackend.Names.Length; i++)
        {
            if (p.Calls[i] == 0) continue;
            double ms = p.Ticks[i] * 1000.0 / Stopwatch.Frequency / steps;
            total += ms;
            rows.Add((ProfilingBackend.Names[i], ms, p.Calls[i] / (double)steps));
        }
        Console.WriteLine(string.Create(inv, $"per-step time by primitive (synchronized after each call; total {total:F3} ms of a {medianMs:F3} ms median step):"));
        foreach (var r in rows.OrderByDescending(r => r.Ms))
            Console.WriteLine(string.Create(inv, $"  {r.Name,-26} {r.Ms,8:F3} ms  {100 * r.Ms / total,5:F1} %  {r.Calls,5:F1} calls"));
    }

    /// <summary>
    /// GEMM flops of one step: forward 2*B*sum(in*out), backward 2x that except the first layer's input gradient; the
    /// decoder's layers run on the K samples of each image (B * K rows).
    /// </summary>
    public static double UsefulFlopsPerStep(VaeConfig c, int batch)
    {
        int[] enc = [c.Input, .. c.Hidden];
        int[] dec = [c.Latent, .. c.Hidden.Reverse(), c.Input];
        double macs = 0;
        for (int i = 0; i + 1 < enc.Length; i++) macs += (double)enc[i] * enc[i + 1];
        macs += 2.0 * c.Latent * enc[^1];
        for (int i = 0; i + 1 < dec.Length; i++) macs += (double)c.ImportanceSamples * dec[i] * dec[i + 1];
        double firstLayer = (double)enc[0] * (enc.Length > 1 ? enc[1] : 2 * c.Latent);
        return 2.0 * batch * (3 * macs - firstLayer);
    }
}
