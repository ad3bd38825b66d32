// `vae bench train --model KIND --backend cpu --batch 128 [--steps N] [--threads N] [--json]`: the median time of a
// whole training step (gather batch, noise, forward, losses, backward, Adam) of any model of the family (the seed VAE
// by default), the plain VAE's useful GEMM throughput against the FMA peak measured in the same run, and the managed
// bytes allocated per step. `--model text` times the text VAE (or its language model, --latent 0) on synthetic sentences
// instead (RunText): step time, sequences and tokens per second, GEMM throughput against the FMA peak, allocation.
using System.Diagnostics;
using System.Globalization;
using Vae.Cpu.Gemm;
using Vae.Data.Text;
using Vae.Diagnostics;
using Vae.Models;
using Vae.Models.Text;
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

       vae bench train --model text [--batch 64] [--length 24] [--steps 100] [--warmup 10] [--threads N] [--json]
                       [--vocab-size 10004] [--embedding 128] [--hidden 256] [--latent 32] [--encoder-layers 1]

Times full training steps of the text VAE (vae train --model text: word dropout 0.25, Adam 1e-3, clip 5) on random
sentences of exactly --length words (ids drawn uniformly from the vocabulary, seed 7) and prints the median and minimum
step time, sequences and predicted tokens (words and <eos>) per second, useful GEMM GFLOP/s (forward and backward of
both encoder directions, the decoder LSTM, the output layer and the linears: 3 times the forward's) against the FMA
peak measured in the same run, and managed bytes allocated per step. --latent 0 times the LSTM language model.
""";

    public static int Run(CliArgs cli)
    {
        if (cli.Flag("help")) { Console.WriteLine(Help); return 0; }
        string kind = cli.String("model") ?? "vae";
        if (kind == TextVaeConfig.KindName) return RunText(cli);
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
        var (times, allocated) = TimeSteps(Step, warmup, steps, () => profiler?.Reset());
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

    /// <summary>`vae bench train --model text`: whole TextTrainer steps on a synthetic corpus of fixed-length sentences.</summary>
    static int RunText(CliArgs cli)
    {
        int batch = cli.Int("batch", 64, 1, 4096);
        int length = cli.Int("length", 24, 1, 10_000);
        int steps = cli.Int("steps", 100, 1, 1_000_000);
        int warmup = cli.Int("warmup", 10, 1, 1_000_000);
        int vocabularySize = cli.Int("vocab-size", 10_004, Vocabulary.SpecialCount + 1, 10_000_000);
        int embedding = cli.Int("embedding", 128, 1, 65536), hidden = cli.Int("hidden", 256, 1, 65536);
        int latent = cli.Int("latent", 32, 0, 65536), encoderLayers = cli.Int("encoder-layers", 1, 1, 16);
        bool json = cli.Flag("json");
        var inner = CommonOptions.Backend(cli);
        cli.RejectUnknown();
        double peakPerCore = inner.Name is "cpu" or "reference" ? FmaPeak.MeasureGflops(TimeSpan.FromMilliseconds(100), repetitions: 5) : double.NaN;
        int usedThreads = inner is Vae.Cpu.CpuBackend cpu ? cpu.Pool.ThreadCount : 1;
        using IComputeBackend backend = inner;

        var config = new TextVaeConfig(vocabularySize, embedding, hidden, latent, length + 2, encoderLayers);
        var data = SyntheticSentences(vocabularySize, length, Math.Max(2048, batch), seed: 7);
        using var model = new TextVaeModel(backend, config, batch);
        model.InitializeParameters(1);
        var options = new TextTrainingOptions(new TrainingOptions
        {
            BatchSize = batch,
            Epochs = 1,
            Adam = new AdamSettings(1e-3f),
            ClipNorm = 5f,
            Seed = 7,
        }, WordDropout: 0.25f, MaxTokens: length);
        using var trainer = new TextTrainer(model, data, null, options, new TrainingState());
        var order = new int[data.Count];
        Shuffle.Permutation(order, 1, 1);

        int position = 0;
        long tokens = 0;
        void Step()
        {
            if (position + batch > order.Length) position = 0;
            trainer.TrainStep(order.AsSpan(position, batch));
            tokens += model.PredictedTokens;
            position += batch;
        }
        var (times, allocated) = TimeSteps(Step, warmup, steps, () => tokens = 0);
        double median = times[steps / 2], tokensPerStep = (double)tokens / steps;
        double gflops = TextUsefulFlopsPerStep(config, batch, length) / (median * 1e-3) / 1e9;
        double peak = peakPerCore * usedThreads;
        double sequencesPerSecond = batch / (median * 1e-3), tokensPerSecond = tokensPerStep / (median * 1e-3);
        string variant = config.IsLanguageModel ? "lm" : "vae";
        var inv = CultureInfo.InvariantCulture;
        if (json)
            Console.WriteLine(string.Create(inv,
                $"{{\"engine\":\"vae\",\"model\":\"text\",\"variant\":\"{variant}\",\"backend\":\"{backend.Name}\",\"config\":\"{config.Describe()}\",\"batch\":{batch},\"length\":{length}," +
                $"\"threads\":{usedThreads},\"steps\":{steps},\"step_ms_median\":{median:F4},\"step_ms_min\":{times[0]:F4},\"sequences_per_s\":{sequencesPerSecond:F1}," +
                $"\"tokens_per_s\":{tokensPerSecond:F0},\"tokens_per_step\":{tokensPerStep:0.##},\"gflops\":{gflops:F2}," +
                $"\"peak_gflops\":{(double.IsFinite(peak) ? peak.ToString("F1", inv) : "null")},\"alloc_bytes_per_step\":{(double)allocated / steps:0.##}}}"));
        else
        {
            Console.WriteLine(string.Create(inv, $"text {config.Describe()} on {backend.Name} ({usedThreads} threads), batch {batch} of {length} words, {steps} steps after {warmup} warm-up"));
            Console.WriteLine(string.Create(inv, $"  step median {median:F3} ms (min {times[0]:F3}), {sequencesPerSecond:F0} sequences/s, {tokensPerSecond:F0} tokens/s ({tokensPerStep:0.##} predicted tokens per step)"));
            Console.WriteLine(double.IsFinite(peak)
                ? string.Create(inv, $"  useful GEMM throughput {gflops:F1} GFLOP/s = {gflops / peak:P0} of the measured FMA peak {peak:F1} GFLOP/s")
                : string.Create(inv, $"  useful GEMM throughput {gflops:F1} GFLOP/s"));
            Console.WriteLine(string.Create(inv, $"  managed allocation {(double)allocated / steps:0.##} bytes per step"));
        }
        return 0;
    }

    /// <summary>
    /// Runs <paramref name="step"/> <paramref name="warmup"/> times, then <paramref name="afterWarmup"/>, then times
    /// <paramref name="steps"/> more runs: their durations in ms, sorted, and the managed bytes all threads allocated
    /// during them.
    /// </summary>
    static (double[] SortedMs, long Allocated) TimeSteps(Action step, int warmup, int steps, Action afterWarmup)
    {
        for (int i = 0; i < warmup; i++) step();
        afterWarmup();
        var times = new double[steps];
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < steps; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            step();
            times[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        Array.Sort(times);
        return (times, allocated);
    }

    /// <summary>
    /// <paramref name="count"/> sentences of exactly <paramref name="length"/> words, each word id drawn uniformly from
    /// the non-special ids by a seeded generator, as a TextDataset (so TextTrainer reads them as it reads a corpus).
    /// The words are named "w" + id so that the vocabulary gives every one its own id.
    /// </summary>
    public static TextDataset SyntheticSentences(int vocabularySize, int length, int count, int seed)
    {
        var words = new string[vocabularySize - Vocabulary.SpecialCount];
        for (int i = 0; i < words.Length; i++) words[i] = "w" + i.ToString(CultureInfo.InvariantCulture);
        var vocabulary = Vocabulary.Build([words], Tokenizer.Words, words.Length);
        var rng = new System.Random(seed);
        var texts = new string[count];
        var sentence = new string[length];
        for (int i = 0; i < count; i++)
        {
            for (int k = 0; k < length; k++) sentence[k] = vocabulary[rng.Next(Vocabulary.SpecialCount, vocabularySize)];
            texts[i] = string.Join(' ', sentence);
        }
        return new TextDataset("synthetic", vocabulary, texts, length + 2);
    }

    /// <summary>
    /// GEMM flops of one text training step on full-length sentences of <paramref name="length"/> words (T = length + 2
    /// encoder steps, S = length + 1 decoder steps): forward 2 B (encoder: both directions of every layer, T 4H (in + H);
    /// latent 2H 2Z; decoder_init Z 2H; decoder S 4H (E + Z + H); output S H V), backward twice that (weight and input
    /// gradients: every input gradient is used, down to the embeddings).
    /// </summary>
    public static double TextUsefulFlopsPerStep(TextVaeConfig c, int batch, int length)
    {
        double h = c.Hidden, e = c.Embedding, zw = c.Latent, t = length + 2, s = length + 1;
        double macs = s * 4 * h * (e + zw + h) + s * h * c.Vocabulary;
        if (!c.IsLanguageModel)
        {
            for (int layer = 0; layer < c.EncoderLayers; layer++)
                macs += 2 * t * 4 * h * ((layer == 0 ? e : 2 * h) + h);
            macs += 2 * h * 2 * zw + zw * 2 * h;
        }
        return 3 * 2.0 * batch * macs;
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
