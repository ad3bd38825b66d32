// Splits PTX text into tokens (identifiers with their dotted modifiers, numbers, punctuation, strings), dropping
// // and /* */ comments, and remembering each token's line and column for error messages.
namespace Vae.PtxInterpreter;

internal enum TokenKind : byte { Identifier, Number, Punct, String, End }

internal readonly record struct Token(TokenKind Kind, string Text, int Line, int Column)
{
    public bool Is(string text) => Kind is TokenKind.Punct or TokenKind.Identifier && Text == text;
    public override string ToString() => Kind == TokenKind.End ? "end of file" : $"'{Text}'";
}

internal static class PtxLexer
{
    public static List<Token> Tokenize(string text, string sourceName)
    {
        var tokens = new List<Token>(text.Length / 4);
        int i = 0, line = 1, lineStart = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (c == '\n') { line++; i++; lineStart = i; continue; }
            if (char.IsWhiteSpace(c)) { i++; continue; }
            int col = i - lineStart + 1;
            if (c == '/' && i + 1 < text.Length && text[i + 1] == '/')
            {
                while (i < text.Length && text[i] != '\n') i++;
                continue;
            }
            if (c == '/' && i + 1 < text.Length && text[i + 1] == '*')
            {
                int end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                if (end < 0) throw new PtxParseException(sourceName, line, col, "unterminated /* comment");
                for (int k = i; k < end; k++) if (text[k] == '\n') { line++; lineStart = k + 1; }
                i = end + 2;
                continue;
            }
            if (c == '"')
            {
                int end = text.IndexOf('"', i + 1);
                if (end < 0) throw new PtxParseException(sourceName, line, col, "unterminated string");
                tokens.Add(new Token(TokenKind.String, text[(i + 1)..end], line, col));
                i = end + 1;
                continue;
            }
            if (char.IsAsciiDigit(c))
            {
                int start = i;
                bool radix = c == '0' && i + 1 < text.Length && "xXbBfFdD".Contains(text[i + 1]);
                i++;
                while (i < text.Length)
                {
                    char d = text[i];
                    if (char.IsAsciiLetterOrDigit(d) || d == '.') { i++; continue; }
                    if ((d == '+' || d == '-') && !radix && (text[i - 1] == 'e' || text[i - 1] == 'E')) { i++; continue; }
                    break;
                }
                tokens.Add(new Token(TokenKind.Number, text[start..i], line, col));
                continue;
            }
            if (char.IsAsciiLetter(c) || c is '_' or '$' or '%' or '.')
            {
                int start = i;
                i++;
                while (i < text.Length)
                {
                    char d = text[i];
                    if (char.IsAsciiLetterOrDigit(d) || d is '_' or '$') { i++; continue; }
                    // Dotted modifiers (ld.global.f32, %tid.x) and C++-style scopes (.L1::no_allocate) stay in one token.
                    if (d == '.' && i + 1 < text.Length && (char.IsAsciiLetterOrDigit(text[i + 1]) || text[i + 1] == '_')) { i++; continue; }
                    if (d == ':' && i + 2 < text.Length && text[i + 1] == ':' && char.IsAsciiLetterOrDigit(text[i + 2])) { i += 2; continue; }
                    break;
                }
                tokens.Add(new Token(TokenKind.Identifier, text[start..i], line, col));
                continue;
            }
            if (",;:[]{}()+-@!|<>=".Contains(c))
            {
                tokens.Add(new Token(TokenKind.Punct, c.ToString(), line, col));
                i++;
                continue;
            }
            throw new PtxParseException(sourceName, line, col, $"unexpected character '{c}'");
        }
        tokens.Add(new Token(TokenKind.End, "", line, 1));
        return tokens;
    }
}
