// PNG scatter plots of labelled 2-D points (latent means, PCA and t-SNE maps): every point is a filled disc in its
// class's colour (ten distinct colours, matplotlib's "tab10" palette), inside a black axes box with light grid
// lines, tick marks and tick labels at round numbers, axis labels, an optional title and a legend box naming each
// class next to its colour swatch. All text uses BitmapFont. Points are drawn opaque in the order given, so a caller
// that wants no class to hide another passes them shuffled (a test set usually is).
using System.Globalization;

namespace Vae.Imaging;

/// <summary>What <see cref="ScatterPlot.Render"/> draws besides the points, and how large.</summary>
public sealed record ScatterPlotOptions
{
    public string? Title { get; init; }
    public string XLabel { get; init; } = "x";
    public string YLabel { get; init; } = "y";
    /// <summary>Size of the axes box in pixels, frame included.</summary>
    public int PlotWidth { get; init; } = 600;
    public int PlotHeight { get; init; } = 600;
    /// <summary>Radius of each point's disc in pixels (0 draws single pixels).</summary>
    public int PointRadius { get; init; } = 2;
    /// <summary>Integer magnification of the bitmap font.</summary>
    public int TextScale { get; init; } = 2;
}

/// <summary>A rendered plot: RGB bytes plus where things are, so callers (and tests) can find points and the legend.</summary>
public sealed class ScatterPlotImage
{
    internal ScatterPlotImage(int width, int height, byte[] rgb, int plotLeft, int plotTop, int plotWidth, int plotHeight,
        double xMin, double xMax, double yMin, double yMax, int legendLeft, int legendTop, int legendWidth, int legendHeight, int[] legendRows)
    {
        Width = width; Height = height; Rgb = rgb;
        PlotLeft = plotLeft; PlotTop = plotTop; PlotWidth = plotWidth; PlotHeight = plotHeight;
        XMin = xMin; XMax = xMax; YMin = yMin; YMax = yMax;
        LegendLeft = legendLeft; LegendTop = legendTop; LegendWidth = legendWidth; LegendHeight = legendHeight;
        LegendRows = legendRows;
    }

    public int Width { get; }
    public int Height { get; }
    /// <summary>Height rows of Width R, G, B triples, top row first.</summary>
    public byte[] Rgb { get; }
    /// <summary>The axes box (its 1-pixel black frame included): columns PlotLeft .. PlotLeft + PlotWidth - 1, rows likewise.</summary>
    public int PlotLeft { get; }
    public int PlotTop { get; }
    public int PlotWidth { get; }
    public int PlotHeight { get; }
    /// <summary>The data range the box's frame stands for (the points' range plus 5 % on each side).</summary>
    public double XMin { get; }
    public double XMax { get; }
    public double YMin { get; }
    public double YMax { get; }
    /// <summary>The legend box (frame included).</summary>
    public int LegendLeft { get; }
    public int LegendTop { get; }
    public int LegendWidth { get; }
    public int LegendHeight { get; }
    /// <summary>For each class, the top row of its legend swatch (the swatch is LegendSwatch pixels square, at column LegendLeft + 8).</summary>
    public IReadOnlyList<int> LegendRows { get; }

    /// <summary>The pixel (column, row) at which a data point's disc is centred.</summary>
    public (int X, int Y) PixelOf(double x, double y) =>
        (PlotLeft + (int)Math.Round((x - XMin) / (XMax - XMin) * (PlotWidth - 1)),
         PlotTop + (int)Math.Round((YMax - y) / (YMax - YMin) * (PlotHeight - 1)));

    public (byte R, byte G, byte B) this[int x, int y]
    {
        get
        {
            int o = (y * Width + x) * 3;
            return (Rgb[o], Rgb[o + 1], Rgb[o + 2]);
        }
    }
}

public static class ScatterPlot
{
    /// <summary>Fashion-MNIST's class names, label 0 to 9.</summary>
    public static IReadOnlyList<string> FashionMnistClasses { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The class colours, label 0 to 9 (matplotlib's tab10).</summary>
    public static IReadOnlyList<(byte R, byte G, byte B)> Palette { get; } =
    [
        (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
        (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
    ];

    public static (byte R, byte G, byte B) Background => (255, 255, 255);
    public static (byte R, byte G, byte B) Ink => (0, 0, 0);
    public static (byte R, byte G, byte B) GridColor => (232, 232, 232);

    const int Margin = 12, TickLength = 5, LegendPadding = 8;

    /// <summary>The side of a legend swatch in pixels at a text scale.</summary>
    public static int LegendSwatch(int textScale) => BitmapFont.CapHeight * textScale;

    /// <summary>
    /// Draws <paramref name="labels"/>.Length points (<paramref name="points"/> holds x, y pairs), point i in the colour
    /// of class labels[i]; <paramref name="classNames"/> names the classes (at most ten) for the legend.
    /// </summary>
    public static ScatterPlotImage Render(ReadOnlySpan<float> points, ReadOnlySpan<byte> labels, IReadOnlyList<string> classNames, ScatterPlotOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        options ??= new ScatterPlotOptions();
        int n = labels.Length;
        if (points.Length != 2 * n) throw new ArgumentException($"{n} labels need {2 * n} coordinates (x, y pairs); got {points.Length}.", nameof(points));
        if (n == 0) throw new ArgumentException("A scatter plot needs at least one point.", nameof(points));
        if (classNames.Count < 1 || classNames.Count > Palette.Count)
            throw new ArgumentException($"A scatter plot colours 1 to {Palette.Count} classes distinctly; got {classNames.Count} class names.", nameof(classNames));
        if (options.PlotWidth < 50 || options.PlotHeight < 50) throw new ArgumentException("The plot box must be at least 50 x 50 pixels.", nameof(options));
        if (options.PointRadius < 0 || options.PointRadius > 20) throw new ArgumentException("The point radius must be in [0, 20].", nameof(options));
        if (options.TextScale < 1 || options.TextScale > 8) throw new ArgumentException("The text scale must be in [1, 8].", nameof(options));
        for (int i = 0; i < n; i++)
        {
            if (labels[i] >= classNames.Count)
                throw new ArgumentException($"Point {i} has label {labels[i]}, but only {classNames.Count} class names were given.", nameof(labels));
            if (!float.IsFinite(points[2 * i]) || !float.IsFinite(points[2 * i + 1]))
                throw new ArgumentException($"Point {i} is ({points[2 * i]}, {points[2 * i + 1]}); coordinates must be finite.", nameof(points));
        }

        var (xMin, xMax) = PaddedRange(points, 0);
        var (yMin, yMax) = PaddedRange(points, 1);
        var xTicks = Ticks(xMin, xMax);
        var yTicks = Ticks(yMin, yMax);

        int s = options.TextScale, line = BitmapFont.LineHeight(s), cap = BitmapFont.CapHeight * s;
        int yTickWidth = yTicks.Max(t => BitmapFont.MeasureWidth(t.Label, s));
        int plotLeft = Margin + Math.Max(yTickWidth + 4 + TickLength, BitmapFont.MeasureWidth(options.YLabel, s) / 2);
        int plotTop = Margin + (options.Title is null ? 0 : line + 8) + line + 6;
        int pw = options.PlotWidth, ph = options.PlotHeight;
        int plotRight = plotLeft + pw - 1, plotBottom = plotTop + ph - 1;

        int swatch = LegendSwatch(s);
        int nameWidth = classNames.Max(c => BitmapFont.MeasureWidth(c, s));
        int legendLeft = plotRight + 20;
        int legendTop = plotTop;
        int pitch = line + 4;
        int legendWidth = 2 * LegendPadding + swatch + 8 + nameWidth;
        int legendHeight = 2 * LegendPadding + classNames.Count * pitch - 4;

        int xLabelTop = plotBottom + TickLength + 4 + line + 6;
        int width = Math.Max(legendLeft + legendWidth + Margin, plotRight + 1 + Margin);
        width = Math.Max(width, plotLeft + BitmapFont.MeasureWidth(options.Title ?? "", s) + Margin);
        int height = Math.Max(xLabelTop + line + Margin, legendTop + legendHeight + Margin);

        var canvas = new Canvas(width, height);
        canvas.Fill(0, 0, width, height, Background);

        // Grid lines at the ticks, then the points, then the frame, ticks and text over them.
        double Column(double x) => plotLeft + (x - xMin) / (xMax - xMin) * (pw - 1);
        double Row(double y) => plotTop + (yMax - y) / (yMax - yMin) * (ph - 1);
        foreach (var t in xTicks) canvas.Fill((int)Math.Round(Column(t.Value)), plotTop + 1, 1, ph - 2, GridColor);
        foreach (var t in yTicks) canvas.Fill(plotLeft + 1, (int)Math.Round(Row(t.Value)), pw - 2, 1, GridColor);

        int r = options.PointRadius;
        for (int i = 0; i < n; i++)
        {
            int cx = plotLeft + (int)Math.Round((points[2 * i] - xMin) / (xMax - xMin) * (pw - 1));
            int cy = plotTop + (int)Math.Round((yMax - points[2 * i + 1]) / (yMax - yMin) * (ph - 1));
            var colour = Palette[labels[i]];
            for (int dy = -r; dy <= r; dy++)
                for (int dx = -r; dx <= r; dx++)
                {
                    if (dx * dx + dy * dy > r * r + r) continue;   // a slightly full disc looks rounder at small radii
                    int px = cx + dx, py = cy + dy;
                    if (px > plotLeft && px < plotRight && py > plotTop && py < plotBottom) canvas.Set(px, py, colour);
                }
        }

        canvas.Frame(plotLeft, plotTop, pw, ph, Ink);
        foreach (var t in xTicks)
        {
            int x = (int)Math.Round(Column(t.Value));
            canvas.Fill(x, plotBottom + 1, 1, TickLength, Ink);
            int w = BitmapFont.MeasureWidth(t.Label, s);
            canvas.Text(t.Label, x - w / 2, plotBottom + TickLength + 4, s, Ink);
        }
        foreach (var t in yTicks)
        {
            int y = (int)Math.Round(Row(t.Value));
            canvas.Fill(plotLeft - TickLength, y, TickLength, 1, Ink);
            int w = BitmapFont.MeasureWidth(t.Label, s);
            canvas.Text(t.Label, plotLeft - TickLength - 4 - w, y - cap / 2, s, Ink);
        }
        int xLabelWidth = BitmapFont.MeasureWidth(options.XLabel, s);
        canvas.Text(options.XLabel, plotLeft + (pw - xLabelWidth) / 2, xLabelTop, s, Ink);
        canvas.Text(options.YLabel, Math.Max(Margin, plotLeft - BitmapFont.MeasureWidth(options.YLabel, s) / 2), plotTop - 6 - line, s, Ink);
        if (options.Title is not null) canvas.Text(options.Title, plotLeft, Margin, s, Ink);

        canvas.Frame(legendLeft, legendTop, legendWidth, legendHeight, Ink);
        var legendRows = new int[classNames.Count];
        for (int c = 0; c < classNames.Count; c++)
        {
            int top = legendTop + LegendPadding + c * pitch;
            legendRows[c] = top;
            canvas.Fill(legendLeft + LegendPadding, top, swatch, swatch, Palette[c]);
            canvas.Text(classNames[c], legendLeft + LegendPadding + swatch + 8, top, s, Ink);
        }

        return new ScatterPlotImage(width, height, canvas.Pixels, plotLeft, plotTop, pw, ph, xMin, xMax, yMin, yMax,
            legendLeft, legendTop, legendWidth, legendHeight, legendRows);
    }

    /// <summary>Renders as <see cref="Render"/> does and writes the picture as an RGB PNG, atomically.</summary>
    public static ScatterPlotImage Write(string path, ReadOnlySpan<float> points, ReadOnlySpan<byte> labels, IReadOnlyList<string> classNames, ScatterPlotOptions? options = null)
    {
        var image = Render(points, labels, classNames, options);
        PngEncoder.WriteRgb(path, image.Rgb, image.Width, image.Height);
        return image;
    }

    /// <summary>The range of coordinate <paramref name="axis"/> widened by 5 % on each side (a zero range becomes +-1 around the value).</summary>
    static (double Min, double Max) PaddedRange(ReadOnlySpan<float> points, int axis)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        for (int i = axis; i < points.Length; i += 2) { min = Math.Min(min, points[i]); max = Math.Max(max, points[i]); }
        double span = max - min;
        if (span <= Math.Max(Math.Abs(min), Math.Abs(max)) * 1e-9 || span == 0) return (min - 1, max + 1);
        return (min - 0.05 * span, max + 0.05 * span);
    }

    /// <summary>Ticks at multiples of 1, 2 or 5 x 10^k inside [min, max], about six of them, with labels at that precision.</summary>
    public static List<(double Value, string Label)> Ticks(double min, double max)
    {
        double raw = (max - min) / 6;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double normalized = raw / magnitude;
        double step = (normalized < 1.5 ? 1 : normalized < 3 ? 2 : normalized < 7 ? 5 : 10) * magnitude;
        int decimals = Math.Max(0, -(int)Math.Floor(Math.Log10(step) + 1e-9));
        var ticks = new List<(double, string)>();
        for (double k = Math.Ceiling(min / step - 1e-9); k * step <= max + step * 1e-9; k++)
        {
            double value = k * step;
            if (Math.Abs(value) < step * 1e-6) value = 0;   // no "-0"
            ticks.Add((value, value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)));
        }
        return ticks;
    }

    /// <summary>An RGB drawing surface; drawing outside it is clipped.</summary>
    sealed class Canvas(int width, int height)
    {
        public byte[] Pixels { get; } = new byte[width * height * 3];

        public void Set(int x, int y, (byte R, byte G, byte B) c)
        {
            if ((uint)x >= (uint)width || (uint)y >= (uint)height) return;
            int o = (y * width + x) * 3;
            Pixels[o] = c.R;
            Pixels[o + 1] = c.G;
            Pixels[o + 2] = c.B;
        }

        public void Fill(int left, int top, int w, int h, (byte R, byte G, byte B) c)
        {
            for (int y = top; y < top + h; y++)
                for (int x = left; x < left + w; x++) Set(x, y, c);
        }

        public void Frame(int left, int top, int w, int h, (byte R, byte G, byte B) c)
        {
            Fill(left, top, w, 1, c);
            Fill(left, top + h - 1, w, 1, c);
            Fill(left, top, 1, h, c);
            Fill(left + w - 1, top, 1, h, c);
        }

        public void Text(string text, int left, int top, int scale, (byte R, byte G, byte B) c) =>
            BitmapFont.Draw(text, left, top, scale, (x, y) => Set(x, y, c));
    }
}
