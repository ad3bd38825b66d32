// Vocabulary: special ids, the cap and minimum count, deterministic order (count, then ordinal), encode/decode round
// trip, <unk> for unseen tokens, and the JSON form a checkpoint stores (round trip, and clear errors when corrupt).
using Vae.Data.Text;
using Xunit;

namespace Vae.Tests.Data.Text;

public sealed class VocabularyTests
{
    static IReadOnlyList<string>[] Tokenized(params string[] texts) =>
        texts.Select(t => (IReadOnlyList<string>)Tokenizer.Words.Tokenize(t)).ToArray();

    [Fact]
    public void Specials_come_first_then_tokens_by_count_then_ordinal_order()
    {
        // counts: the 4, cat 3, a 2, dog 2, sat 1, on 1, mat 1, "." 2
        var v = Vocabulary.Build(Tokenized("the cat sat.", "the cat on a mat.", "a dog, the dog the cat"), Tokenizer.Words, maxWords: 100);
        Assert.Equal(["<pad>", "<bos>", "<eos>", "<unk>"], Vocabulary.SpecialTokens);
        Assert.Equal(["<pad>", "<bos>", "<eos>", "<unk>", "the", "cat", ".", "a", "dog", ",", "mat", "on", "sat"],
            Enumerable.Range(0, v.Count).Select(i => v[i]));
        Assert.Equal(0, Vocabulary.Pad);
        Assert.Equal(1, Vocabulary.Bos);
        Assert.Equal(2, Vocabulary.Eos);
        Assert.Equal(3, Vocabulary.Unknown);
    }

    [Fact]
    public void Cap_keeps_the_most_frequent_and_min_count_drops_rare_tokens()
    {
        var data = Tokenized("x x x x y y y z z w", "v");
        var capped = Vocabulary.Build(data, Tokenizer.Words, maxWords: 2);
        Assert.Equal(6, capped.Count);
        Assert.True(capped.Contains("x") && capped.Contains("y") && !capped.Contains("z"));
        var frequent = Vocabulary.Build(data, Tokenizer.Words, maxWords: 100, minCount: 2);
        Assert.Equal(["x", "y", "z"], Enumerable.Range(4, frequent.Count - 4).Select(i => frequent[i]));
        Assert.Equal(Vocabulary.Unknown, frequent.IdOf("w"));
    }

    [Fact]
    public void Build_does_not_depend_on_the_order_of_the_sequences()
    {
        var random = new System.Random(3);
        string[] words = Enumerable.Range(0, 40).Select(i => "w" + (i % 13) + (i % 3 == 0 ? "x" : "")).ToArray();
        var sentences = Enumerable.Range(0, 60).Select(_ => string.Join(' ', Enumerable.Range(0, 8).Select(_ => words[random.Next(words.Length)]))).ToArray();
        string first = Vocabulary.Build(Tokenized(sentences), Tokenizer.Words, 10).ToJson();
        for (int trial = 0; trial < 5; trial++)
        {
            random.Shuffle(sentences);
            Assert.Equal(first, Vocabulary.Build(Tokenized(sentences), Tokenizer.Words, 10).ToJson());
        }
    }

    [Fact]
    public void Encode_decode_round_trips_and_unseen_words_become_unk()
    {
        var v = Vocabulary.Build(Tokenized("Don't panic, it's only 42.", "\"Quote\" me (please)!"), Tokenizer.Words, 100);
        foreach (string text in new[] { "don't panic, it's only 42.", "\"quote\" me (please)!", "please, don't quote 42!" })
            Assert.Equal(text, v.Decode(v.Encode(text)));
        int[] ids = v.Encode("Panic, zebra!");
        Assert.Equal([v.IdOf("panic"), v.IdOf(","), Vocabulary.Unknown, v.IdOf("!")], ids);
        Assert.Equal("panic, <unk>!", v.Decode(ids));
        Assert.Equal("panic", v.Decode([Vocabulary.Bos, v.IdOf("panic"), Vocabulary.Eos, v.IdOf("me"), Vocabulary.Pad]));
        Assert.Equal(Vocabulary.Unknown, v.IdOf("<pad>"));
        Assert.Throws<ArgumentOutOfRangeException>(() => v[v.Count]);
    }

    [Fact]
    public void Character_vocabulary_round_trips_text()
    {
        var v = Vocabulary.Build([Tokenizer.Characters.Tokenize("Hello, wörld!")], Tokenizer.Characters, 100);
        Assert.Equal("hello, wörld!", v.Decode(v.Encode("Hello,   Wörld!")));
        Assert.Equal("h<unk>", v.Decode(v.Encode("hq")));
    }

    [Fact]
    public void Json_round_trip_keeps_ids_and_tokenizer()
    {
        foreach (Tokenizer tokenizer in new[] { Tokenizer.Words, new Tokenizer(TokenizerKind.Character, lowerCase: false) })
        {
            var v = Vocabulary.Build([tokenizer.Tokenize("Ein \"Beispiel\" mit Ümlaut, 3.5 und \U0001F600.")], tokenizer, 50, 1);
            var back = Vocabulary.FromJson(v.ToJson(), "test");
            Assert.Equal(v.ToJson(), back.ToJson());
            Assert.Equal(tokenizer.Kind, back.Tokenizer.Kind);
            Assert.Equal(tokenizer.LowerCase, back.Tokenizer.LowerCase);
            Assert.Equal(Enumerable.Range(0, v.Count).Select(i => v[i]), Enumerable.Range(0, back.Count).Select(i => back[i]));
            Assert.Equal(50, back.MaxWords);
        }
    }

    [Theory]
    [InlineData("{not json", "does not parse")]
    [InlineData("[]", "expected a JSON object")]
    [InlineData("""{"format":"other","version":1}""", "'format' is 'other'")]
    [InlineData("""{"format":"vae-vocabulary","version":2}""", "version 2 is not supported")]
    [InlineData("""{"format":"vae-vocabulary","version":1,"tokenizer":"bpe"}""", "'tokenizer' is 'bpe'")]
    [InlineData("""{"format":"vae-vocabulary","version":1,"tokenizer":"word","lower_case":true,"max_words":5,"min_count":1}""", "'tokens' is missing")]
    [InlineData("""{"format":"vae-vocabulary","version":1,"tokenizer":"word","lower_case":true,"max_words":5,"min_count":1,"tokens":["<pad>","<bos>"]}""", "at least the 4 special tokens")]
    [InlineData("""{"format":"vae-vocabulary","version":1,"tokenizer":"word","lower_case":true,"max_words":5,"min_count":1,"tokens":["<pad>","<eos>","<bos>","<unk>"]}""", "expected the special token '<bos>'")]
    [InlineData("""{"format":"vae-vocabulary","version":1,"tokenizer":"word","lower_case":true,"max_words":5,"min_count":1,"tokens":["<pad>","<bos>","<eos>","<unk>","a","a"]}""", "'a' appears twice")]
    [InlineData("""{"format":"vae-vocabulary","version":1,"tokenizer":"word","lower_case":true,"max_words":5,"min_count":1,"tokens":["<pad>","<bos>","<eos>","<unk>",7]}""", "token 4 is Number")]
    [InlineData("""{"format":"vae-vocabulary","version":1,"tokenizer":"word","lower_case":true,"max_words":1,"min_count":1,"tokens":["<pad>","<bos>","<eos>","<unk>","a","b"]}""", "exceed the recorded cap")]
    [InlineData("""{"format":"vae-vocabulary","version":1,"tokenizer":"character","lower_case":true,"max_words":5,"min_count":1,"tokens":["<pad>","<bos>","<eos>","<unk>","ab"]}""", "not a single character")]
    [InlineData("""{"format":"vae-vocabulary","version":1,"tokenizer":"word","lower_case":"yes"}""", "'lower_case' is missing")]
    public void Corrupt_json_is_rejected_with_the_source_and_the_problem(string json, string problem)
    {
        var e = Assert.Throws<InvalidDataException>(() => Vocabulary.FromJson(json, "ckpt.safetensors"));
        Assert.StartsWith("ckpt.safetensors: corrupt vocabulary", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }
}
