// TextDataset and TextSplits: <bos> ids <eos> then padding, lengths, statistics (tokens, unknown rate, mean length),
// the length check, and the seeded split: same seed same parts, parts disjoint and complete, sizes 90/5/5, another
// seed another split, and a vocabulary built from the training part only.
using Vae.Data.Text;
using Xunit;

namespace Vae.Tests.Data.Text;

public sealed class TextDatasetTests
{
    [Fact]
    public void Sequences_are_bos_ids_eos_then_padding_with_lengths_and_statistics()
    {
        var vocabulary = Vocabulary.Build([Tokenizer.Words.Tokenize("the cat sat on the mat .")], Tokenizer.Words, 100);
        var data = new TextDataset("tiny", vocabulary, ["The cat sat.", "A dog sat on the mat!", "cat"], maxLength: 9);
        Assert.Equal(3, data.Count);
        Assert.Equal(9, data.MaxLength);
        int the = vocabulary.IdOf("the"), cat = vocabulary.IdOf("cat"), sat = vocabulary.IdOf("sat"), dot = vocabulary.IdOf(".");
        int on = vocabulary.IdOf("on"), mat = vocabulary.IdOf("mat"), unk = Vocabulary.Unknown;
        Assert.Equal([1, the, cat, sat, dot, 2, 0, 0, 0], data.Sequence(0).ToArray());
        Assert.Equal([1, unk, unk, sat, on, the, mat, unk, 2], data.Sequence(1).ToArray());
        Assert.Equal([1, cat, 2, 0, 0, 0, 0, 0, 0], data.Sequence(2).ToArray());
        Assert.Equal([6, 9, 3], data.Lengths);
        Assert.Equal(27, data.Tokens.Length);
        Assert.Equal(4 + 7 + 1, data.TokenCount);
        Assert.Equal(3, data.UnknownCount);
        Assert.Equal(3.0 / 12, data.UnknownRate, 12);
        Assert.Equal(4.0, data.MeanTextLength, 12);
        Assert.Equal(7, data.LongestText);
        Assert.Equal("the cat sat.", vocabulary.Decode(data.Sequence(0)));
    }

    [Fact]
    public void Text_too_long_for_the_sequence_is_rejected()
    {
        var vocabulary = Vocabulary.Build([Tokenizer.Words.Tokenize("a b c")], Tokenizer.Words, 100);
        var e = Assert.Throws<ArgumentException>(() => new TextDataset("tiny", vocabulary, ["a b c a"], maxLength: 5));
        Assert.Contains("text 0 has 4 tokens, more than the 3", e.Message, StringComparison.Ordinal);
    }

    static string[] Sentences(int count) => Enumerable.Range(0, count).Select(i => $"sentence {i} says w{i % 17} and w{i % 5}").ToArray();

    [Fact]
    public void Split_is_deterministic_disjoint_complete_and_sized_by_the_fractions()
    {
        string[] examples = Sentences(1001);
        var (train, validation, test) = TextSplits.Split(examples, seed: 5);
        var again = TextSplits.Split(examples, seed: 5);
        Assert.Equal(train, again.Train);
        Assert.Equal(validation, again.Validation);
        Assert.Equal(test, again.Test);
        Assert.Equal(50, test.Length);          // round(1001 * 0.05)
        Assert.Equal(50, validation.Length);
        Assert.Equal(901, train.Length);
        Assert.Equal(examples.Order(StringComparer.Ordinal), train.Concat(validation).Concat(test).Order(StringComparer.Ordinal));
        Assert.Empty(train.Intersect(test).Concat(train.Intersect(validation)).Concat(validation.Intersect(test)));
        // Each part keeps corpus order.
        Assert.Equal(train.OrderBy(s => Array.IndexOf(examples, s)), train);

        var other = TextSplits.Split(examples, seed: 6);
        Assert.NotEqual(test, other.Test);
        var custom = TextSplits.Split(examples, seed: 5, validationFraction: 0.1, testFraction: 0.2);
        Assert.Equal((701, 100, 200), (custom.Train.Length, custom.Validation.Length, custom.Test.Length));
        Assert.Throws<ArgumentOutOfRangeException>(() => TextSplits.Split(examples, 1, 0.5, 0.5));
    }

    [Fact]
    public void Prepare_builds_the_vocabulary_from_the_training_part_only()
    {
        string[] examples = Enumerable.Range(0, 400).Select(i => $"w{i % 17} and w{i % 5} unique{i}").ToArray();
        TextSplit split = TextSplits.Prepare("toy", examples, Tokenizer.Words, maxTokens: 10, maxWords: 10_000, minCount: 1, seed: 9);
        Assert.Equal(12, split.Train.MaxLength);
        Assert.Equal(0, split.Train.UnknownCount);
        // Every validation and test sentence carries one word of its own ("uniqueN"), unseen in training.
        Assert.Equal(split.Test.Count, split.Test.UnknownCount);
        Assert.Equal(split.Validation.Count, split.Validation.UnknownCount);
        foreach (string text in split.Train.Texts) Assert.True(split.Vocabulary.Contains(Tokenizer.Words.Tokenize(text)[^1]));
        Assert.Equal(split.Vocabulary.ToJson(), TextSplits.Prepare("toy", examples, Tokenizer.Words, 10, 10_000, 1, seed: 9).Vocabulary.ToJson());
    }
}
