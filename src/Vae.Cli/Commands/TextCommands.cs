// The text VAE's side of the CLI: `vae train --model text`, and `vae eval`, `vae sample`, `vae reconstruct` and
// `vae interpolate` when --checkpoint names a text checkpoint (the image commands hand over to these). The corpus is
// the Debian fortunes package, split by seed; a checkpoint carries its vocabulary, length cap and split seed, so every
// command sees the same sentences the run trained and was tested on.
using System.Globalization;
using System.Text;
using Vae.Checkpoints;
using Vae.Data.Text;
using Vae.IO;
using Vae.Models.Text;
using Vae.Training;

namespace Vae.Cli.Commands;

public static class TextCommands
{
    public const string TrainHelp = """
usage: vae train --model text [--corpus DIR] [--tokens word|char] [--max-tokens 48] [--vocab 10000] [--min-count 1]
                 [--embedding 128] [--hidden 256] [--latent 32] [--encoder-layers 1] [--beta 1]
                 [--word-dropout 0.25] [--teacher-forcing 1] [--kl-warmup 2 | --kl-cycle E [--kl-ramp 0.5]]
                 [--free-bits 0.25] [--epochs 10] [--batch 64] [--lr 1e-3] [--clip 5] [--seed 1] [--split-seed 1]
                 [--out runs/text] [--resume] [--force] [--backend cpu] [--threads N]

Trains a sentence VAE (Bowman et al. 2016) on the fortunes of the Debian 'fortunes' package (one example per fortune,
at most --max-tokens tokens; split 90/5/5 by --split-seed): a bidirectional LSTM encoder gives the posterior's mean and
log-variance; the LSTM decoder reads the previous token's embedding next to z at every step, and z also sets its
initial state. Against posterior collapse it uses KL annealing (--kl-warmup), word dropout and free bits.
--latent 0 trains the language-model baseline instead: the same decoder without z (no encoder, no KL).
Writes into --out: vae.safetensors (weights, Adam state, vocabulary; after every epoch), history.csv, loss.svg and
samples.txt (greedy and sampled sentences, reconstructions and an interpolation).

  --corpus DIR       a folder of fortune files ('%' lines between fortunes), all of them used; default: the 42 files of
                     /usr/share/games/fortunes (apt-get install fortunes). The checkpoint records it for vae eval.
  --tokens KIND      word (default) or char tokens
  --max-tokens N     fortunes longer than N tokens are left out (48 keeps about 81% of the word-level fortunes)
  --vocab N          at most N words (the most frequent in the training split); the rest become <unk>
  --min-count N      words seen fewer than N times in the training split become <unk>
  --embedding E      token embedding width (shared by encoder and decoder)
  --hidden H         LSTM width (per direction in the encoder)
  --latent Z         latent dimensions (0 = language model)
  --encoder-layers L stacked bidirectional encoder layers
  --word-dropout P   probability that a decoder input word is replaced by <unk> while training (default 0.25; 0 for
                     the language model, which has no z to lean on)
  --teacher-forcing R  probability that a decoder step reads the true previous token; otherwise it reads its own most
                     likely token of the step before (drawn per step and batch)
  --kl-warmup E      the KL weight rises linearly from ~0 to beta over the first E epochs (0 = constant)
  --kl-cycle E       cyclical annealing: cycles of E epochs, rising over the first --kl-ramp of each
  --free-bits L      a KL floor of L nats per latent dimension (batch mean; default 0.25, 0 = off). Without it the
                     KL collapses to ~0.04 nats per sentence within 3 epochs despite the warm-up and word dropout
""" + "\n" + CommonOptions.BackendHelp;

    public const string EvalHelp = """
usage: vae eval --checkpoint TEXT.safetensors [--split test|validation] [--nll [K]] [--corpus DIR] [--batch 64] [--json]

For a text checkpoint: recon (reconstruction NLL per predicted token: the words and <eos>), kl (per token and per
sentence), perplexity (exp of (recon + kl) per token, an upper bound; a language model's own perplexity) and
active_units (latent dimensions whose posterior mean has variance > 0.01). --nll K adds the importance-sampled
-log p(x) with K posterior samples per sentence (default 100) and its perplexity.
""";

    public const string SampleHelp = """
usage: vae sample --checkpoint TEXT.safetensors [--model text] [--count 10] [--temperature 1 | --greedy] [--top-k 0] [--seed 1] [--out FILE]

Decodes sentences from z ~ N(0, I) (a language model: from <bos>): greedy (the most likely word at every step), or
drawn from softmax(logits / temperature), optionally among the --top-k most likely words. Prints them (and writes them
to --out).
""";

    public const string ReconstructHelp = """
usage: vae reconstruct --checkpoint TEXT.safetensors "a sentence" ["another" ...] [--temperature 0] [--top-k 0] [--seed 1]

Encodes each sentence to its posterior mean and decodes it greedily (or with --temperature/--top-k), printing input and
output. Words outside the vocabulary become <unk>.
""";

    public const string InterpolateHelp = """
usage: vae interpolate --checkpoint TEXT.safetensors --from "sentence a" --to "sentence b" [--steps 7]

Decodes (greedily) --steps points on the line between the posterior means of the two sentences, both ends included.
""";

    // ------------------------------------------------------------------ train

    static readonly string[] SettingsFlags = ["tokens", "max-tokens", "vocab", "min-count", "embedding", "hidden", "latent", "encoder-layers", "beta",
        "word-dropout", "teacher-forcing", "kl-warmup", "kl-cycle", "kl-ramp", "free-bits", "batch", "lr", "clip", "seed", "split-seed"];

    public static int Train(CliArgs cli)
    {
        if (cli.Flag("help")) { Console.WriteLine(TrainHelp); return 0; }
        string outDir = cli.String("out") ?? Path.Combine("runs", "text");
        bool resume = cli.Flag("resume"), force = cli.Flag("force");
        if (resume && force) throw new UsageException("--resume and --force contradict each other.");
        int epochs = cli.Int("epochs", 10, 1, 100_000);
        string? corpusFlag = cli.String("corpus");
        string checkpointPath = Path.Combine(outDir, RunFiles.CheckpointName);

        TextVaeConfig? config = null;
        TextTrainingOptions options;
        TrainingState state;
        TextCheckpoint? checkpoint = null;
        Vocabulary? vocabulary = null;
        Tokenizer tokenizer;
        float klWarmup = 0, klCycle = 0, klRamp = 0.5f;
        int vocabCap = 0, minCount = 1;
        int embedding = 0, hidden = 0, latent = 0, encoderLayers = 0;   // the shape of a new run (a resumed one has its config)
        float beta = 1f;
        if (resume)
        {
            foreach (var flag in SettingsFlags)
                if (cli.Has(flag)) throw new UsageException($"--{flag} cannot be combined with --resume: a resumed run keeps the checkpoint's settings (only --epochs may change).");
            checkpoint = TextCheckpoint.Read(checkpointPath);
            if (checkpoint.Options is null || !checkpoint.HasOptimizerState)
                throw new InvalidDataException($"{checkpointPath}: holds weights only (no optimizer state), so it cannot be resumed; train without --resume into another --out folder.");
            config = checkpoint.Config;
            vocabulary = checkpoint.Vocabulary;
            tokenizer = vocabulary.Tokenizer;
            options = checkpoint.Options with { Common = checkpoint.Options.Common with { Epochs = epochs } };
            state = checkpoint.State;
        }
        else
        {
            // The command line says "char" (as the help does); the tokenizer's own name for the kind is "character".
            string tokens = cli.String("tokens") ?? "word";
            var kind = Tokenizer.ParseKind(tokens == "char" ? "character" : tokens) ?? throw new UsageException($"--tokens {tokens}: expected word or char.");
            tokenizer = new Tokenizer(kind);
            klWarmup = cli.Float("kl-warmup", cli.Has("kl-cycle") ? 0f : 2f, 0f, 1e6f);
            klCycle = cli.Float("kl-cycle", 0f, 0f, 1e6f);
            klRamp = cli.Float("kl-ramp", 0.5f, 1e-6f, 1f);
            if (klWarmup > 0 && klCycle > 0) throw new UsageException("--kl-warmup and --kl-cycle are different schedules: give one.");
            if (cli.Has("kl-ramp") && !(klCycle > 0)) throw new UsageException("--kl-ramp shapes the cycles of --kl-cycle: give --kl-cycle too.");
            vocabCap = cli.Int("vocab", 10_000, 1, 10_000_000);
            minCount = cli.Int("min-count", 1, 1, int.MaxValue);
            (embedding, hidden, latent) = (cli.Int("embedding", 128, 1, 65536), cli.Int("hidden", 256, 1, 65536), cli.Int("latent", 32, 0, 65536));
            encoderLayers = cli.Int("encoder-layers", 1, 1, 16);
            beta = cli.Float("beta", 1f, 0f, 1e6f);
            // Word dropout and free bits defend against posterior collapse: the language model (latent 0) has no z to lose.
            float CollapseDefault(float value) => latent == 0 ? 0f : value;
            options = new TextTrainingOptions(new TrainingOptions
            {
                Epochs = epochs,
                BatchSize = cli.Int("batch", 64, 1, 4096),
                Adam = new AdamSettings(cli.Float("lr", 1e-3f, 0f, 10f)),
                ClipNorm = cli.Float("clip", 5f, 0f, 1e9f),
                Seed = (ulong)cli.Int("seed", 1, 0, int.MaxValue),
                FreeBits = cli.Float("free-bits", CollapseDefault(0.25f), 0f, 1e6f),
            }, cli.Float("word-dropout", CollapseDefault(0.25f), 0f, 0.99f), cli.Float("teacher-forcing", 1f, 0f, 1f), cli.Int("max-tokens", 48, 1, 10_000),
                (ulong)cli.Int("split-seed", 1, 0, int.MaxValue), corpusFlag is null ? null : Path.GetFullPath(corpusFlag));
            state = new TrainingState();
            if (File.Exists(checkpointPath) && !force)
                throw new UsageException($"{checkpointPath} already exists. Pass --resume to continue that run, --force to replace it, or --out another folder.");
        }
        using var backend = CommonOptions.Backend(cli);
        cli.RejectUnknown();

        var inv = CultureInfo.InvariantCulture;
        if (resume && corpusFlag is not null) options = options with { Corpus = Path.GetFullPath(corpusFlag) };
        var corpus = LoadCorpus(tokenizer, options.MaxTokens, options.Corpus);
        var split = vocabulary is null
            ? TextSplits.Prepare("fortunes", corpus.Examples, tokenizer, options.MaxTokens, vocabCap, minCount, options.SplitSeed)
            : TextSplits.PrepareWith("fortunes", corpus.Examples, vocabulary, options.MaxTokens, options.SplitSeed);
        vocabulary = split.Vocabulary;
        config ??= new TextVaeConfig(vocabulary.Count, embedding, hidden, latent, options.MaxTokens + 2, encoderLayers, beta);
        if (!resume && (klWarmup > 0 || klCycle > 0))
        {
            long stepsPerEpoch = (split.Train.Count + options.Common.BatchSize - 1) / options.Common.BatchSize;
            long Steps(float e) => Math.Max(1, (long)Math.Round(e * stepsPerEpoch));
            options = options with { Common = options.Common with { KlSchedule = klWarmup > 0 ? KlSchedule.Linear(Steps(klWarmup)) : KlSchedule.Cyclical(Steps(klCycle), klRamp) } };
        }

        using var model = new TextVaeModel(backend, config, options.Common.BatchSize);
        if (checkpoint is not null) checkpoint.LoadInto(model, withOptimizerState: true);
        else model.InitializeParameters(options.Common.Seed);
        using var trainer = new TextTrainer(model, split.Train, split.Validation, options, state);

        Console.WriteLine(string.Create(inv, $"training text {config} ({model.ParameterCount:N0} parameters) on {corpus.Examples.Count} fortunes of <= {options.MaxTokens} {tokenizer.KindName} tokens ({corpus.TooLong} longer left out): {split.Train.Count} train / {split.Validation.Count} validation / {split.Test.Count} test"));
        Console.WriteLine(string.Create(inv, $"vocabulary {vocabulary.Count} ids, {split.Test.UnknownRate:P2} <unk> in the test split; backend {backend.Name}, batch {options.Common.BatchSize}, Adam lr {options.Common.Adam.LearningRate}, clip {options.Common.ClipNorm}, seed {options.Common.Seed}, {options.Common.Epochs} epochs -> {Path.GetFullPath(outDir)}"));
        if (!config.IsLanguageModel)
            Console.WriteLine(string.Create(inv, $"against posterior collapse: KL schedule {options.Common.KlSchedule}, word dropout {options.WordDropout}, free bits {options.Common.FreeBits}; teacher forcing {options.TeacherForcing}"));
        if (resume) Console.WriteLine(string.Create(inv, $"resuming after epoch {state.Epoch} (step {state.Step})"));

        Directory.CreateDirectory(outDir);
        var progress = new TextProgress(trainer);
        try
        {
            trainer.Run(progress, record =>
            {
                TextCheckpoint.Save(checkpointPath, model, vocabulary, options, state);
                RunFiles.WriteLossCurves(Path.Combine(outDir, "loss.svg"), state.History);
                RunFiles.WriteHistoryCsv(Path.Combine(outDir, "history.csv"), state.History);
            });
        }
        catch (TrainingDivergedException e)
        {
            Console.Error.WriteLine($"vae: {e.Message}");
            Console.Error.WriteLine(File.Exists(checkpointPath) ? $"vae: the last good checkpoint is kept unchanged: {checkpointPath}." : "vae: no checkpoint was written (the run diverged in its first epoch).");
            return 1;
        }
        var test = TextEvaluation.Run(model, split.Test, options.Common.Seed);
        Console.WriteLine("test: " + Describe(test, config));
        string samplesPath = Path.Combine(outDir, "samples.txt");
        var report = SamplesReport(model, vocabulary, split.Test, options.Common.Seed);
        AtomicFile.WriteAllText(samplesPath, report);
        Console.Write(report);
        Console.WriteLine($"checkpoint: {checkpointPath}");
        Console.WriteLine($"wrote {samplesPath}, {Path.Combine(outDir, "loss.svg")}, {Path.Combine(outDir, "history.csv")}");
        return 0;
    }

    /// <summary>Epoch lines with per-token numbers and throughput, on top of the usual progress display.</summary>
    sealed class TextProgress(TextTrainer trainer) : ITrainingObserver
    {
        readonly ProgressBar bar = new("sentences");
        public void OnBatch(in BatchProgress progress) => bar.OnBatch(progress);
        public void OnEpoch(EpochRecord r)
        {
            var inv = CultureInfo.InvariantCulture;
            var v = trainer.LastEvaluation;
            var config = trainer.Model.Config;
            string valid = v is null ? "" : config.IsLanguageModel
                ? string.Create(inv, $"  valid {v.ReconPerToken:F3} nats/token, perplexity {v.Perplexity:F1}")
                : string.Create(inv, $"  valid recon {v.ReconPerToken:F3}/token kl {v.Kl:F2}/sentence ppl<={v.Perplexity:F1} active {v.ActiveUnits}/{config.Latent}");
            string train = config.IsLanguageModel
                ? string.Create(inv, $"train {r.TrainRecon:F2}/sentence")
                : string.Create(inv, $"train {r.TrainLoss:F2}/sentence (recon {r.TrainRecon:F2}, kl {r.TrainKl:F2}, kl weight {trainer.KlWeight(Math.Max(1, trainer.State.Step)):F2})");
            Console.WriteLine(string.Create(inv, $"epoch {r.Epoch,3}  {train}{valid}  {r.Seconds:F1} s, {trainer.LastEpochTokens / r.Seconds:F0} tokens/s"));
        }
    }

    static string Describe(TextEvaluationResult r, TextVaeConfig config)
    {
        var inv = CultureInfo.InvariantCulture;
        string text = string.Create(inv, $"{r.Sequences} sentences, {r.Tokens} tokens: recon {r.ReconPerToken:F4} nats/token, kl {r.KlPerToken:F4} nats/token ({r.Kl:F3}/sentence), bound {r.BoundPerToken:F4} nats/token, perplexity <= {r.Perplexity:F2}");
        if (!config.IsLanguageModel) text += string.Create(inv, $", active units {r.ActiveUnits}/{config.Latent}");
        if (!double.IsNaN(r.ImportanceSampledNll)) text += string.Create(inv, $", nll (K = {r.ImportanceSamples}) {r.NllPerToken:F4} nats/token, perplexity {r.NllPerplexity:F2}");
        return text;
    }

    /// <summary>Greedy and sampled sentences, reconstructions of the first test sentences and one interpolation, as text.</summary>
    static string SamplesReport(TextVaeModel model, Vocabulary vocabulary, TextDataset test, ulong seed)
    {
        var sb = new StringBuilder();
        int zw = model.Config.Latent;
        var prior = PriorDraws(8, zw, seed);
        sb.AppendLine(model.Config.IsLanguageModel ? "greedy:" : "greedy from z ~ N(0, I):");
        foreach (var s in model.Decode(model.Config.IsLanguageModel ? [] : prior.AsSpan(0, zw), 1, TextDecoding.GreedyDecoding)) sb.AppendLine("  " + Words(vocabulary, s));
        sb.AppendLine("sampled (temperature 1):");
        foreach (var s in model.Decode(prior, 8, new TextDecoding(1f, 0, seed))) sb.AppendLine("  " + Words(vocabulary, s));
        if (model.Config.IsLanguageModel || test.Count < 2) return sb.ToString();
        int n = Math.Min(5, test.Count);
        var indices = Enumerable.Range(0, n).ToArray();
        var means = model.EncodeMeans(test.Tokens, test.MaxLength, test.Lengths, indices);
        var decoded = model.Decode(means, n, TextDecoding.GreedyDecoding);
        sb.AppendLine("reconstructions (posterior mean, greedy):");
        for (int i = 0; i < n; i++)
        {
            sb.AppendLine("  in:  " + Words(vocabulary, Body(test, i)));
            sb.AppendLine("  out: " + Words(vocabulary, decoded[i]));
        }
        sb.AppendLine("interpolation between the first two test sentences:");
        foreach (var s in model.Decode(Line(means.AsSpan(0, zw), means.AsSpan(zw, zw), 7), 7, TextDecoding.GreedyDecoding)) sb.AppendLine("  " + Words(vocabulary, s));
        return sb.ToString();
    }

    // ------------------------------------------------------------------ eval, sample, reconstruct, interpolate

    public static int Eval(CliArgs cli, string path)
    {
        string splitName = cli.String("split") ?? "test";
        if (splitName is not ("test" or "validation")) throw new UsageException($"--split {splitName}: expected test or validation.");
        int? nll = null;
        if (cli.Has("nll"))
        {
            // CliArgs.Flag accepts exactly the bare form (and throws when a value follows); the valued form goes to Int.
            try { cli.Flag("nll"); nll = 100; }
            catch (UsageException) { nll = cli.Int("nll", 100, 1, 100_000); }
        }
        bool json = cli.Flag("json");
        int batch = cli.Int("batch", 64, 1, 4096);
        string? corpusDir = cli.String("corpus");
        using var backend = CommonOptions.Backend(cli);
        cli.RejectUnknown();
        var checkpoint = TextCheckpoint.Read(path);
        int capacity = Math.Max(batch, nll ?? 0);
        using var model = Load(backend, checkpoint, capacity);
        var split = Corpus(checkpoint, corpusDir);
        var data = splitName == "test" ? split.Test : split.Validation;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var r = TextEvaluation.Run(model, data, checkpoint.Options?.Common.Seed ?? 1, nll ?? 0);
        double seconds = watch.Elapsed.TotalSeconds;
        var inv = CultureInfo.InvariantCulture;
        if (json)
        {
            string nllJson = double.IsNaN(r.ImportanceSampledNll) ? "" : string.Create(inv,
                $",\"nll\":{r.NllPerToken:R},\"nll_sentence\":{r.ImportanceSampledNll:R},\"nll_k\":{r.ImportanceSamples},\"nll_perplexity\":{r.NllPerplexity:R}");
            Console.WriteLine(string.Create(inv,
                $"{{\"model\":\"text\",\"language_model\":{(checkpoint.Config.IsLanguageModel ? "true" : "false")},\"split\":\"{splitName}\",\"sentences\":{r.Sequences},\"tokens\":{r.Tokens}," +
                $"\"recon\":{r.ReconPerToken:R},\"kl\":{r.KlPerToken:R},\"kl_sentence\":{r.Kl:R},\"recon_sentence\":{r.Recon:R},\"bound\":{r.BoundPerToken:R},\"perplexity\":{r.Perplexity:R}," +
                $"\"active_units\":{r.ActiveUnits},\"latent\":{checkpoint.Config.Latent}{nllJson},\"seconds\":{seconds:R}}}"));
        }
        else
        {
            Console.WriteLine($"{path}: text {checkpoint.Config} on the fortunes {splitName} split");
            Console.WriteLine(Describe(r, checkpoint.Config));
        }
        return 0;
    }

    public static int Sample(CliArgs cli, string path)
    {
        if (cli.Has("model") && cli.String("model") != TextVaeConfig.KindName)
            throw new UsageException($"--model {cli.String("model")}: {path} holds a text model.");
        int count = cli.Int("count", 10, 1, 100_000);
        var decoding = Decoding(cli, defaultTemperature: 1f);
        string? outPath = cli.String("out");
        using var backend = CommonOptions.Backend(cli);
        cli.RejectUnknown();
        var checkpoint = TextCheckpoint.Read(path);
        using var model = Load(backend, checkpoint, Math.Min(count, 256));
        int zw = checkpoint.Config.Latent;
        var sentences = model.Decode(PriorDraws(count, zw, decoding.Seed), count, decoding);
        var sb = new StringBuilder();
        foreach (var s in sentences) sb.AppendLine(Words(checkpoint.Vocabulary, s));
        Console.Write(sb.ToString());
        if (outPath is not null)
        {
            AtomicFile.WriteAllText(outPath, sb.ToString());
            Console.WriteLine($"wrote {outPath}");
        }
        return 0;
    }

    public static int Reconstruct(CliArgs cli, string path)
    {
        var decoding = Decoding(cli, defaultTemperature: 0f);
        var sentences = cli.Positional.Skip(1).ToArray();
        if (sentences.Length == 0) throw new UsageException("Give the sentences to reconstruct after the flags, each in quotes: vae reconstruct --checkpoint F \"a sentence\".");
        using var backend = CommonOptions.Backend(cli);
        cli.RejectUnknown();
        var checkpoint = TextCheckpoint.Read(path);
        RequireVae(checkpoint, "reconstruct");
        using var model = Load(backend, checkpoint, Math.Min(sentences.Length, 256));
        var means = Encode(model, checkpoint, sentences);
        var decoded = model.Decode(means, sentences.Length, decoding);
        for (int i = 0; i < sentences.Length; i++)
        {
            Console.WriteLine("in:  " + sentences[i]);
            Console.WriteLine("out: " + Words(checkpoint.Vocabulary, decoded[i]));
        }
        return 0;
    }

    public static int Interpolate(CliArgs cli, string path)
    {
        string from = cli.String("from") ?? throw new UsageException("--from \"sentence\" is required: the first end of the line.");
        string to = cli.String("to") ?? throw new UsageException("--to \"sentence\" is required: the other end of the line.");
        int steps = cli.Int("steps", 7, 2, 1000);
        using var backend = CommonOptions.Backend(cli);
        cli.RejectUnknown();
        var checkpoint = TextCheckpoint.Read(path);
        RequireVae(checkpoint, "interpolate");
        using var model = Load(backend, checkpoint, Math.Min(steps, 256));
        var means = Encode(model, checkpoint, [from, to]);
        int zw = checkpoint.Config.Latent;
        var decoded = model.Decode(Line(means.AsSpan(0, zw), means.AsSpan(zw, zw), steps), steps, TextDecoding.GreedyDecoding);
        for (int i = 0; i < steps; i++)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{i / (double)(steps - 1):F2}  {Words(checkpoint.Vocabulary, decoded[i])}"));
        return 0;
    }

    // ------------------------------------------------------------------ helpers

    static TextVaeModel Load(IComputeBackend backend, TextCheckpoint checkpoint, int capacity)
    {
        var model = new TextVaeModel(backend, checkpoint.Config, capacity);
        try { checkpoint.LoadInto(model, withOptimizerState: false); }
        catch { model.Dispose(); throw; }
        return model;
    }

    /// <summary>The fortunes of the package's default files, or of every fortune file in <paramref name="directory"/>.</summary>
    static FortuneCorpus LoadCorpus(Tokenizer tokenizer, int maxTokens, string? directory) => directory is null
        ? FortuneCorpus.Load(tokenizer, maxTokens)
        : FortuneCorpus.Load(tokenizer, maxTokens, directory, FortuneCorpus.FilesIn(directory));

    /// <summary>The corpus split the checkpoint's run used (from --corpus, else the run's folder), encoded with its vocabulary.</summary>
    static TextSplit Corpus(TextCheckpoint checkpoint, string? corpusDir)
    {
        int maxTokens = checkpoint.Options?.MaxTokens ?? checkpoint.Config.MaxLength - 2;
        ulong splitSeed = checkpoint.Options?.SplitSeed ?? 1;
        var corpus = LoadCorpus(checkpoint.Vocabulary.Tokenizer, maxTokens, corpusDir ?? checkpoint.Options?.Corpus);
        return TextSplits.PrepareWith("fortunes", corpus.Examples, checkpoint.Vocabulary, maxTokens, splitSeed);
    }

    static void RequireVae(TextCheckpoint checkpoint, string command)
    {
        if (checkpoint.Config.IsLanguageModel)
            throw new UsageException($"{checkpoint.Path} holds a language model (--latent 0): it has no encoder, so 'vae {command}' has no latent code to work with; use 'vae sample'.");
    }

    /// <summary>Posterior means (n, Latent) of sentences given as text.</summary>
    static float[] Encode(TextVaeModel model, TextCheckpoint checkpoint, IReadOnlyList<string> sentences)
    {
        int maxTokens = checkpoint.Config.MaxLength - 2;
        foreach (var s in sentences)
        {
            int length = checkpoint.Vocabulary.Tokenizer.Count(s);
            if (length == 0) throw new UsageException($"\"{s}\" has no tokens to encode.");
            if (length > maxTokens) throw new UsageException($"\"{s}\" has {length} tokens; the model takes at most {maxTokens}. Shorten it.");
        }
        var data = new TextDataset("sentences", checkpoint.Vocabulary, sentences, checkpoint.Config.MaxLength);
        return model.EncodeMeans(data.Tokens, data.MaxLength, data.Lengths, Enumerable.Range(0, data.Count).ToArray());
    }

    static TextDecoding Decoding(CliArgs cli, float defaultTemperature)
    {
        bool greedy = cli.Flag("greedy");
        if (greedy && cli.Has("temperature")) throw new UsageException("--greedy and --temperature contradict each other: give one.");
        float temperature = greedy ? 0f : cli.Float("temperature", defaultTemperature, 0f, 100f);
        int topK = cli.Int("top-k", 0, 0, 1_000_000);
        return new TextDecoding(temperature, topK, (ulong)cli.Int("seed", 1, 0, int.MaxValue));
    }

    /// <summary>count draws of N(0, I) in <paramref name="latent"/> dimensions from stream <paramref name="seed"/>.</summary>
    static float[] PriorDraws(int count, int latent, ulong seed)
    {
        var z = new float[count * latent];
        for (int i = 0; i < z.Length; i++) z[i] = Vae.Random.PhiloxNormal.Sample(seed, (ulong)i);
        return z;
    }

    /// <summary><paramref name="steps"/> points from a to b, both included, (steps, Latent).</summary>
    static float[] Line(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int steps)
    {
        var path = new float[steps * a.Length];
        for (int i = 0; i < steps; i++)
        {
            float t = i / (float)(steps - 1);
            for (int j = 0; j < a.Length; j++) path[i * a.Length + j] = (1 - t) * a[j] + t * b[j];
        }
        return path;
    }

    /// <summary>The words of sequence i of a dataset, without &lt;bos&gt;, &lt;eos&gt; and padding.</summary>
    static int[] Body(TextDataset data, int i) => data.Sequence(i).Slice(1, data.Lengths[i] - 2).ToArray();

    static string Words(Vocabulary vocabulary, int[] ids) => ids.Length == 0 ? "(empty)" : vocabulary.Decode(ids);
}
