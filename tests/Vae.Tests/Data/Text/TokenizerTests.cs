// Tokenizer: word-level splitting (punctuation, apostrophes, numbers, unicode letters, empty text), the
// character-level option, and Join: tokenizing joined tokens gives the same tokens back, on fixed cases and on
// thousands of random strings.
using System.Text;
using Vae.Data.Text;
using Xunit;

namespace Vae.Tests.Data.Text;

public sealed class TokenizerTests
{
    static string[] Words(string text) => Tokenizer.Words.Tokenize(text).ToArray();

    [Theory]
    [InlineData("Hello, world!", new[] { "hello", ",", "world", "!" })]
    [InlineData("Wait... what?!", new[] { "wait", ".", ".", ".", "what", "?", "!" })]
    [InlineData("(see: \"the end\")", new[] { "(", "see", ":", "\"", "the", "end", "\"", ")" })]
    [InlineData("well-known -- Mark Twain", new[] { "well", "-", "known", "-", "-", "mark", "twain" })]
    [InlineData("Don't panic; it's o'clock.", new[] { "don't", "panic", ";", "it's", "o'clock", "." })]
    [InlineData("'tis the dogs' bone", new[] { "'", "tis", "the", "dogs", "'", "bone" })]
    [InlineData("It\u2019s fine", new[] { "it\u2019s", "fine" })]
    [InlineData("pi is 3.14, not 1,000 or 7.", new[] { "pi", "is", "3.14", ",", "not", "1,000", "or", "7", "." })]
    [InlineData("mp3 files cost $5", new[] { "mp3", "files", "cost", "$", "5" })]
    [InlineData("Ça déjà VU über Straße", new[] { "ça", "déjà", "vu", "über", "straße" })]
    [InlineData("Αθήνα и Москва", new[] { "αθήνα", "и", "москва" })]
    [InlineData("cafe\u0301 ok", new[] { "cafe\u0301", "ok" })]
    [InlineData("\t  \n", new string[0])]
    [InlineData("", new string[0])]
    [InlineData("a\U0001F600b", new[] { "a", "\U0001F600", "b" })]
    public void Word_tokenizer_splits_words_numbers_and_punctuation(string text, string[] expected) =>
        Assert.Equal(expected, Words(text));

    [Fact]
    public void Word_tokenizer_can_keep_case()
    {
        Assert.Equal(["Hello", "World", "!"], new Tokenizer(TokenizerKind.Word, lowerCase: false).Tokenize("Hello World!"));
    }

    [Fact]
    public void Character_tokenizer_emits_each_scalar_value_and_single_spaces()
    {
        Assert.Equal(["h", "i", " ", "y", "o", "u", "!"], Tokenizer.Characters.Tokenize("  Hi \t\n You!  "));
        Assert.Equal(["a", "\U0001F600"], Tokenizer.Characters.Tokenize("a\U0001F600"));
        Assert.Empty(Tokenizer.Characters.Tokenize(" \n "));
        Assert.Equal("hi you!", Tokenizer.Characters.Join(Tokenizer.Characters.Tokenize("Hi   you!")));
    }

    [Theory]
    [InlineData("Hello, world!", "hello, world!")]
    [InlineData("Wait... what?!", "wait... what?!")]
    [InlineData("He said \"go away\" (twice).", "he said \"go away\" (twice).")]
    [InlineData("a well-known fact -- Mark Twain", "a well-known fact -- mark twain")]
    [InlineData("It costs $5 at 3.14% off", "it costs $5 at 3.14% off")]
    [InlineData("Don't; it's fine", "don't; it's fine")]
    [InlineData("either/or", "either/or")]
    public void Join_reattaches_punctuation(string text, string expected) =>
        Assert.Equal(expected, Tokenizer.Words.Join(Tokenizer.Words.Tokenize(text)));

    [Fact]
    public void Join_then_tokenize_gives_the_same_tokens_on_random_text()
    {
        // Letters, digits, the characters Join treats specially, apostrophes, marks and whitespace, densely mixed so
        // that tokens meet in every order.
        string alphabet = "ab9Z0é'\u2019.,;:!?()[]{}%$#\"-/_&*\u0301 \t\n";
        var random = new System.Random(7);
        foreach (Tokenizer tokenizer in new[] { Tokenizer.Words, Tokenizer.Characters })
        {
            for (int trial = 0; trial < 5000; trial++)
            {
                var text = new StringBuilder();
                int length = random.Next(0, 25);
                for (int i = 0; i < length; i++) text.Append(alphabet[random.Next(alphabet.Length)]);
                List<string> tokens = tokenizer.Tokenize(text.ToString());
                string joined = tokenizer.Join(tokens);
                Assert.True(tokens.SequenceEqual(tokenizer.Tokenize(joined)),
                    $"{tokenizer.KindName}: '{text}' -> [{string.Join("|", tokens)}] -> '{joined}' -> [{string.Join("|", tokenizer.Tokenize(joined))}]");
            }
        }
    }

    [Fact]
    public void Kind_names_round_trip()
    {
        foreach (TokenizerKind kind in Enum.GetValues<TokenizerKind>())
            Assert.Equal(kind, Tokenizer.ParseKind(Tokenizer.NameOf(kind)));
        Assert.Null(Tokenizer.ParseKind("bpe"));
    }
}
