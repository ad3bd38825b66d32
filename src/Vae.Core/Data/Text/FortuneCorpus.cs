// The text VAE's corpus: the fortunes of Debian's `fortunes` package (/usr/share/games/fortunes), one example per
// fortune. A fortune file is UTF-8 text whose entries are separated by lines holding only "%"; the strfile indexes
// (.dat), the .u8 copies and the offensive "off/" folder are not read. Each entry is cleaned up (terminal
// overstriking such as "_\bI" resolved, control characters dropped, whitespace runs collapsed to one space), exact
// duplicates are dropped, and so are entries longer than a cap measured in tokens.
using System.Text;

namespace Vae.Data.Text;

public sealed class FortuneCorpus
{
    /// <summary>Where Debian's fortunes package installs its files.</summary>
    public const string DefaultDirectory = "/usr/share/games/fortunes";

    /// <summary>How to get the files.</summary>
    public const string InstallHint = "install the fortunes package: apt-get install fortunes";

    /// <summary>
    /// The text files of Debian 12's `fortunes` and `fortunes-min` packages (version 1:1.99.1), all but
    /// "ascii-art", whose entries are pictures rather than sentences. A fixed list, so the corpus does not change
    /// with whatever else lies in the folder.
    /// </summary>
    public static IReadOnlyList<string> DefaultFiles { get; } =
    [
        "art", "computers", "cookie", "debian", "definitions", "disclaimer", "drugs", "education", "ethnic", "food",
        "fortunes", "goedel", "humorists", "kids", "knghtbrd", "law", "linux", "linuxcookie", "literature", "love",
        "magic", "medicine", "men-women", "miscellaneous", "news", "paradoxum", "people", "perl", "pets", "platitudes",
        "politics", "pratchett", "riddles", "science", "songs-poems", "sports", "startrek", "tao", "translate-me",
        "wisdom", "work", "zippy",
    ];

    FortuneCorpus(string directory, IReadOnlyList<string> files, IReadOnlyList<string> examples, int fortunes, int duplicates, int tooLong, int maxTokens)
    {
        Directory = directory;
        Files = files;
        Examples = examples;
        Fortunes = fortunes;
        Duplicates = duplicates;
        TooLong = tooLong;
        MaxTokens = maxTokens;
    }

    /// <summary>The folder the files were read from.</summary>
    public string Directory { get; }

    /// <summary>The file names read, in order.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>The kept fortunes, normalized, in file order.</summary>
    public IReadOnlyList<string> Examples { get; }

    /// <summary>Non-empty fortunes found in the files, before dropping duplicates and long ones.</summary>
    public int Fortunes { get; }

    /// <summary>Fortunes dropped because the same normalized text came earlier.</summary>
    public int Duplicates { get; }

    /// <summary>Fortunes dropped because they have more than <see cref="MaxTokens"/> tokens.</summary>
    public int TooLong { get; }

    /// <summary>The length cap in tokens (not counting &lt;bos&gt; and &lt;eos&gt;).</summary>
    public int MaxTokens { get; }

    /// <summary>
    /// Reads <paramref name="files"/> (default <see cref="DefaultFiles"/>, every one required) from
    /// <paramref name="directory"/> and keeps the distinct fortunes of 1 to <paramref name="maxTokens"/> tokens of
    /// <paramref name="tokenizer"/>.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder is missing.</exception>
    /// <exception cref="FileNotFoundException">A named file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is empty, has no separators, or is not UTF-8.</exception>
    public static FortuneCorpus Load(Tokenizer tokenizer, int maxTokens, string directory = DefaultDirectory, IReadOnlyList<string>? files = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxTokens);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!System.IO.Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Fortune folder not found: {directory}. To get the corpus, {InstallHint} (or pass the folder holding fortune files).");
        files ??= DefaultFiles;
        if (files.Count == 0) throw new ArgumentException("Name at least one fortune file.", nameof(files));
        foreach (string name in files) CheckName(name, directory);

        var examples = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int fortunes = 0, duplicates = 0, tooLong = 0;
        foreach (string name in files)
        {
            foreach (string fortune in ReadFile(Path.Combine(directory, name)))
            {
                fortunes++;
                if (!seen.Add(fortune)) { duplicates++; continue; }
                int length = tokenizer.Count(fortune);
                if (length > maxTokens) { tooLong++; continue; }
                if (length > 0) examples.Add(fortune);
            }
        }
        return new FortuneCorpus(directory, files.ToArray(), examples, fortunes, duplicates, tooLong, maxTokens);
    }

    /// <summary>
    /// The fortune files of a folder other than the package's: every regular file whose name does not start with '.' and
    /// does not end in .dat or .u8 (the strfile indexes and UTF-8 copies), in ordinal order.
    /// </summary>
    public static IReadOnlyList<string> FilesIn(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!System.IO.Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Fortune folder not found: {directory}. To get the corpus, {InstallHint} (or pass the folder holding fortune files).");
        var names = System.IO.Directory.GetFiles(directory).Select(Path.GetFileName).OfType<string>()
            .Where(n => !n.StartsWith('.') && !n.EndsWith(".dat", StringComparison.Ordinal) && !n.EndsWith(".u8", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToArray();
        if (names.Length == 0) throw new FileNotFoundException($"The folder {directory} holds no fortune files (plain text, fortunes separated by lines holding '%').");
        return names;
    }

    static void CheckName(string name, string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('/') || name.Contains('\\'))
            throw new ArgumentException($"Fortune file '{name}': expected a file name inside {directory}, found a path (the offensive off/ folder is not used).", nameof(name));
        if (name.EndsWith(".dat", StringComparison.Ordinal) || name.EndsWith(".u8", StringComparison.Ordinal))
            throw new ArgumentException($"Fortune file '{name}' is a strfile index or UTF-8 copy; name the plain text file '{Path.GetFileNameWithoutExtension(name)}' instead.", nameof(name));
        string path = Path.Combine(directory, name);
        if (!File.Exists(path))
            throw new FileNotFoundException($"Fortune file not found: {path}. To get the corpus, {InstallHint} (fortunes-min alone has only 'fortunes').", path);
    }

    /// <summary>The normalized, non-empty fortunes of the file at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is empty, has no "%" separator line, or is not valid UTF-8.</exception>
    public static List<string> ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Fortune file not found: {path}. To get the corpus, {InstallHint}.", path);
        byte[] bytes = File.ReadAllBytes(path);
        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException(
                $"{path}: unreadable encoding: expected UTF-8 text, found invalid byte(s) {FormatBytes(e.BytesUnknown)}{(e.Index >= 0 ? $" at byte {e.Index}" : "")}. " +
                $"Convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8) or reinstall it ({InstallHint}).", e);
        }
        return Parse(text, path);
    }

    static string FormatBytes(byte[]? bytes) =>
        bytes is null || bytes.Length == 0 ? "" : string.Join(" ", bytes.Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>
    /// Splits fortune-file text into normalized, non-empty fortunes; <paramref name="nameForMessages"/> names the
    /// source in errors. A byte-order mark at the start is ignored, and lines may end in "\n" or "\r\n".
    /// </summary>
    /// <exception cref="InvalidDataException">The text is empty, has no "%" separator line, or holds no fortune.</exception>
    public static List<string> Parse(string text, string nameForMessages)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(nameForMessages);
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
        if (string.IsNullOrWhiteSpace(text))
            throw new InvalidDataException($"{nameForMessages}: empty fortune file: expected fortunes separated by lines holding only '%', found {(text.Length == 0 ? "no bytes" : "only whitespace")}. Reinstall it ({InstallHint}) or leave it out.");
        var fortunes = new List<string>();
        var entry = new StringBuilder();
        int separators = 0;
        int lineStart = 0;
        while (lineStart <= text.Length)
        {
            int newline = text.IndexOf('\n', lineStart);
            int lineEnd = newline < 0 ? text.Length : newline;
            ReadOnlySpan<char> line = text.AsSpan(lineStart, lineEnd - lineStart);
            if (line.Length > 0 && line[^1] == '\r') line = line[..^1];
            if (line.SequenceEqual("%"))
            {
                separators++;
                AddEntry(entry, fortunes);
            }
            else
            {
                entry.Append(line).Append('\n');
            }
            if (newline < 0) break;
            lineStart = newline + 1;
        }
        AddEntry(entry, fortunes);
        if (separators == 0)
            throw new InvalidDataException($"{nameForMessages}: not a fortune file: expected fortunes separated by lines holding only '%', found no such line in {text.Length} characters. Name a fortune file, or {InstallHint}.");
        if (fortunes.Count == 0)
            throw new InvalidDataException($"{nameForMessages}: empty fortune file: expected fortunes between its {separators} '%' line(s), found only whitespace and control characters. Reinstall it ({InstallHint}) or leave it out.");
        return fortunes;
    }

    static void AddEntry(StringBuilder entry, List<string> fortunes)
    {
        string normalized = Normalize(entry.ToString());
        entry.Clear();
        if (normalized.Length > 0) fortunes.Add(normalized);
    }

    /// <summary>
    /// Cleans one fortune: each line's terminal overstriking is resolved (a backspace moves back one column and the
    /// next character overwrites that column, except that "_" never hides a visible character, so both "_\bI" and
    /// "I\b_" read "I"), other control characters are dropped, and every whitespace run becomes one space, none at
    /// the ends.
    /// </summary>
    public static string Normalize(string entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var result = new StringBuilder(entry.Length);
        var columns = new List<char>();
        bool pendingSpace = false;
        foreach (string line in entry.Split('\n'))
        {
            Overstrike(line, columns);
            foreach (char c in columns)
            {
                if (char.IsWhiteSpace(c)) { pendingSpace = result.Length > 0; continue; }
                if (char.IsControl(c)) continue;
                if (pendingSpace) result.Append(' ');
                pendingSpace = false;
                result.Append(c);
            }
            pendingSpace = result.Length > 0;
        }
        return result.ToString();
    }

    /// <summary>Replays a line as a terminal would print it, into <paramref name="columns"/>.</summary>
    static void Overstrike(string line, List<char> columns)
    {
        columns.Clear();
        int cursor = 0;
        foreach (char c in line)
        {
            if (c == '\b')
            {
                if (cursor > 0) cursor--;
                continue;
            }
            if (cursor == columns.Count) columns.Add(c);
            else if (c != '_' || char.IsWhiteSpace(columns[cursor]) || columns[cursor] == '_') columns[cursor] = c;
            cursor++;
        }
    }
}
