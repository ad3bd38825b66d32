// Sentences as padded id sequences for the text VAE, the seeded train/validation/test split of a corpus, and the
// statistics the report needs (tokens, unknown-token rate, lengths). The vocabulary is built from the training split
// only, so validation and test measure how the model meets words it never saw.
using Vae.Training;

namespace Vae.Data.Text;

/// <summary>
/// <see cref="Count"/> sequences of <see cref="MaxLength"/> ids each: &lt;bos&gt;, the text's token ids, &lt;eos&gt;,
/// then &lt;pad&gt; (0) up to <see cref="MaxLength"/>.
/// </summary>
public sealed class TextDataset
{
    /// <param name="name">Shown in logs and messages, e.g. "fortunes train".</param>
    /// <param name="vocabulary">Numbers the tokens; its tokenizer splits the texts.</param>
    /// <param name="texts">One example per text.</param>
    /// <param name="maxLength">Ids per sequence, &lt;bos&gt; and &lt;eos&gt; included; every text must fit.</param>
    public TextDataset(string name, Vocabulary vocabulary, IReadOnlyList<string> texts, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 3);
        Name = name;
        Vocabulary = vocabulary;
        Texts = texts;
        MaxLength = maxLength;
        Tokens = new int[checked(texts.Count * maxLength)];
        Lengths = new int[texts.Count];
        for (int i = 0; i < texts.Count; i++)
        {
            int[] ids = vocabulary.Encode(texts[i]);
            if (ids.Length + 2 > maxLength)
                throw new ArgumentException(
                    $"Dataset '{name}': text {i} has {ids.Length} tokens, more than the {maxLength - 2} that fit in sequences of {maxLength} ids with <bos> and <eos>; drop long texts first (FortuneCorpus does) or raise the length.",
                    nameof(texts));
            Span<int> row = Tokens.AsSpan(i * maxLength, maxLength);
            row[0] = Vocabulary.Bos;
            ids.CopyTo(row[1..]);
            row[ids.Length + 1] = Vocabulary.Eos;
            Lengths[i] = ids.Length + 2;
            TokenCount += ids.Length;
            foreach (int id in ids) if (id == Vocabulary.Unknown) UnknownCount++;
            LongestText = Math.Max(LongestText, ids.Length);
        }
    }

    public string Name { get; }

    public Vocabulary Vocabulary { get; }

    /// <summary>The source texts, one per sequence.</summary>
    public IReadOnlyList<string> Texts { get; }

    /// <summary>The number of sequences.</summary>
    public int Count => Lengths.Length;

    /// <summary>Ids per sequence, &lt;bos&gt; and &lt;eos&gt; included.</summary>
    public int MaxLength { get; }

    /// <summary>Count x MaxLength ids, row-major: sequence i occupies [i * MaxLength, (i + 1) * MaxLength).</summary>
    public int[] Tokens { get; }

    /// <summary>Each sequence's length in ids, &lt;bos&gt; and &lt;eos&gt; included; the rest of its row is &lt;pad&gt;.</summary>
    public int[] Lengths { get; }

    /// <summary>The ids of sequence <paramref name="index"/>, padding included.</summary>
    public ReadOnlySpan<int> Sequence(int index) => Tokens.AsSpan(index * MaxLength, MaxLength);

    /// <summary>Text tokens in all sequences (&lt;bos&gt;, &lt;eos&gt; and padding not counted).</summary>
    public long TokenCount { get; }

    /// <summary>Text tokens that mapped to &lt;unk&gt;.</summary>
    public long UnknownCount { get; }

    /// <summary>UnknownCount / TokenCount (0 for an empty dataset).</summary>
    public double UnknownRate => TokenCount == 0 ? 0 : (double)UnknownCount / TokenCount;

    /// <summary>The mean number of text tokens per sequence (0 for an empty dataset).</summary>
    public double MeanTextLength => Count == 0 ? 0 : (double)TokenCount / Count;

    /// <summary>The most text tokens in one sequence.</summary>
    public int LongestText { get; }
}

/// <summary>A corpus split three ways, with the vocabulary of its training part.</summary>
public sealed record TextSplit(Vocabulary Vocabulary, TextDataset Train, TextDataset Validation, TextDataset Test);

public static class TextSplits
{
    /// <summary>The epoch argument of <see cref="Shuffle.Permutation"/> reserved for the split, apart from training epochs.</summary>
    const int SplitStream = -1;

    /// <summary>
    /// Splits <paramref name="examples"/> by a seeded permutation (<see cref="Shuffle.Permutation"/>): the first
    /// round(n * testFraction) permuted examples are the test split, the next round(n * validationFraction) the
    /// validation split, the rest training; each part keeps corpus order. Same seed and corpus, same split.
    /// </summary>
    public static (string[] Train, string[] Validation, string[] Test) Split(IReadOnlyList<string> examples, ulong seed,
        double validationFraction = 0.05, double testFraction = 0.05)
    {
        ArgumentNullException.ThrowIfNull(examples);
        if (!(validationFraction >= 0 && testFraction >= 0 && validationFraction + testFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction),
                $"Expected non-negative validation and test fractions that leave room for training; found {validationFraction} and {testFraction}.");
        int n = examples.Count;
        int test = (int)Math.Round(n * testFraction, MidpointRounding.AwayFromZero);
        int validation = (int)Math.Round(n * validationFraction, MidpointRounding.AwayFromZero);
        var order = new int[n];
        Shuffle.Permutation(order, seed, SplitStream);
        var part = new byte[n]; // 0 train, 1 validation, 2 test
        for (int i = 0; i < test; i++) part[order[i]] = 2;
        for (int i = test; i < test + validation; i++) part[order[i]] = 1;
        var train = new List<string>(n - test - validation);
        var valid = new List<string>(validation);
        var tests = new List<string>(test);
        for (int i = 0; i < n; i++) (part[i] switch { 0 => train, 1 => valid, _ => tests }).Add(examples[i]);
        return (train.ToArray(), valid.ToArray(), tests.ToArray());
    }

    /// <summary>
    /// Splits <paramref name="examples"/> (each of at most <paramref name="maxTokens"/> tokens), builds the vocabulary
    /// from the training part (<paramref name="maxWords"/>, <paramref name="minCount"/>) and encodes the three parts
    /// into sequences of maxTokens + 2 ids.
    /// </summary>
    public static TextSplit Prepare(string name, IReadOnlyList<string> examples, Tokenizer tokenizer, int maxTokens, int maxWords,
        int minCount, ulong seed, double validationFraction = 0.05, double testFraction = 0.05)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxTokens);
        var (train, validation, test) = Split(examples, seed, validationFraction, testFraction);
        var vocabulary = Vocabulary.Build(train.Select(t => (IReadOnlyList<string>)tokenizer.Tokenize(t)), tokenizer, maxWords, minCount);
        return Encode(name, vocabulary, train, validation, test, maxTokens);
    }

    /// <summary>
    /// The split <see cref="Prepare"/> makes of the same examples and seed, encoded with a given vocabulary (a trained
    /// model's, read from its checkpoint) instead of one built from the training part.
    /// </summary>
    public static TextSplit PrepareWith(string name, IReadOnlyList<string> examples, Vocabulary vocabulary, int maxTokens, ulong seed,
        double validationFraction = 0.05, double testFraction = 0.05)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxTokens);
        var (train, validation, test) = Split(examples, seed, validationFraction, testFraction);
        return Encode(name, vocabulary, train, validation, test, maxTokens);
    }

    /// <summary>The three parts encoded with <paramref name="vocabulary"/> into sequences of maxTokens + 2 ids.</summary>
    static TextSplit Encode(string name, Vocabulary vocabulary, string[] train, string[] validation, string[] test, int maxTokens)
    {
        int length = maxTokens + 2;
        return new TextSplit(vocabulary,
            new TextDataset(name + " train", vocabulary, train, length),
            new TextDataset(name + " validation", vocabulary, validation, length),
            new TextDataset(name + " test", vocabulary, test, length));
    }
}
