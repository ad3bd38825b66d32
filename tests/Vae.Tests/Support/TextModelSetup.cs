// Small text-VAE setups for the text tests: random id tables of ragged sequences (no <unk> in the data, so word dropout's
// <unk> is recognizable), a tiny fortune-style corpus as TextDatasets, and one training forward + backward of a
// TextVaeModel with everything it reports read back to the host.
using Vae.Data.Text;
using Vae.Models.Text;

namespace Vae.Tests.Support;

/// <summary>What one forward + backward of a TextVaeModel gave, read back: [sum recon, sum KL], per-sequence losses, posterior moments and all parameter gradients.</summary>
public sealed record TextModelRun(float[] Totals, float[] Recon, float[] Kl, float[] Mu, float[] LogVar, float[] Gradients);

/// <summary>A row-major id table: sequence i is Tokens[i Stride .. i Stride + Lengths[i]) = &lt;bos&gt; words &lt;eos&gt;, then &lt;pad&gt;.</summary>
public sealed record IdTable(int[] Tokens, int Stride, int[] Lengths)
{
    /// <summary>The same sequences in a table with a larger stride (more padding per row).</summary>
    public IdTable Widened(int stride)
    {
        var tokens = new int[Lengths.Length * stride];
        for (int i = 0; i < Lengths.Length; i++) Array.Copy(Tokens, i * Stride, tokens, i * stride, Stride);
        return new IdTable(tokens, stride, Lengths);
    }
}

public static class TextModelSetup
{
    /// <summary>Sequences of the given lengths in ids (&lt;bos&gt; and &lt;eos&gt; included) with random words from [SpecialCount, vocabulary).</summary>
    public static IdTable RandomSequences(int seed, int vocabulary, int[] lengths, int stride)
    {
        var rng = new System.Random(seed);
        var tokens = new int[lengths.Length * stride];
        for (int i = 0; i < lengths.Length; i++)
        {
            var row = tokens.AsSpan(i * stride, stride);
            row[0] = Vocabulary.Bos;
            for (int k = 1; k < lengths[i] - 1; k++) row[k] = rng.Next(Vocabulary.SpecialCount, vocabulary);
            row[lengths[i] - 1] = Vocabulary.Eos;
        }
        return new IdTable(tokens, stride, lengths);
    }

    /// <summary>A model with PyTorch-style initial parameters from <paramref name="seed"/>.</summary>
    public static TextVaeModel Model(IComputeBackend backend, TextVaeConfig config, int capacity, ulong seed)
    {
        var model = new TextVaeModel(backend, config, capacity);
        model.InitializeParameters(seed);
        return model;
    }

    public static float[] Download(IComputeBackend backend, DeviceSpan<float> view, int count)
    {
        var values = new float[count];
        backend.Download(view.Slice(0, count), values);
        return values;
    }

    /// <summary>The model's parameters as one host array (state_dict order, NamedTensors offsets).</summary>
    public static float[] Parameters(TextVaeModel model) => Download(model.Backend, model.Parameters.Parameters, model.Parameters.Parameters.Length);

    /// <summary>Loads the batch, uploads the noise, runs Forward and Backward, and reads everything back.</summary>
    public static TextModelRun Run(TextVaeModel model, IdTable table, int[] indices, float[] noise, bool[]? feedBack = null,
        float klWeight = 1f, float freeBits = 0f, float wordDropout = 0f, ulong seed = 0, long step = 0)
    {
        var backend = model.Backend;
        int rows = indices.Length, zw = model.Config.Latent;
        model.LoadBatch(table.Tokens, table.Stride, table.Lengths, indices, wordDropout, seed, step);
        if (zw > 0) backend.Upload<float>(noise.AsSpan(0, rows * zw), model.Noise.Slice(0, rows * zw));
        model.Forward(feedBack);
        var totals = Download(backend, model.LossTotals, 2);
        var recon = Download(backend, model.ReconPerSample, rows);
        var kl = Download(backend, model.KlPerSample, rows);
        var mu = Download(backend, model.Mu, rows * zw);
        var logVar = Download(backend, model.LogVar, rows * zw);
        model.Backward(klWeight, freeBits);
        var gradients = Download(backend, model.Parameters.Gradients, model.Parameters.Gradients.Length);
        return new TextModelRun(totals, recon, kl, mu, logVar, gradients);
    }

    /// <summary>Forward only: [sum recon, sum KL] of the batch.</summary>
    public static float[] Totals(TextVaeModel model, IdTable table, int[] indices, float[] noise, bool[]? feedBack = null,
        float wordDropout = 0f, ulong seed = 0, long step = 0)
    {
        var backend = model.Backend;
        int rows = indices.Length, zw = model.Config.Latent;
        model.LoadBatch(table.Tokens, table.Stride, table.Lengths, indices, wordDropout, seed, step);
        if (zw > 0) backend.Upload<float>(noise.AsSpan(0, rows * zw), model.Noise.Slice(0, rows * zw));
        model.Forward(feedBack);
        return Download(backend, model.LossTotals, 2);
    }

    /// <summary>The twin of a model, with the model's current parameters widened to double.</summary>
    public static DoubleTextVae Twin(TextVaeModel model) =>
        new(model.Config, model.NamedTensors, Parameters(model).Select(v => (double)v).ToArray());

    // ---------------------------------------------------------------- corpora

    /// <summary>Words of the tiny corpus: a small vocabulary so short training runs see every word often.</summary>
    static readonly string[] Subjects = ["the cat", "a dog", "my friend", "the old man", "a bird", "the child"];
    static readonly string[] Verbs = ["sees", "likes", "finds", "wants", "hears"];
    static readonly string[] Objects = ["the sun", "a tree", "the sea", "some bread", "the moon", "a song"];
    static readonly string[] Endings = [".", " today.", " again.", " at night."];

    /// <summary><paramref name="count"/> distinct short sentences ("the cat sees a tree today."), from <paramref name="seed"/>.</summary>
    public static List<string> Sentences(int count, int seed)
    {
        var rng = new System.Random(seed);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var sentences = new List<string>();
        while (sentences.Count < count)
        {
            string s = $"{Subjects[rng.Next(Subjects.Length)]} {Verbs[rng.Next(Verbs.Length)]} {Objects[rng.Next(Objects.Length)]}{Endings[rng.Next(Endings.Length)]}";
            s = char.ToUpperInvariant(s[0]) + s[1..];
            if (seen.Add(s)) sentences.Add(s);
        }
        return sentences;
    }

    /// <summary>The sentences as fortune files: two files in <paramref name="folder"/>, entries separated by '%' lines.</summary>
    public static void WriteFortuneFiles(string folder, IReadOnlyList<string> sentences)
    {
        Directory.CreateDirectory(folder);
        int half = sentences.Count / 2;
        File.WriteAllText(Path.Combine(folder, "first"), string.Join("\n%\n", sentences.Take(half)) + "\n%\n");
        File.WriteAllText(Path.Combine(folder, "second"), string.Join("\n%\n", sentences.Skip(half)) + "\n");
    }

    /// <summary>A word vocabulary of the sentences and the sentences as a dataset of <paramref name="maxLength"/> ids per sequence.</summary>
    public static TextDataset Dataset(IReadOnlyList<string> sentences, int maxLength, string name = "tiny")
    {
        var vocabulary = Vocabulary.Build(sentences.Select(s => (IReadOnlyList<string>)Tokenizer.Words.Tokenize(s)), Tokenizer.Words, 1000);
        return new TextDataset(name, vocabulary, sentences, maxLength);
    }
}
