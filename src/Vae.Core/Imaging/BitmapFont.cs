// A small built-in bitmap font for labels in our PNG plots (legends, tick labels, titles): 5 x 7 pixel glyphs in a
// 5 x 9 cell (rows 0-6 hold capitals and digits, rows 7-8 the descenders of g, j, p, q, y and ','), drawn at an
// integer scale, with one blank column between characters. It covers A-Z, a-z, 0-9, space and . , : ; / - + = ( ) ' %
// _ ?; any other character is drawn as '?'. Every glyph here was drawn by hand for this project.
namespace Vae.Imaging;

public static class BitmapFont
{
    /// <summary>Glyph width in font pixels.</summary>
    public const int GlyphWidth = 5;

    /// <summary>Cell height in font pixels (7 rows above the baseline, 2 of descender).</summary>
    public const int CellHeight = 9;

    /// <summary>Height of capitals and digits in font pixels.</summary>
    public const int CapHeight = 7;

    /// <summary>Horizontal distance between the starts of consecutive characters, in font pixels.</summary>
    public const int Advance = GlyphWidth + 1;

    // Each glyph: up to 9 rows of 5 cells, '#' set and '.' clear; missing rows are clear.
    static readonly Dictionary<char, string> Source = new()
    {
        [' '] = "",
        ['0'] = ".###. #...# #..## #.#.# ##..# #...# .###.",
        ['1'] = "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
        ['2'] = ".###. #...# ....# ...#. ..#.. .#... #####",
        ['3'] = "##### ...#. ..#.. ...#. ....# #...# .###.",
        ['4'] = "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
        ['5'] = "##### #.... ####. ....# ....# #...# .###.",
        ['6'] = "..##. .#... #.... ####. #...# #...# .###.",
        ['7'] = "##### ....# ...#. ..#.. .#... .#... .#...",
        ['8'] = ".###. #...# #...# .###. #...# #...# .###.",
        ['9'] = ".###. #...# #...# .#### ....# ...#. .##..",
        ['A'] = ".###. #...# #...# ##### #...# #...# #...#",
        ['B'] = "####. #...# #...# ####. #...# #...# ####.",
        ['C'] = ".###. #...# #.... #.... #.... #...# .###.",
        ['D'] = "###.. #..#. #...# #...# #...# #..#. ###..",
        ['E'] = "##### #.... #.... ####. #.... #.... #####",
        ['F'] = "##### #.... #.... ####. #.... #.... #....",
        ['G'] = ".###. #...# #.... #.### #...# #...# .####",
        ['H'] = "#...# #...# #...# ##### #...# #...# #...#",
        ['I'] = ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
        ['J'] = "..### ...#. ...#. ...#. ...#. #..#. .##..",
        ['K'] = "#...# #..#. #.#.. ##... #.#.. #..#. #...#",
        ['L'] = "#.... #.... #.... #.... #.... #.... #####",
        ['M'] = "#...# ##.## #.#.# #.#.# #...# #...# #...#",
        ['N'] = "#...# #...# ##..# #.#.# #..## #...# #...#",
        ['O'] = ".###. #...# #...# #...# #...# #...# .###.",
        ['P'] = "####. #...# #...# ####. #.... #.... #....",
        ['Q'] = ".###. #...# #...# #...# #.#.# #..#. .##.#",
        ['R'] = "####. #...# #...# ####. #.#.. #..#. #...#",
        ['S'] = ".#### #.... #.... .###. ....# ....# ####.",
        ['T'] = "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
        ['U'] = "#...# #...# #...# #...# #...# #...# .###.",
        ['V'] = "#...# #...# #...# #...# #...# .#.#. ..#..",
        ['W'] = "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",
        ['X'] = "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
        ['Y'] = "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..",
        ['Z'] = "##### ....# ...#. ..#.. .#... #.... #####",
        ['a'] = "..... ..... .###. ....# .#### #...# .####",
        ['b'] = "#.... #.... #.##. ##..# #...# #...# ####.",
        ['c'] = "..... ..... .###. #.... #.... #...# .###.",
        ['d'] = "....# ....# .##.# #..## #...# #...# .####",
        ['e'] = "..... ..... .###. #...# ##### #.... .###.",
        ['f'] = "..##. .#..# .#... ###.. .#... .#... .#...",
        ['g'] = "..... ..... .#### #...# #...# #...# .#### ....# .###.",
        ['h'] = "#.... #.... #.##. ##..# #...# #...# #...#",
        ['i'] = "..#.. ..... .##.. ..#.. ..#.. ..#.. .###.",
        ['j'] = "...#. ..... ..##. ...#. ...#. ...#. ...#. #..#. .##..",
        ['k'] = "#.... #.... #..#. #.#.. ##... #.#.. #..#.",
        ['l'] = ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
        ['m'] = "..... ..... ##.#. #.#.# #.#.# #.#.# #.#.#",
        ['n'] = "..... ..... #.##. ##..# #...# #...# #...#",
        ['o'] = "..... ..... .###. #...# #...# #...# .###.",
        ['p'] = "..... ..... ####. #...# #...# #...# ####. #.... #....",
        ['q'] = "..... ..... .#### #...# #...# #...# .#### ....# ....#",
        ['r'] = "..... ..... #.##. ##..# #.... #.... #....",
        ['s'] = "..... ..... .###. #.... .###. ....# ####.",
        ['t'] = ".#... .#... ###.. .#... .#... .#..# ..##.",
        ['u'] = "..... ..... #...# #...# #...# #..## .##.#",
        ['v'] = "..... ..... #...# #...# #...# .#.#. ..#..",
        ['w'] = "..... ..... #...# #...# #.#.# #.#.# .#.#.",
        ['x'] = "..... ..... #...# .#.#. ..#.. .#.#. #...#",
        ['y'] = "..... ..... #...# #...# #...# #...# .#### ....# .###.",
        ['z'] = "..... ..... ##### ...#. ..#.. .#... #####",
        ['.'] = "..... ..... ..... ..... ..... .##.. .##..",
        [','] = "..... ..... ..... ..... ..... .##.. .##.. .#...",
        [':'] = "..... .##.. .##.. ..... .##.. .##.. .....",
        [';'] = "..... ..... .##.. .##.. ..... .##.. .##.. .#...",
        ['/'] = "..... ....# ...#. ..#.. .#... #.... .....",
        ['-'] = "..... ..... ..... .###. ..... ..... .....",
        ['+'] = "..... ..#.. ..#.. ##### ..#.. ..#.. .....",
        ['='] = "..... ..... ##### ..... ##### ..... .....",
        ['('] = "...#. ..#.. .#... .#... .#... ..#.. ...#.",
        [')'] = ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
        ['\''] = "..#.. ..#.. .#... ..... ..... ..... .....",
        ['%'] = "##... ##..# ...#. ..#.. .#... #..## ...##",
        ['_'] = "..... ..... ..... ..... ..... ..... ..... #####",
        ['?'] = ".###. #...# ....# ...#. ..#.. ..... ..#..",
    };

    static readonly Dictionary<char, bool[]> Glyphs = Source.ToDictionary(e => e.Key, e => Parse(e.Key, e.Value));

    /// <summary>The characters with a glyph of their own.</summary>
    public static IEnumerable<char> Characters => Source.Keys;

    public static bool HasGlyph(char c) => Glyphs.ContainsKey(c);

    /// <summary>Whether font pixel (x, y) of <paramref name="c"/>'s cell is set (x in [0, 5), y in [0, 9)).</summary>
    public static bool IsSet(char c, int x, int y)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(x);
        ArgumentOutOfRangeException.ThrowIfNegative(y);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(x, GlyphWidth);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(y, CellHeight);
        return Glyph(c)[y * GlyphWidth + x];
    }

    /// <summary>Width in image pixels of <paramref name="text"/> drawn at <paramref name="scale"/> (no trailing gap).</summary>
    public static int MeasureWidth(string text, int scale)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scale);
        return text.Length == 0 ? 0 : (text.Length * Advance - 1) * scale;
    }

    /// <summary>Height in image pixels of one line at <paramref name="scale"/> (the whole cell, descenders included).</summary>
    public static int LineHeight(int scale) => CellHeight * scale;

    /// <summary>
    /// Draws <paramref name="text"/> with its cell's top-left corner at (<paramref name="left"/>, <paramref name="top"/>):
    /// calls <paramref name="plot"/>(x, y) for every image pixel of every set font pixel, each font pixel becoming a
    /// scale x scale square. Pixels outside the picture are the caller's to clip.
    /// </summary>
    public static void Draw(string text, int left, int top, int scale, Action<int, int> plot)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(plot);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scale);
        for (int k = 0; k < text.Length; k++)
        {
            var glyph = Glyph(text[k]);
            int x0 = left + k * Advance * scale;
            for (int gy = 0; gy < CellHeight; gy++)
                for (int gx = 0; gx < GlyphWidth; gx++)
                {
                    if (!glyph[gy * GlyphWidth + gx]) continue;
                    for (int sy = 0; sy < scale; sy++)
                        for (int sx = 0; sx < scale; sx++)
                            plot(x0 + gx * scale + sx, top + gy * scale + sy);
                }
        }
    }

    static bool[] Glyph(char c) => Glyphs.TryGetValue(c, out var g) ? g : Glyphs['?'];

    static bool[] Parse(char c, string source)
    {
        var rows = source.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (rows.Length > CellHeight) throw new InvalidOperationException($"Glyph '{c}' has {rows.Length} rows; at most {CellHeight}.");
        var cells = new bool[GlyphWidth * CellHeight];
        for (int y = 0; y < rows.Length; y++)
        {
            if (rows[y].Length != GlyphWidth) throw new InvalidOperationException($"Glyph '{c}' row {y} is '{rows[y]}'; rows are {GlyphWidth} cells.");
            for (int x = 0; x < GlyphWidth; x++)
                cells[y * GlyphWidth + x] = rows[y][x] switch
                {
                    '#' => true,
                    '.' => false,
                    _ => throw new InvalidOperationException($"Glyph '{c}' row {y} has '{rows[y][x]}'; use '#' and '.'."),
                };
        }
        return cells;
    }
}
