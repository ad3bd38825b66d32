// `vae train --model text` and the text side of eval, sample, reconstruct and interpolate, end to end on a tiny
// fortune corpus (two files of 60 short sentences separated by '%' lines) written into a scratch folder: a 2-epoch VAE
// run writes its checkpoint, history, loss curve and samples; eval --json reports recon, kl, perplexity and active
// units (and the importance-sampled nll with --nll), equal to the library's numbers on the same checkpoint and split;
// --nll alone takes 100 samples; character tokens train (with fed-back steps, two encoder layers, cyclical annealing
// and free bits); sample prints --count sentences (sampled, greedy, top-k; the same seed the same sentences); reconstruct prints each
// sentence and its greedy reconstruction through the posterior mean, as the library decodes it; interpolate prints
// --steps sentences from 0 to 1; --resume continues a run; a language-model run (--latent 0) evaluates without KL.
// Errors: reconstruct and interpolate on a language model, a sentence over the length cap, --resume with a model flag,
// an unknown --tokens kind and an existing run are usage errors (exit 2) that change nothing; a missing corpus folder is
// an input error (exit 1).
using System.Globalization;
using Vae.Checkpoints;
using Vae.Data.Text;
using Vae.Models.Text;
using Vae.Tests.Support;
using Vae.Training;
using Xunit;

namespace Vae.Tests.Cli;

/// <summary>The tiny corpus, a 2-epoch VAE run and a 1-epoch language-model run on it, shared by the tests.</summary>
public sealed class TextRunFixture : IDisposable
{
    readonly ScratchDirectory scratch = new();

    /// <summary>The model flags of the VAE run.</summary>
    public static readonly string[] Settings = ["--batch", "8", "--embedding", "8", "--hidden", "8", "--latent", "4"];

    public TextRunFixture()
    {
        Sentences = TextModelSetup.Sentences(60, seed: 2);
        TextModelSetup.WriteFortuneFiles(Corpus, Sentences);
        Training = VaeProcess.Run(Folder, [.. TrainArgs(2, Run)]);
        Assert.True(Training.ExitCode == 0, Training.ToString());
        LanguageModelTraining = VaeProcess.Run(Folder, "train", "--model", "text", "--corpus", Corpus, "--epochs", "1", "--batch", "8", "--embedding", "8",
            "--hidden", "8", "--latent", "0", "--out", LanguageModelRun);
        Assert.True(LanguageModelTraining.ExitCode == 0, LanguageModelTraining.ToString());
    }

    public IReadOnlyList<string> Sentences { get; }
    public string Folder => scratch.Path;
    public string Corpus => scratch.File("corpus");
    public string Run => scratch.File("run");
    public string Checkpoint => Path.Combine(Run, "vae.safetensors");
    public string LanguageModelRun => scratch.File("lm");
    public string LanguageModelCheckpoint => Path.Combine(LanguageModelRun, "vae.safetensors");
    public VaeRunResult Training { get; }
    public VaeRunResult LanguageModelTraining { get; }

    public string File(string name) => scratch.File(name);

    public string[] TrainArgs(int epochs, string output) =>
        ["train", "--model", "text", "--corpus", Corpus, "--epochs", epochs.ToString(CultureInfo.InvariantCulture), .. Settings, "--out", output];

    public void Dispose() => scratch.Dispose();
}

public sealed class CliTextTests(TextRunFixture run) : IClassFixture<TextRunFixture>
{
    [Fact]
    public void Training_writes_the_checkpoint_history_curve_and_samples()
    {
        Assert.True(run.Training.Stderr.Length == 0, run.Training.ToString());
        Assert.Contains("training text V", run.Training.Stdout, StringComparison.Ordinal);
        Assert.Contains("on 60 fortunes", run.Training.Stdout, StringComparison.Ordinal);
        foreach (var name in new[] { "vae.safetensors", "history.csv", "loss.svg", "samples.txt" })
            Assert.True(File.Exists(Path.Combine(run.Run, name)), $"{name} was not written:\n{run.Training}");

        Assert.True(TextCheckpoint.IsTextModel(run.Checkpoint));
        var checkpoint = TextCheckpoint.Read(run.Checkpoint);
        Assert.Equal(8, checkpoint.Config.Embedding);
        Assert.Equal(8, checkpoint.Config.Hidden);
        Assert.Equal(4, checkpoint.Config.Latent);
        Assert.Equal(2, checkpoint.State.Epoch);
        Assert.Equal(Path.GetFullPath(run.Corpus), checkpoint.Options!.Corpus);
        Assert.Equal(8, checkpoint.Options.Common.BatchSize);
        // Every word of the corpus is in the vocabulary built from its training split (or <unk> in the other splits).
        Assert.Contains("cat", Enumerable.Range(0, checkpoint.Vocabulary.Count).Select(i => checkpoint.Vocabulary[i]));

        var history = File.ReadAllLines(Path.Combine(run.Run, "history.csv"));
        Assert.Equal(3, history.Length);
        Assert.StartsWith("epoch,", history[0], StringComparison.Ordinal);
        Assert.Contains("<svg", File.ReadAllText(Path.Combine(run.Run, "loss.svg")), StringComparison.Ordinal);
        string samples = File.ReadAllText(Path.Combine(run.Run, "samples.txt"));
        foreach (var section in new[] { "greedy from z ~ N(0, I):", "sampled (temperature 1):", "reconstructions (posterior mean, greedy):", "interpolation between" })
            Assert.Contains(section, samples, StringComparison.Ordinal);
    }

    [Fact]
    public void Eval_reports_recon_kl_perplexity_and_active_units_as_the_library_computes_them()
    {
        var o = CliAssert.Json(VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.Checkpoint, "--json"));
        Assert.Equal("text", o.GetProperty("model").GetString());
        Assert.False(o.GetProperty("language_model").GetBoolean());
        double recon = o.GetProperty("recon").GetDouble(), kl = o.GetProperty("kl").GetDouble(), perplexity = o.GetProperty("perplexity").GetDouble();
        int active = o.GetProperty("active_units").GetInt32();
        Assert.Equal(Math.Exp(recon + kl), perplexity, 1e-9 * perplexity);
        Assert.InRange(active, 0, 4);
        Assert.True(kl >= 0);
        Assert.False(o.TryGetProperty("nll", out _));

        // The same numbers in process, on the checkpoint's test split.
        var checkpoint = TextCheckpoint.Read(run.Checkpoint);
        using var backend = Backends.Create("cpu");
        using var model = new TextVaeModel(backend, checkpoint.Config, 64);
        checkpoint.LoadInto(model, withOptimizerState: false);
        var corpus = FortuneCorpus.Load(checkpoint.Vocabulary.Tokenizer, checkpoint.Options!.MaxTokens, run.Corpus, FortuneCorpus.FilesIn(run.Corpus));
        var split = TextSplits.PrepareWith("fortunes", corpus.Examples, checkpoint.Vocabulary, checkpoint.Options.MaxTokens, checkpoint.Options.SplitSeed);
        var r = TextEvaluation.Run(model, split.Test, checkpoint.Options.Common.Seed);
        Assert.Equal(r.Sequences, o.GetProperty("sentences").GetInt32());
        Assert.Equal(r.Tokens, o.GetProperty("tokens").GetInt64());
        Assert.Equal(r.ReconPerToken, recon, 1e-12);
        Assert.Equal(r.KlPerToken, kl, 1e-12);
        Assert.Equal(r.ActiveUnits, active);

        var withNll = CliAssert.Json(VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.Checkpoint, "--json", "--nll", "4"));
        Assert.Equal(4, withNll.GetProperty("nll_k").GetInt32());
        double nll = withNll.GetProperty("nll").GetDouble();
        Assert.True(double.IsFinite(nll) && nll > 0, $"nll {nll}");
        Assert.Equal(Math.Exp(nll), withNll.GetProperty("nll_perplexity").GetDouble(), 1e-9 * Math.Exp(nll));
        Assert.Equal(recon, withNll.GetProperty("recon").GetDouble());

        var validation = CliAssert.Json(VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.Checkpoint, "--json", "--split", "validation"));
        Assert.Equal(split.Validation.Count, validation.GetProperty("sentences").GetInt32());
        var text = VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.Checkpoint);
        CliAssert.Succeeded(text);
        Assert.Contains("perplexity <=", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("active units", text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Sample_prints_count_sentences_sampled_greedy_or_top_k()
    {
        var sampled = VaeProcess.Run(run.Folder, "sample", "--checkpoint", run.Checkpoint, "--count", "3");
        CliAssert.Succeeded(sampled);
        Assert.Equal(3, sampled.StdoutLines.Length);
        Assert.Equal(sampled.Stdout, VaeProcess.Run(run.Folder, "sample", "--checkpoint", run.Checkpoint, "--count", "3").Stdout);
        var otherSeed = VaeProcess.Run(run.Folder, "sample", "--checkpoint", run.Checkpoint, "--count", "3", "--seed", "2");
        CliAssert.Succeeded(otherSeed);
        Assert.NotEqual(sampled.Stdout, otherSeed.Stdout);

        var greedy = VaeProcess.Run(run.Folder, "sample", "--checkpoint", run.Checkpoint, "--count", "3", "--greedy");
        CliAssert.Succeeded(greedy);
        Assert.Equal(3, greedy.StdoutLines.Length);
        var topK = VaeProcess.Run(run.Folder, "sample", "--checkpoint", run.Checkpoint, "--count", "3", "--top-k", "2");
        CliAssert.Succeeded(topK);
        Assert.Equal(3, topK.StdoutLines.Length);

        string output = run.File("samples-" + Guid.NewGuid().ToString("N") + ".txt");
        var written = VaeProcess.Run(run.Folder, "sample", "--checkpoint", run.Checkpoint, "--count", "3", "--out", output);
        CliAssert.Succeeded(written);
        Assert.Equal(sampled.StdoutLines, File.ReadAllLines(output));

        CliAssert.UsageError(VaeProcess.Run(run.Folder, "sample", "--checkpoint", run.Checkpoint, "--greedy", "--temperature", "2"), "--greedy and --temperature");
    }

    [Fact]
    public void Reconstruct_prints_each_sentence_and_its_greedy_reconstruction()
    {
        string a = run.Sentences[0], b = "the dog sees the moon again.";
        var r = VaeProcess.Run(run.Folder, "reconstruct", "--checkpoint", run.Checkpoint, a, b);
        CliAssert.Succeeded(r);
        Assert.Equal(4, r.StdoutLines.Length);
        Assert.Equal("in:  " + a, r.StdoutLines[0]);
        Assert.Equal("in:  " + b, r.StdoutLines[2]);

        // The library's reconstruction: posterior mean, greedy decoding.
        var checkpoint = TextCheckpoint.Read(run.Checkpoint);
        using var backend = Backends.Create("cpu");
        using var model = new TextVaeModel(backend, checkpoint.Config, 2);
        checkpoint.LoadInto(model, withOptimizerState: false);
        var data = new TextDataset("sentences", checkpoint.Vocabulary, [a, b], checkpoint.Config.MaxLength);
        var means = model.EncodeMeans(data.Tokens, data.MaxLength, data.Lengths, [0, 1]);
        var decoded = model.Decode(means, 2, TextDecoding.GreedyDecoding);
        for (int i = 0; i < 2; i++)
        {
            string words = decoded[i].Length == 0 ? "(empty)" : checkpoint.Vocabulary.Decode(decoded[i]);
            Assert.Equal("out: " + words, r.StdoutLines[2 * i + 1]);
        }
    }

    [Fact]
    public void Interpolate_prints_steps_sentences_from_zero_to_one()
    {
        var r = VaeProcess.Run(run.Folder, "interpolate", "--checkpoint", run.Checkpoint, "--from", run.Sentences[1], "--to", run.Sentences[2], "--steps", "4");
        CliAssert.Succeeded(r);
        Assert.Equal(4, r.StdoutLines.Length);
        string[] positions = ["0.00", "0.33", "0.67", "1.00"];
        for (int i = 0; i < 4; i++) Assert.StartsWith(positions[i] + "  ", r.StdoutLines[i], StringComparison.Ordinal);
        CliAssert.UsageError(VaeProcess.Run(run.Folder, "interpolate", "--checkpoint", run.Checkpoint, "--to", "a dog"), "--from");
    }

    [Fact]
    public void A_run_resumes_and_continues_its_history()
    {
        string output = run.File("resume-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(output);
        foreach (var file in Directory.GetFiles(run.Run)) File.Copy(file, Path.Combine(output, Path.GetFileName(file)));
        var before = File.ReadAllLines(Path.Combine(output, "history.csv"));

        var r = VaeProcess.Run(run.Folder, "train", "--model", "text", "--epochs", "3", "--out", output, "--resume");
        CliAssert.Succeeded(r);
        Assert.Contains("resuming after epoch 2", r.Stdout, StringComparison.Ordinal);
        var checkpoint = TextCheckpoint.Read(Path.Combine(output, "vae.safetensors"));
        Assert.Equal(3, checkpoint.State.Epoch);
        var after = File.ReadAllLines(Path.Combine(output, "history.csv"));
        Assert.Equal(4, after.Length);
        Assert.Equal(before, after.Take(3));
        Assert.Equal(TextCheckpoint.Read(run.Checkpoint).Config, checkpoint.Config);
    }

    [Fact]
    public void A_language_model_run_evaluates_and_samples_without_a_latent()
    {
        Assert.True(run.LanguageModelTraining.Stderr.Length == 0, run.LanguageModelTraining.ToString());
        Assert.Contains("language model", run.LanguageModelTraining.Stdout, StringComparison.Ordinal);
        var o = CliAssert.Json(VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.LanguageModelCheckpoint, "--json"));
        Assert.True(o.GetProperty("language_model").GetBoolean());
        Assert.Equal(0, o.GetProperty("kl").GetDouble());
        Assert.Equal(0, o.GetProperty("active_units").GetInt32());
        Assert.Equal(0, o.GetProperty("latent").GetInt32());
        Assert.Equal(Math.Exp(o.GetProperty("recon").GetDouble()), o.GetProperty("perplexity").GetDouble(), 1e-9 * o.GetProperty("perplexity").GetDouble());
        var greedy = VaeProcess.Run(run.Folder, "sample", "--checkpoint", run.LanguageModelCheckpoint, "--count", "2", "--greedy");
        CliAssert.Succeeded(greedy);
        Assert.Equal(2, greedy.StdoutLines.Length);
        Assert.Equal(greedy.StdoutLines[0], greedy.StdoutLines[1]);   // no latent: one greedy sentence
    }

    [Fact]
    public void Eval_nll_without_a_value_uses_100_samples()
    {
        var o = CliAssert.Json(VaeProcess.Run(run.Folder, "eval", "--checkpoint", run.Checkpoint, "--nll", "--json"));
        Assert.Equal(100, o.GetProperty("nll_k").GetInt32());
        Assert.True(double.IsFinite(o.GetProperty("nll").GetDouble()));
    }

    [Fact]
    public void Character_tokens_train_with_fed_back_steps_a_deeper_encoder_and_cyclical_annealing()
    {
        string output = run.File("char-" + Guid.NewGuid().ToString("N"));
        var r = VaeProcess.Run(run.Folder, "train", "--model", "text", "--corpus", run.Corpus, "--tokens", "char", "--epochs", "1", "--batch", "8",
            "--embedding", "8", "--hidden", "8", "--latent", "3", "--encoder-layers", "2", "--teacher-forcing", "0.5", "--kl-cycle", "1",
            "--free-bits", "0.1", "--out", output);
        CliAssert.Succeeded(r);
        var checkpoint = TextCheckpoint.Read(Path.Combine(output, "vae.safetensors"));
        Assert.Equal(TokenizerKind.Character, checkpoint.Vocabulary.Tokenizer.Kind);
        Assert.Equal(2, checkpoint.Config.EncoderLayers);
        Assert.Equal(0.5f, checkpoint.Options!.TeacherForcing);
        Assert.Equal(KlScheduleKind.Cyclical, checkpoint.Options.Common.KlSchedule.Kind);
        Assert.Equal(0.1f, checkpoint.Options.Common.FreeBits);
        var reconstructed = VaeProcess.Run(run.Folder, "reconstruct", "--checkpoint", Path.Combine(output, "vae.safetensors"), "the cat");
        CliAssert.Succeeded(reconstructed);
        Assert.Equal("in:  the cat", reconstructed.StdoutLines[0]);
    }

    // ---------------------------------------------------------------- errors

    [Fact]
    public void Reconstruct_and_interpolate_refuse_a_language_model()
    {
        CliAssert.UsageError(VaeProcess.Run(run.Folder, "reconstruct", "--checkpoint", run.LanguageModelCheckpoint, "the cat sees the sun."),
            "holds a language model", "'vae reconstruct'", "vae sample");
        CliAssert.UsageError(VaeProcess.Run(run.Folder, "interpolate", "--checkpoint", run.LanguageModelCheckpoint, "--from", "a dog", "--to", "the cat"),
            "holds a language model", "'vae interpolate'");
    }

    [Fact]
    public void A_sentence_over_the_length_cap_is_refused()
    {
        string longSentence = string.Join(' ', Enumerable.Repeat("cat", 49));
        CliAssert.UsageError(VaeProcess.Run(run.Folder, "reconstruct", "--checkpoint", run.Checkpoint, longSentence), "has 49 tokens", "at most 48");
        CliAssert.UsageError(VaeProcess.Run(run.Folder, "reconstruct", "--checkpoint", run.Checkpoint), "Give the sentences to reconstruct");
    }

    [Fact]
    public void Resume_refuses_model_flags_and_leaves_the_checkpoint_unchanged()
    {
        string output = run.File("refuse-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(output);
        File.Copy(run.Checkpoint, Path.Combine(output, "vae.safetensors"));
        byte[] before = File.ReadAllBytes(Path.Combine(output, "vae.safetensors"));
        CliAssert.UsageError(VaeProcess.Run(run.Folder, "train", "--model", "text", "--epochs", "3", "--out", output, "--resume", "--hidden", "16"),
            "--hidden cannot be combined with --resume");
        CliAssert.UsageError(VaeProcess.Run(run.Folder, "train", "--model", "text", "--epochs", "3", "--out", output, "--resume", "--word-dropout", "0.1"),
            "--word-dropout cannot be combined with --resume");
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(output, "vae.safetensors")));
        // Without --resume an existing run is not replaced.
        CliAssert.UsageError(VaeProcess.Run(run.Folder, [.. run.TrainArgs(1, output)]), "already exists", "--resume", "--force");
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(output, "vae.safetensors")));
    }

    [Fact]
    public void Bad_training_flags_and_a_missing_corpus_are_clear_errors_that_write_nothing()
    {
        string output = run.File("bad-" + Guid.NewGuid().ToString("N"));
        CliAssert.UsageError(VaeProcess.Run(run.Folder, [.. run.TrainArgs(1, output), "--tokens", "bytes"]), "--tokens bytes", "word or char");
        CliAssert.UsageError(VaeProcess.Run(run.Folder, [.. run.TrainArgs(1, output), "--kl-warmup", "1", "--kl-cycle", "2"]), "--kl-warmup and --kl-cycle");
        Assert.False(Directory.Exists(output));
        CliAssert.InputError(VaeProcess.Run(run.Folder, "train", "--model", "text", "--corpus", run.File("no-such-folder"), "--epochs", "1", "--out", output),
            "Fortune folder not found", "no-such-folder");
        Assert.False(File.Exists(Path.Combine(output, "vae.safetensors")));
    }

    [Fact]
    public void Help_describes_the_text_options()
    {
        var r = VaeProcess.Run(run.Folder, "train", "--model", "text", "--help");
        CliAssert.Succeeded(r);
        foreach (var flag in new[] { "--corpus", "--word-dropout", "--teacher-forcing", "--latent Z", "--free-bits" })
            Assert.Contains(flag, r.Stdout, StringComparison.Ordinal);
    }
}
