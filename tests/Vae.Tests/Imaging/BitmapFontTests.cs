// BitmapFont: every character the plots need has its own glyph, no two glyphs are the same picture, capitals and
// digits stay above the baseline while only g j p q y (and , ; _) descend, and Draw/MeasureWidth honour the scale.
using Vae.Imaging;
using Xunit;

namespace Vae.Tests.Imaging;

public sealed class BitmapFontTests
{
    const string Required = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/-. ";

    static string Picture(char c)
    {
        var cells = new char[BitmapFont.GlyphWidth * BitmapFont.CellHeight];
        for (int y = 0; y < BitmapFont.CellHeight; y++)
            for (int x = 0; x < BitmapFont.GlyphWidth; x++) cells[y * BitmapFont.GlyphWidth + x] = BitmapFont.IsSet(c, x, y) ? '#' : '.';
        return new string(cells);
    }

    [Fact]
    public void Every_needed_character_has_a_distinct_glyph()
    {
        foreach (char c in Required) Assert.True(BitmapFont.HasGlyph(c), $"no glyph for '{c}'");
        var pictures = BitmapFont.Characters.ToDictionary(c => c, Picture);
        foreach (var (c, picture) in pictures)
        {
            if (c != ' ') Assert.Contains('#', picture);
            var twins = pictures.Where(p => p.Key != c && p.Value == picture).Select(p => p.Key).ToList();
            Assert.True(twins.Count == 0, $"'{c}' looks exactly like '{string.Join("', '", twins)}'");
        }
        Assert.DoesNotContain('#', Picture(' '));
    }

    [Fact]
    public void Only_descending_characters_reach_below_the_baseline()
    {
        const string Descending = "gjpqy,;_";
        foreach (char c in BitmapFont.Characters)
        {
            bool below = false;
            for (int y = BitmapFont.CapHeight; y < BitmapFont.CellHeight; y++)
                for (int x = 0; x < BitmapFont.GlyphWidth; x++) below |= BitmapFont.IsSet(c, x, y);
            Assert.True(below == Descending.Contains(c), $"'{c}' {(below ? "descends" : "does not descend")}");
        }
    }

    [Fact]
    public void Unknown_characters_are_drawn_as_a_question_mark()
    {
        Assert.False(BitmapFont.HasGlyph('€'));
        Assert.Equal(Picture('?'), Picture('€'));
    }

    [Theory]
    [InlineData("T-shirt/top", 1)]
    [InlineData("Ankle boot", 2)]
    [InlineData("-0.5", 3)]
    public void Draw_scales_every_font_pixel_to_a_square_and_advances_six_columns(string text, int scale)
    {
        var plotted = new HashSet<(int, int)>();
        int calls = 0;
        BitmapFont.Draw(text, 10, 20, scale, (x, y) => { plotted.Add((x, y)); calls++; });
        Assert.Equal(calls, plotted.Count);   // no pixel twice

        var expected = new HashSet<(int, int)>();
        for (int k = 0; k < text.Length; k++)
            for (int gy = 0; gy < BitmapFont.CellHeight; gy++)
                for (int gx = 0; gx < BitmapFont.GlyphWidth; gx++)
                    if (BitmapFont.IsSet(text[k], gx, gy))
                        for (int sy = 0; sy < scale; sy++)
                            for (int sx = 0; sx < scale; sx++)
                                expected.Add((10 + (k * 6 + gx) * scale + sx, 20 + gy * scale + sy));
        Assert.Equal(expected, plotted);

        int width = BitmapFont.MeasureWidth(text, scale);
        Assert.Equal((6 * text.Length - 1) * scale, width);
        Assert.All(plotted, p => Assert.InRange(p.Item1, 10, 10 + width - 1));
        Assert.All(plotted, p => Assert.InRange(p.Item2, 20, 20 + BitmapFont.LineHeight(scale) - 1));
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BitmapFont.IsSet('A', 5, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => BitmapFont.IsSet('A', 0, 9));
        Assert.Throws<ArgumentOutOfRangeException>(() => BitmapFont.MeasureWidth("A", 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => BitmapFont.Draw("A", 0, 0, 0, (_, _) => { }));
        Assert.Equal(0, BitmapFont.MeasureWidth("", 2));
    }
}
