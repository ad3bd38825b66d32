// A standalone SVG line chart for training curves (loss per epoch): x = 1..n, one coloured line with point markers
// per series, axes with round tick steps (1, 2 or 5 times a power of ten), a title, axis labels and a legend.
// Non-finite values are skipped (the line breaks there); series may differ in length. Numbers use the invariant
// culture; text is escaped by System.Xml.Linq, and characters XML cannot hold are replaced by '?'.
using System.Globalization;
using System.Xml;
using System.Xml.Linq;
using Vae.IO;

namespace Vae.Imaging;

/// <summary>One line of a chart: Values[i] is plotted at x = i + 1.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<double> Values);

public static class LineChartSvg
{
    static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    // Colour-blind-friendly palette (Okabe-Ito, black left out), then darker variants; cycles after that.
    static readonly string[] Palette =
    [
        "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442",
        "#332288", "#882255", "#117733", "#999933",
    ];

    const double CanvasWidth = 800, CanvasHeight = 500;
    const double PlotLeft = 80, PlotTop = 50, PlotBottom = 430, RightMargin = 20;
    const int TargetTicks = 6;

    /// <summary>The chart as an SVG document (UTF-8 text with an XML declaration).</summary>
    public static string Render(string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series)
    {
        ArgumentNullException.ThrowIfNull(title);
        ArgumentNullException.ThrowIfNull(xLabel);
        ArgumentNullException.ThrowIfNull(yLabel);
        ArgumentNullException.ThrowIfNull(series);
        for (int s = 0; s < series.Count; s++)
        {
            if (series[s] is null) throw new ArgumentException($"Series {s} is null.", nameof(series));
            if (series[s].Name is null || series[s].Values is null)
                throw new ArgumentException($"Series {s} has a null name or value list.", nameof(series));
        }

        int points = 0;
        double low = double.PositiveInfinity, high = double.NegativeInfinity;
        foreach (ChartSeries line in series)
        {
            points = Math.Max(points, line.Values.Count);
            foreach (double v in line.Values)
            {
                if (!double.IsFinite(v)) continue;
                low = Math.Min(low, v);
                high = Math.Max(high, v);
            }
        }
        if (low > high) { low = 0; high = 1; }                  // nothing finite to show
        else if (low == high)
        {
            double margin = low == 0 ? 1 : Math.Abs(low) * 0.1; // one value: centre it in a small range
            low -= margin;
            high += margin;
        }

        (double yFrom, double yTo, double yStep) = NiceRange(low, high, TargetTicks);
        // x: epochs 1..points; a single point sits in the middle of [0, 2].
        (double xFrom, double xTo, double xStep) = points <= 1 ? (0, 2, 1) : NiceRange(1, points, TargetTicks, integer: true);

        // The legend sits in a column right of the plot, sized for the longest name (up to 32 characters).
        double legendWidth = series.Count == 0 ? 0 : 34 + 7.5 * Math.Min(series.Max(line => line.Name.Length), 32);
        double plotRight = CanvasWidth - RightMargin - (series.Count == 0 ? 0 : legendWidth + 12);

        double X(double x) => PlotLeft + (x - xFrom) / (xTo - xFrom) * (plotRight - PlotLeft);
        double Y(double y) => PlotBottom - (y - yFrom) / (yTo - yFrom) * (PlotBottom - PlotTop);

        var root = new XElement(Svg + "svg",
            new XAttribute("width", Num(CanvasWidth)),
            new XAttribute("height", Num(CanvasHeight)),
            new XAttribute("viewBox", $"0 0 {Num(CanvasWidth)} {Num(CanvasHeight)}"),
            new XAttribute("font-family", "sans-serif"),
            new XElement(Svg + "rect", new XAttribute("width", "100%"), new XAttribute("height", "100%"), new XAttribute("fill", "white")),
            With(Text(CanvasWidth / 2, 28, title, "middle", 18, "bold"), new XAttribute("class", "title")),
            With(Text((PlotLeft + plotRight) / 2, CanvasHeight - 22, xLabel, "middle", 14), new XAttribute("class", "x-label")),
            With(With(Text(0, 0, yLabel, "middle", 14), new XAttribute("class", "y-label")),
                new XAttribute("transform", $"translate(22 {Num((PlotTop + PlotBottom) / 2)}) rotate(-90)")));

        // Grid lines and tick labels.
        int yDecimals = Decimals(yStep);
        foreach (double tick in Ticks(yFrom, yTo, yStep))
        {
            double y = Y(tick);
            root.Add(Line(PlotLeft, y, plotRight, y, "#e0e0e0"));
            root.Add(With(Text(PlotLeft - 8, y + 4, tick.ToString("F" + yDecimals, CultureInfo.InvariantCulture), "end", 12), new XAttribute("class", "y-tick")));
        }
        foreach (double tick in Ticks(xFrom, xTo, xStep))
        {
            double x = X(tick);
            root.Add(Line(x, PlotTop, x, PlotBottom, "#e0e0e0"));
            root.Add(With(Text(x, PlotBottom + 18, tick.ToString("F0", CultureInfo.InvariantCulture), "middle", 12), new XAttribute("class", "x-tick")));
        }
        root.Add(new XElement(Svg + "rect",
            new XAttribute("x", Num(PlotLeft)), new XAttribute("y", Num(PlotTop)),
            new XAttribute("width", Num(plotRight - PlotLeft)), new XAttribute("height", Num(PlotBottom - PlotTop)),
            new XAttribute("fill", "none"), new XAttribute("stroke", "#404040")));

        // One path per series (a new "M" after every skipped value), a marker per finite point.
        for (int s = 0; s < series.Count; s++)
        {
            string colour = Palette[s % Palette.Length];
            var data = new System.Text.StringBuilder();
            var markers = new XElement(Svg + "g", new XAttribute("class", "markers"), new XAttribute("fill", colour));
            bool drawing = false;
            IReadOnlyList<double> values = series[s].Values;
            for (int i = 0; i < values.Count; i++)
            {
                if (!double.IsFinite(values[i])) { drawing = false; continue; }
                double x = X(i + 1), y = Y(values[i]);
                if (data.Length > 0) data.Append(' ');
                data.Append(drawing ? 'L' : 'M').Append(Num(x)).Append(' ').Append(Num(y));
                drawing = true;
                markers.Add(new XElement(Svg + "circle",
                    new XAttribute("cx", Num(x)), new XAttribute("cy", Num(y)), new XAttribute("r", "3")));
            }
            root.Add(new XElement(Svg + "path",
                new XAttribute("class", "series"),
                new XAttribute("d", data.ToString()),
                new XAttribute("fill", "none"), new XAttribute("stroke", colour), new XAttribute("stroke-width", "2"),
                new XElement(Svg + "title", Clean(series[s].Name))));
            root.Add(markers);
        }

        // Legend: a line, a marker and the name per series.
        if (series.Count > 0)
        {
            double boxWidth = legendWidth, boxHeight = 8 + 20 * series.Count;
            double boxLeft = CanvasWidth - RightMargin - boxWidth, boxTop = PlotTop;
            var legend = new XElement(Svg + "g", new XAttribute("class", "legend"),
                new XElement(Svg + "rect",
                    new XAttribute("x", Num(boxLeft)), new XAttribute("y", Num(boxTop)),
                    new XAttribute("width", Num(boxWidth)), new XAttribute("height", Num(boxHeight)),
                    new XAttribute("fill", "white"), new XAttribute("fill-opacity", "0.85"), new XAttribute("stroke", "#a0a0a0")));
            for (int s = 0; s < series.Count; s++)
            {
                string colour = Palette[s % Palette.Length];
                double y = boxTop + 16 + 20 * s;
                legend.Add(With(Line(boxLeft + 6, y - 4, boxLeft + 26, y - 4, colour), new XAttribute("stroke-width", "2")));
                legend.Add(new XElement(Svg + "circle",
                    new XAttribute("cx", Num(boxLeft + 16)), new XAttribute("cy", Num(y - 4)), new XAttribute("r", "3"), new XAttribute("fill", colour)));
                legend.Add(Text(boxLeft + 32, y, series[s].Name, "start", 12));
            }
            root.Add(legend);
        }

        var document = new XDocument(new XDeclaration("1.0", "utf-8", null), root);
        return document.Declaration + "\n" + document.Root!.ToString(SaveOptions.None) + "\n";
    }

    /// <summary>Renders the chart and writes it to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series) =>
        AtomicFile.WriteAllText(path, Render(title, xLabel, yLabel, series));

    /// <summary>
    /// A range [from, to] covering [low, high] whose ends are multiples of a step of 1, 2 or 5 times a power of ten,
    /// chosen so that about <paramref name="targetTicks"/> ticks fit. With <paramref name="integer"/> the step is at least 1.
    /// </summary>
    internal static (double From, double To, double Step) NiceRange(double low, double high, int targetTicks, bool integer = false)
    {
        double raw = (high - low) / Math.Max(1, targetTicks - 1);
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double fraction = raw / magnitude;
        double step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude;
        if (integer) step = Math.Max(1, Math.Round(step));
        double from = Math.Floor(low / step) * step;
        double to = Math.Ceiling(high / step) * step;
        return (from, to, step);
    }

    /// <summary>from, from + step, ... up to to (inclusive, with a tolerance for rounding).</summary>
    static IEnumerable<double> Ticks(double from, double to, double step)
    {
        int count = (int)Math.Round((to - from) / step);
        for (int i = 0; i <= count; i++)
        {
            double tick = from + i * step;
            yield return Math.Abs(tick) < step * 1e-9 ? 0 : tick; // no "-0.00"
        }
    }

    /// <summary>Digits after the decimal point needed to tell ticks <paramref name="step"/> apart.</summary>
    static int Decimals(double step) => Math.Clamp(-(int)Math.Floor(Math.Log10(step) + 1e-9), 0, 10);

    static XElement Text(double x, double y, string content, string anchor, int size, string? weight = null)
    {
        var text = new XElement(Svg + "text",
            new XAttribute("x", Num(x)), new XAttribute("y", Num(y)),
            new XAttribute("text-anchor", anchor), new XAttribute("font-size", size.ToString(CultureInfo.InvariantCulture)),
            Clean(content));
        if (weight is not null) text.Add(new XAttribute("font-weight", weight));
        return text;
    }

    static XElement Line(double x1, double y1, double x2, double y2, string colour) =>
        new(Svg + "line",
            new XAttribute("x1", Num(x1)), new XAttribute("y1", Num(y1)),
            new XAttribute("x2", Num(x2)), new XAttribute("y2", Num(y2)),
            new XAttribute("stroke", colour));

    static XElement With(XElement element, XAttribute attribute)
    {
        element.Add(attribute);
        return element;
    }

    static string Num(double value) => Math.Round(value, 2).ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>The text with every character XML 1.0 cannot hold (control characters, lone surrogates) replaced by '?'.</summary>
    static string Clean(string text)
    {
        var clean = new System.Text.StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                clean.Append(c).Append(text[i + 1]);
                i++;
            }
            else clean.Append(XmlConvert.IsXmlChar(c) ? c : '?');
        }
        return clean.ToString();
    }
}
