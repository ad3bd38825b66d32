// The token <-> id table of the text VAE: four special tokens (<pad> = 0, <bos> = 1, <eos> = 2, <unk> = 3), then the
// most frequent tokens of the training split, most frequent first. It carries its tokenizer's settings and
// serializes to a small JSON string so a checkpoint can store it in its metadata and give the same ids back.
using System.Text;
using System.Text.Json;

namespace Vae.Data.Text;

public sealed class Vocabulary
{
    public const int Pad = 0;
    public const int Bos = 1;
    public const int Eos = 2;
    public const int Unknown = 3;

    /// <summary>The number of special tokens; word ids start here.</summary>
    public const int SpecialCount = 4;

    /// <summary>The JSON "format" field.</summary>
    public const string Format = "vae-vocabulary";
    public const int Version = 1;

    static readonly string[] Specials = ["<pad>", "<bos>", "<eos>", "<unk>"];

    readonly string[] _tokens;
    readonly Dictionary<string, int> _ids;

    Vocabulary(Tokenizer tokenizer, string[] tokens, int maxWords, int minCount)
    {
        Tokenizer = tokenizer;
        _tokens = tokens;
        _ids = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (int i = 0; i < tokens.Length; i++)
            if (!_ids.TryAdd(tokens[i], i)) throw new ArgumentException($"Vocabulary token '{tokens[i]}' appears twice (ids {_ids[tokens[i]]} and {i}).", nameof(tokens));
        MaxWords = maxWords;
        MinCount = minCount;
    }

    /// <summary>The special tokens, in id order: &lt;pad&gt;, &lt;bos&gt;, &lt;eos&gt;, &lt;unk&gt;.</summary>
    public static IReadOnlyList<string> SpecialTokens => Specials;

    /// <summary>The tokenizer whose tokens this vocabulary numbers.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary>The number of ids, special tokens included.</summary>
    public int Count => _tokens.Length;

    /// <summary>The cap on non-special tokens this vocabulary was built with.</summary>
    public int MaxWords { get; }

    /// <summary>The least training-split count a token needed to get an id.</summary>
    public int MinCount { get; }

    /// <summary>The token with id <paramref name="id"/>.</summary>
    public string this[int id]
    {
        get
        {
            if ((uint)id >= (uint)_tokens.Length)
                throw new ArgumentOutOfRangeException(nameof(id), id, $"Token ids run from 0 to {_tokens.Length - 1}.");
            return _tokens[id];
        }
    }

    /// <summary>The id of <paramref name="token"/>, or <see cref="Unknown"/> when it has none.</summary>
    public int IdOf(string token) => _ids.TryGetValue(token, out int id) && id >= SpecialCount ? id : Unknown;

    public bool Contains(string token) => _ids.TryGetValue(token, out int id) && id >= SpecialCount;

    /// <summary>
    /// Builds the vocabulary of <paramref name="sequences"/> (the tokenized training split): every token seen at
    /// least <paramref name="minCount"/> times, the <paramref name="maxWords"/> most frequent of them, ordered by count
    /// (descending), ties by ordinal string order, so the result depends only on the multiset of tokens.
    /// </summary>
    public static Vocabulary Build(IEnumerable<IReadOnlyList<string>> sequences, Tokenizer tokenizer, int maxWords, int minCount = 1)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxWords);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minCount);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (IReadOnlyList<string> sequence in sequences)
            foreach (string token in sequence)
                counts[token] = counts.GetValueOrDefault(token) + 1;
        var words = new List<KeyValuePair<string, int>>(counts.Count);
        foreach (var pair in counts)
            if (pair.Value >= minCount && Array.IndexOf(Specials, pair.Key) < 0 && pair.Key.Length > 0) words.Add(pair);
        words.Sort((a, b) => a.Value != b.Value ? b.Value.CompareTo(a.Value) : string.CompareOrdinal(a.Key, b.Key));
        int kept = Math.Min(maxWords, words.Count);
        var tokens = new string[SpecialCount + kept];
        Specials.CopyTo(tokens, 0);
        for (int i = 0; i < kept; i++) tokens[SpecialCount + i] = words[i].Key;
        return new Vocabulary(tokenizer, tokens, maxWords, minCount);
    }

    /// <summary>The ids of the tokens of <paramref name="text"/>, without &lt;bos&gt; and &lt;eos&gt;.</summary>
    public int[] Encode(string text)
    {
        List<string> tokens = Tokenizer.Tokenize(text);
        var ids = new int[tokens.Count];
        for (int i = 0; i < ids.Length; i++) ids[i] = IdOf(tokens[i]);
        return ids;
    }

    /// <summary>
    /// The text of <paramref name="ids"/>: &lt;pad&gt; and &lt;bos&gt; are skipped, &lt;eos&gt; ends the text,
    /// &lt;unk&gt; is written as "&lt;unk&gt;", and the tokens are joined by <see cref="Tokenizer.Join"/>.
    /// </summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var tokens = new List<string>(ids.Length);
        foreach (int id in ids)
        {
            if (id == Eos) break;
            if (id == Pad || id == Bos) continue;
            tokens.Add(this[id]);
        }
        return Tokenizer.Join(tokens);
    }

    /// <summary>
    /// The vocabulary as one JSON object: {"format":"vae-vocabulary","version":1,"tokenizer":"word"|"character",
    /// "lower_case":bool,"max_words":N,"min_count":M,"tokens":[all tokens in id order, specials first]}.
    /// </summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("format", Format);
            w.WriteNumber("version", Version);
            w.WriteString("tokenizer", Tokenizer.KindName);
            w.WriteBoolean("lower_case", Tokenizer.LowerCase);
            w.WriteNumber("max_words", MaxWords);
            w.WriteNumber("min_count", MinCount);
            w.WriteStartArray("tokens");
            foreach (string token in _tokens) w.WriteStringValue(token);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Reads a vocabulary written by <see cref="ToJson"/>; <paramref name="source"/> names it in messages.</summary>
    /// <exception cref="InvalidDataException">The JSON is corrupt or does not describe a valid vocabulary.</exception>
    public static Vocabulary FromJson(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(source);
        JsonDocument document;
        try { document = JsonDocument.Parse(json); }
        catch (JsonException e) { throw Invalid(source, $"the vocabulary JSON does not parse ({e.Message})", e); }
        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Invalid(source, $"expected a JSON object, found {root.ValueKind}");
            string format = String(root, "format", source);
            if (format != Format) throw Invalid(source, $"field 'format' is '{format}', expected '{Format}'");
            int version = Integer(root, "version", source);
            if (version != Version) throw Invalid(source, $"vocabulary version {version} is not supported; expected {Version}");
            string kindName = String(root, "tokenizer", source);
            TokenizerKind kind = Tokenizer.ParseKind(kindName)
                ?? throw Invalid(source, $"field 'tokenizer' is '{kindName}', expected 'word' or 'character'");
            if (!root.TryGetProperty("lower_case", out JsonElement lower) || lower.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                throw Invalid(source, "field 'lower_case' is missing or not true/false");
            int maxWords = Integer(root, "max_words", source);
            int minCount = Integer(root, "min_count", source);
            if (maxWords <= 0 || minCount <= 0) throw Invalid(source, $"expected positive 'max_words' and 'min_count', found {maxWords} and {minCount}");
            if (!root.TryGetProperty("tokens", out JsonElement array) || array.ValueKind != JsonValueKind.Array)
                throw Invalid(source, "field 'tokens' is missing or not an array");
            int length = array.GetArrayLength();
            if (length < SpecialCount) throw Invalid(source, $"expected at least the {SpecialCount} special tokens, found {length} tokens");
            if (length - SpecialCount > maxWords) throw Invalid(source, $"{length - SpecialCount} words exceed the recorded cap max_words = {maxWords}");
            var tokens = new string[length];
            var seen = new Dictionary<string, int>(length, StringComparer.Ordinal);
            int i = 0;
            foreach (JsonElement element in array.EnumerateArray())
            {
                if (element.ValueKind != JsonValueKind.String) throw Invalid(source, $"token {i} is {element.ValueKind}, expected a string");
                string token = element.GetString()!;
                if (i < SpecialCount && token != Specials[i]) throw Invalid(source, $"token {i} is '{token}', expected the special token '{Specials[i]}'");
                if (token.Length == 0) throw Invalid(source, $"token {i} is empty");
                if (kind == TokenizerKind.Character && i >= SpecialCount && !IsOneScalarValue(token))
                    throw Invalid(source, $"token {i} '{token}' is not a single character, as a character-level vocabulary needs");
                if (!seen.TryAdd(token, i)) throw Invalid(source, $"token '{token}' appears twice (ids {seen[token]} and {i})");
                tokens[i++] = token;
            }
            return new Vocabulary(new Tokenizer(kind, lower.GetBoolean()), tokens, maxWords, minCount);
        }
    }

    static bool IsOneScalarValue(string token) =>
        Rune.DecodeFromUtf16(token, out _, out int used) == System.Buffers.OperationStatus.Done && used == token.Length;

    static string String(JsonElement root, string name, string source) =>
        root.TryGetProperty(name, out JsonElement e) && e.ValueKind == JsonValueKind.String
            ? e.GetString()!
            : throw Invalid(source, $"field '{name}' is missing or not a string");

    static int Integer(JsonElement root, string name, string source) =>
        root.TryGetProperty(name, out JsonElement e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int value)
            ? value
            : throw Invalid(source, $"field '{name}' is missing or not an integer");

    static InvalidDataException Invalid(string source, string problem, Exception? inner = null) =>
        new($"{source}: corrupt vocabulary: {problem}. Re-create the checkpoint (train again) or restore an intact copy.", inner);
}
