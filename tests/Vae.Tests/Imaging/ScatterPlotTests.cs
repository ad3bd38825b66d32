// ScatterPlot: the PNG it writes decodes to the rendered size and pixels; each point's disc has its class colour at
// the position the axes map it to; classes without points appear only in the legend; the axes box is a black frame;
// every legend row shows the class colour swatch and the class name in the bitmap font, pixel for pixel; tick
// values are round numbers; bad input is refused.
using Vae.Imaging;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Imaging;

public sealed class ScatterPlotTests : IDisposable
{
    readonly ScratchDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    static readonly IReadOnlyList<string> Names = ScatterPlot.FashionMnistClasses;

    /// <summary>Ten points on a circle, point k of class k.</summary>
    static (float[] Points, byte[] Labels) Circle()
    {
        var points = new float[20];
        var labels = new byte[10];
        for (int k = 0; k < 10; k++)
        {
            points[2 * k] = (float)(3 * Math.Cos(2 * Math.PI * k / 10));
            points[2 * k + 1] = (float)(3 * Math.Sin(2 * Math.PI * k / 10) + 1);
            labels[k] = (byte)k;
        }
        return (points, labels);
    }

    static int CountColour(ScatterPlotImage image, (byte, byte, byte) colour, int left, int top, int width, int height)
    {
        int count = 0;
        for (int y = top; y < top + height; y++)
            for (int x = left; x < left + width; x++)
                if (image[x, y] == colour) count++;
        return count;
    }

    [Fact]
    public void The_written_png_decodes_to_the_rendered_picture()
    {
        var (points, labels) = Circle();
        string path = _folder.File("scatter.png");
        var image = ScatterPlot.Write(path, points, labels, Names, new ScatterPlotOptions { Title = "Latent means", XLabel = "z1", YLabel = "z2" });
        var png = PngDecoder.Decode(File.ReadAllBytes(path));
        Assert.Equal((image.Width, image.Height), (png.Width, png.Height));
        Assert.Equal(2, png.ColorType);   // RGB
        Assert.Equal(image.Rgb, png.Samples);
        Assert.True(image.Width > image.PlotLeft + image.PlotWidth + image.LegendWidth, "the legend sits right of the axes box");
        Assert.Equal(["scatter.png"], Directory.GetFiles(_folder.Path).Select(Path.GetFileName));   // no temporary file left
    }

    [Fact]
    public void Each_point_is_a_disc_of_its_class_colour_where_the_axes_put_it()
    {
        var (points, labels) = Circle();
        var image = ScatterPlot.Render(points, labels, Names, new ScatterPlotOptions { PointRadius = 2 });
        Assert.True(image.XMin < -3 && image.XMax > 3 && image.YMin < -2 && image.YMax > 4);
        for (int k = 0; k < 10; k++)
        {
            var (x, y) = image.PixelOf(points[2 * k], points[2 * k + 1]);
            var colour = ScatterPlot.Palette[k];
            foreach (var (dx, dy) in new[] { (0, 0), (2, 0), (-2, 0), (0, 2), (0, -2), (1, 1), (-1, -1) })
                Assert.True(image[x + dx, y + dy] == colour, $"class {k}: pixel ({x + dx}, {y + dy}) is {image[x + dx, y + dy]}, expected {colour}");
            Assert.NotEqual(colour, image[x + 4, y]);
            Assert.NotEqual(colour, image[x, y - 4]);
            // 21 pixels: the radius-2 disc (dx^2 + dy^2 <= 6)
            Assert.Equal(21, CountColour(image, colour, image.PlotLeft, image.PlotTop, image.PlotWidth, image.PlotHeight));
        }
        // The extreme points sit 5 % of the range inside the frame.
        var right = image.PixelOf(3, 1);
        Assert.Equal(image.PlotLeft + image.PlotWidth - 1, image.PixelOf(image.XMax, 0).X);
        Assert.InRange(image.PlotLeft + image.PlotWidth - 1 - right.X, 20, 35);
    }

    [Fact]
    public void Classes_without_points_appear_only_in_the_legend()
    {
        float[] points = [0, 0, 1, 1, 2, 0.5f, -1, 2];
        byte[] labels = [0, 2, 2, 9];
        var image = ScatterPlot.Render(points, labels, Names);
        for (int c = 0; c < 10; c++)
        {
            int inPlot = CountColour(image, ScatterPlot.Palette[c], image.PlotLeft, image.PlotTop, image.PlotWidth, image.PlotHeight);
            int inLegend = CountColour(image, ScatterPlot.Palette[c], image.LegendLeft, image.LegendTop, image.LegendWidth, image.LegendHeight);
            Assert.True((inPlot > 0) == labels.Contains((byte)c), $"class {c}: {inPlot} pixels in the plot");
            int swatch = ScatterPlot.LegendSwatch(2);
            Assert.Equal(swatch * swatch, inLegend);
        }
    }

    [Fact]
    public void The_axes_box_is_a_black_frame()
    {
        var (points, labels) = Circle();
        var image = ScatterPlot.Render(points, labels, Names, new ScatterPlotOptions { PlotWidth = 300, PlotHeight = 200 });
        int right = image.PlotLeft + 299, bottom = image.PlotTop + 199;
        for (int x = image.PlotLeft; x <= right; x++)
        {
            Assert.Equal(ScatterPlot.Ink, image[x, image.PlotTop]);
            Assert.Equal(ScatterPlot.Ink, image[x, bottom]);
        }
        for (int y = image.PlotTop; y <= bottom; y++)
        {
            Assert.Equal(ScatterPlot.Ink, image[image.PlotLeft, y]);
            Assert.Equal(ScatterPlot.Ink, image[right, y]);
        }
        // Inside the box only the background, grid lines and the ten class colours occur.
        var allowed = new HashSet<(byte, byte, byte)>(ScatterPlot.Palette) { ScatterPlot.Background, ScatterPlot.GridColor };
        for (int y = image.PlotTop + 1; y < bottom; y++)
            for (int x = image.PlotLeft + 1; x < right; x++) Assert.Contains(image[x, y], allowed);
    }

    [Fact]
    public void Each_legend_row_shows_the_class_colour_and_its_name_in_the_bitmap_font()
    {
        var (points, labels) = Circle();
        const int S = 2;
        var image = ScatterPlot.Render(points, labels, Names, new ScatterPlotOptions { TextScale = S });
        int swatch = ScatterPlot.LegendSwatch(S);
        Assert.Equal(10, image.LegendRows.Count);
        for (int c = 0; c < 10; c++)
        {
            int top = image.LegendRows[c], left = image.LegendLeft + 8;
            Assert.Equal(swatch * swatch, CountColour(image, ScatterPlot.Palette[c], left, top, swatch, swatch));

            string name = Names[c];
            int textLeft = left + swatch + 8;
            int inked = 0;
            for (int k = 0; k < name.Length; k++)
                for (int gy = 0; gy < BitmapFont.CellHeight; gy++)
                    for (int gx = 0; gx < BitmapFont.Advance; gx++)
                    {
                        bool set = gx < BitmapFont.GlyphWidth && BitmapFont.IsSet(name[k], gx, gy);
                        for (int sy = 0; sy < S; sy++)
                            for (int sx = 0; sx < S; sx++)
                            {
                                int x = textLeft + (k * BitmapFont.Advance + gx) * S + sx, y = top + gy * S + sy;
                                if (k == name.Length - 1 && gx == BitmapFont.GlyphWidth) continue;
                                var expected = set ? ScatterPlot.Ink : ScatterPlot.Background;
                                Assert.True(image[x, y] == expected, $"'{name}' character {k} font pixel ({gx}, {gy}) at ({x}, {y}) is {image[x, y]}");
                                if (set) inked++;
                            }
                    }
            Assert.True(inked > 20 * S * S, $"'{name}' drew only {inked} pixels");
        }
        // The legend box's frame.
        Assert.Equal(ScatterPlot.Ink, image[image.LegendLeft, image.LegendTop]);
        Assert.Equal(ScatterPlot.Ink, image[image.LegendLeft + image.LegendWidth - 1, image.LegendTop + image.LegendHeight - 1]);
    }

    [Fact]
    public void The_palette_has_ten_distinct_colours_unlike_the_background_ink_and_grid()
    {
        var all = ScatterPlot.Palette.Append(ScatterPlot.Background).Append(ScatterPlot.Ink).Append(ScatterPlot.GridColor).ToList();
        Assert.Equal(10, ScatterPlot.Palette.Count);
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Equal(10, ScatterPlot.FashionMnistClasses.Count);
        Assert.Equal("T-shirt/top", ScatterPlot.FashionMnistClasses[0]);
        Assert.Equal("Ankle boot", ScatterPlot.FashionMnistClasses[9]);
    }

    [Theory]
    [InlineData(-3.3, 3.3, new[] { -3.0, -2, -1, 0, 1, 2, 3 }, new[] { "-3", "-2", "-1", "0", "1", "2", "3" })]
    [InlineData(0.0, 0.07, new[] { 0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07 }, new[] { "0.00", "0.01", "0.02", "0.03", "0.04", "0.05", "0.06", "0.07" })]
    [InlineData(-12.0, 47.0, new[] { -10.0, 0, 10, 20, 30, 40 }, new[] { "-10", "0", "10", "20", "30", "40" })]
    [InlineData(-0.27, 0.31, new[] { -0.2, -0.1, 0, 0.1, 0.2, 0.3 }, new[] { "-0.2", "-0.1", "0.0", "0.1", "0.2", "0.3" })]
    public void Ticks_are_round_numbers_inside_the_range(double min, double max, double[] values, string[] texts)
    {
        var ticks = ScatterPlot.Ticks(min, max);
        Assert.Equal(texts, ticks.Select(t => t.Label));
        Assert.Equal(values.Length, ticks.Count);
        for (int i = 0; i < values.Length; i++) Assert.Equal(values[i], ticks[i].Value, 12);
    }

    [Fact]
    public void Identical_points_are_drawn_in_the_middle()
    {
        float[] points = [2, 2, 2, 2];
        byte[] labels = [1, 1];
        var image = ScatterPlot.Render(points, labels, ["a", "b"]);
        var (x, y) = image.PixelOf(2, 2);
        Assert.InRange(x, image.PlotLeft + image.PlotWidth / 2 - 1, image.PlotLeft + image.PlotWidth / 2 + 1);
        Assert.InRange(y, image.PlotTop + image.PlotHeight / 2 - 1, image.PlotTop + image.PlotHeight / 2 + 1);
        Assert.Equal(ScatterPlot.Palette[1], image[x, y]);
    }

    [Fact]
    public void Bad_input_is_refused_with_a_reason()
    {
        float[] points = [0, 0, 1, 1];
        Assert.Contains("label 3", Assert.Throws<ArgumentException>(() => ScatterPlot.Render(points, [0, 3], ["a", "b"])).Message, StringComparison.Ordinal);
        Assert.Contains("1 to 10 classes", Assert.Throws<ArgumentException>(() => ScatterPlot.Render(points, [0, 1],
            Enumerable.Range(0, 11).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList())).Message, StringComparison.Ordinal);
        Assert.Contains("finite", Assert.Throws<ArgumentException>(() => ScatterPlot.Render([0, float.NaN, 1, 1], [0, 1], ["a", "b"])).Message, StringComparison.Ordinal);
        Assert.Contains("coordinates", Assert.Throws<ArgumentException>(() => ScatterPlot.Render([0, 0, 1], [0, 1], ["a", "b"])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => ScatterPlot.Render([], [], ["a"]));
        string path = _folder.File("never.png");
        Assert.Throws<ArgumentException>(() => ScatterPlot.Write(path, points, [0, 5], ["a", "b"]));
        Assert.False(File.Exists(path));
    }
}
