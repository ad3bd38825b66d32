// Splits text into tokens for the text VAE, and joins tokens back into readable text. Two kinds: word-level (a
// hand-written scanner, no regular expressions: words, numbers and single punctuation characters) and
// character-level (one token per Unicode scalar value, whitespace collapsed to single spaces).
using System.Globalization;
using System.Text;

namespace Vae.Data.Text;

public enum TokenizerKind
{
    /// <summary>Words, numbers and punctuation characters (see <see cref="Tokenizer"/>).</summary>
    Word,

    /// <summary>One token per Unicode scalar value (a <see cref="Rune"/>); a space is a token too.</summary>
    Character,
}

/// <summary>
/// Word-level rules, applied to the text after lower-casing (when <see cref="LowerCase"/>) by one left-to-right scan
/// over Unicode scalar values:
/// <list type="bullet">
/// <item>whitespace separates tokens and is dropped;</item>
/// <item>a word starts at a letter or digit and continues over letters, digits and combining marks, over an
/// apostrophe (' or U+2019) that has a letter or digit before it and a letter after it ("don't", "o'clock"), and over
/// a '.' or ',' that has a digit on both sides ("3.14", "1,000");</item>
/// <item>every other character is a token of its own ("..." is three "." tokens; "well-known" is "well", "-", "known").</item>
/// </list>
/// Character-level: whitespace runs become one " " token (none at the ends) and every other scalar value is a token.
/// <see cref="Join"/> inverts tokenization up to spacing and case: tokenizing its output gives the same tokens back.
/// </summary>
public sealed class Tokenizer
{
    public Tokenizer(TokenizerKind kind, bool lowerCase = true)
    {
        if (!Enum.IsDefined(kind)) throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown tokenizer kind.");
        Kind = kind;
        LowerCase = lowerCase;
    }

    /// <summary>The word-level, lower-casing tokenizer (the default for the text VAE).</summary>
    public static Tokenizer Words { get; } = new(TokenizerKind.Word);

    /// <summary>The character-level, lower-casing tokenizer.</summary>
    public static Tokenizer Characters { get; } = new(TokenizerKind.Character);

    public TokenizerKind Kind { get; }

    /// <summary>Whether text is lower-cased (invariant culture) before it is split.</summary>
    public bool LowerCase { get; }

    /// <summary>"word" or "character", the name used in JSON and on the command line.</summary>
    public string KindName => NameOf(Kind);

    public static string NameOf(TokenizerKind kind) => kind switch
    {
        TokenizerKind.Word => "word",
        TokenizerKind.Character => "character",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown tokenizer kind."),
    };

    /// <summary>Parses "word" or "character"; null for anything else.</summary>
    public static TokenizerKind? ParseKind(string? name) => name switch
    {
        "word" => TokenizerKind.Word,
        "character" => TokenizerKind.Character,
        _ => null,
    };

    /// <summary>The tokens of <paramref name="text"/> (none for empty or all-whitespace text).</summary>
    public List<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        Tokenize(text, tokens);
        return tokens;
    }

    /// <summary>Appends the tokens of <paramref name="text"/> to <paramref name="tokens"/>.</summary>
    public void Tokenize(string text, List<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(tokens);
        if (LowerCase) text = text.ToLowerInvariant();
        if (Kind == TokenizerKind.Character) TokenizeCharacters(text, tokens);
        else TokenizeWords(text, tokens);
    }

    /// <summary>The number of tokens of <paramref name="text"/>.</summary>
    public int Count(string text)
    {
        var tokens = new List<string>();
        Tokenize(text, tokens);
        return tokens.Count;
    }

    static void TokenizeCharacters(string text, List<string> tokens)
    {
        bool pendingSpace = false;
        foreach (Rune rune in text.EnumerateRunes())
        {
            if (Rune.IsWhiteSpace(rune))
            {
                pendingSpace = tokens.Count > 0;
                continue;
            }
            if (pendingSpace) tokens.Add(" ");
            pendingSpace = false;
            tokens.Add(rune.ToString());
        }
    }

    static void TokenizeWords(string text, List<string> tokens)
    {
        int i = 0;
        while (i < text.Length)
        {
            Rune rune = RuneAt(text, i);
            if (Rune.IsWhiteSpace(rune))
            {
                i += rune.Utf16SequenceLength;
                continue;
            }
            if (!Rune.IsLetterOrDigit(rune))
            {
                tokens.Add(rune.ToString());
                i += rune.Utf16SequenceLength;
                continue;
            }
            int start = i;
            Rune previous = rune;
            i += rune.Utf16SequenceLength;
            while (i < text.Length)
            {
                Rune current = RuneAt(text, i);
                bool inWord = IsWordContinuation(current);
                if (!inWord && i + current.Utf16SequenceLength < text.Length)
                {
                    Rune next = RuneAt(text, i + current.Utf16SequenceLength);
                    inWord = (IsApostrophe(current) && Rune.IsLetterOrDigit(previous) && Rune.IsLetter(next))
                        || ((current.Value == '.' || current.Value == ',') && Rune.IsDigit(previous) && Rune.IsDigit(next));
                }
                if (!inWord) break;
                previous = current;
                i += current.Utf16SequenceLength;
            }
            tokens.Add(text[start..i]);
        }
    }

    static Rune RuneAt(string text, int index) =>
        Rune.TryGetRuneAt(text, index, out Rune rune) ? rune : Rune.ReplacementChar; // a lone surrogate: one char, read as U+FFFD

    static bool IsWordContinuation(Rune rune) =>
        Rune.IsLetterOrDigit(rune) || Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark
            or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;

    static bool IsApostrophe(Rune rune) => rune.Value is '\'' or '\u2019';

    /// <summary>
    /// Joins tokens into text. Character-level: concatenation. Word-level: tokens separated by single spaces, except
    /// no space before . , ; : ! ? ) ] } % and the apostrophe, none after ( [ { $ #, none around - and / between two
    /// words or numbers, none inside a run of the same punctuation character ("...", "--"), and double quotes
    /// alternate between opening (no space after) and closing (no space before). Words never touch each other, so
    /// tokenizing the result gives the same tokens back.
    /// </summary>
    public string Join(IReadOnlyList<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var text = new StringBuilder();
        if (Kind == TokenizerKind.Character)
        {
            foreach (string token in tokens) text.Append(token);
            return text.ToString();
        }
        bool quoteOpen = false;
        bool noSpaceAfterPrevious = true; // nothing before the first token
        for (int t = 0; t < tokens.Count; t++)
        {
            string token = tokens[t];
            bool word = IsWordToken(token);
            bool space = !noSpaceAfterPrevious;
            bool noSpaceAfter = false;
            if (!word && token.Length > 0)
            {
                char c = token[0];
                string? before = t > 0 ? tokens[t - 1] : null;
                string? after = t + 1 < tokens.Count ? tokens[t + 1] : null;
                if (token == before) space = false; // runs such as "..." and "--"
                if (token == "\"")
                {
                    if (quoteOpen) space = false;
                    else noSpaceAfter = true;
                    quoteOpen = !quoteOpen;
                }
                else if (token.Length == 1 && ".,;:!?)]}%'".Contains(c, StringComparison.Ordinal)) space = false;
                else if (token.Length == 1 && "([{$#".Contains(c, StringComparison.Ordinal)) noSpaceAfter = true;
                else if (token.Length == 1 && (c == '-' || c == '/') && before is not null && after is not null
                    && IsWordToken(before) && IsWordToken(after))
                {
                    space = false;
                    noSpaceAfter = true;
                }
            }
            if (space && text.Length > 0) text.Append(' ');
            text.Append(token);
            noSpaceAfterPrevious = noSpaceAfter;
        }
        return text.ToString();
    }

    /// <summary>Whether a word-level token is a word or number (it starts with a letter or digit).</summary>
    static bool IsWordToken(string token) => token.Length > 0 && Rune.IsLetterOrDigit(RuneAt(token, 0));
}
