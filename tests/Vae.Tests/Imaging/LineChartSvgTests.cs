// LineChartSvg: the output is a standalone SVG that System.Xml.Linq parses, with one path and one marker per finite
// point for each series, a legend naming every series in its own colour, escaped text, round tick steps covering
// the data, and sensible output for a single point, non-finite values, unequal lengths and no data at all.
using System.Globalization;
using System.Xml.Linq;
using Vae.Imaging;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Imaging;

public sealed class LineChartSvgTests : IDisposable
{
    static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    readonly ScratchDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    static XElement Parse(string svg)
    {
        XDocument document = XDocument.Parse(svg);
        Assert.Equal(Svg + "svg", document.Root!.Name);
        return document.Root;
    }

    static IEnumerable<XElement> WithClass(XElement root, string name) =>
        root.Descendants().Where(e => (string?)e.Attribute("class") == name);

    static double[] Numbers(IEnumerable<XElement> texts) =>
        texts.Select(t => double.Parse(t.Value, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();

    /// <summary>The "M"/"L" commands of a path's d attribute with their points.</summary>
    static List<(char Command, double X, double Y)> PathCommands(XElement path)
    {
        string[] parts = ((string)path.Attribute("d")!).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var commands = new List<(char, double, double)>();
        for (int i = 0; i < parts.Length; i += 2)
            commands.Add((parts[i][0], double.Parse(parts[i][1..], CultureInfo.InvariantCulture), double.Parse(parts[i + 1], CultureInfo.InvariantCulture)));
        return commands;
    }

    [Fact]
    public void Two_loss_curves_give_two_paths_markers_a_legend_and_round_ticks()
    {
        ChartSeries train = new("train", [260.5, 251.25, 247.0, 245.5, 244.75, 244.1, 243.9]);
        ChartSeries test = new("test", [258.0, 250.0, 248.5, 247.25, 246.0, 246.2, 246.4]);
        XElement root = Parse(LineChartSvg.Render("Loss per epoch", "epoch", "loss (nats)", [train, test]));

        XElement[] paths = [.. WithClass(root, "series")];
        Assert.Equal(2, paths.Length);
        Assert.All(paths, p => Assert.Equal(7, PathCommands(p).Count));
        Assert.Equal("MLLLLLL", new string(PathCommands(paths[0]).Select(c => c.Command).ToArray()));
        Assert.Equal(14, root.Descendants(Svg + "circle").Count(c => c.Parent!.Attribute("class")?.Value == "markers"));

        // Distinct colours, and the legend shows each name next to its own colour.
        string[] colours = [.. paths.Select(p => (string)p.Attribute("stroke")!)];
        Assert.Equal(2, colours.Distinct().Count());
        XElement legend = Assert.Single(WithClass(root, "legend"));
        Assert.Equal(["train", "test"], legend.Elements(Svg + "text").Select(t => t.Value));
        Assert.Equal(colours, legend.Elements(Svg + "line").Select(l => (string)l.Attribute("stroke")!));
        // The legend stays clear of the plot, so it never hides a curve.
        XElement frame = root.Elements(Svg + "rect").Single(r => (string?)r.Attribute("fill") == "none");
        double plotRight = (double)frame.Attribute("x")! + (double)frame.Attribute("width")!;
        Assert.True((double)legend.Element(Svg + "rect")!.Attribute("x")! > plotRight);

        Assert.Equal("Loss per epoch", Assert.Single(WithClass(root, "title")).Value);
        Assert.Equal("epoch", Assert.Single(WithClass(root, "x-label")).Value);
        Assert.Equal("loss (nats)", Assert.Single(WithClass(root, "y-label")).Value);

        // y ticks: evenly spaced by 1, 2 or 5 times a power of ten, covering 243.9 .. 260.5.
        double[] yTicks = Numbers(WithClass(root, "y-tick"));
        AssertRoundTicks(yTicks, 243.9, 260.5);
        Assert.InRange(yTicks.Length, 3, 12);
        // x ticks: integers covering epochs 1..7.
        double[] xTicks = Numbers(WithClass(root, "x-tick"));
        AssertRoundTicks(xTicks, 1, 7);
        Assert.All(xTicks, t => Assert.Equal(Math.Round(t), t));

        // Points go left to right and the larger loss is higher on the page (smaller y).
        var first = PathCommands(paths[0]);
        Assert.True(first.Zip(first.Skip(1)).All(pair => pair.First.X < pair.Second.X));
        Assert.True(first[0].Y < first[^1].Y);
    }

    static void AssertRoundTicks(double[] ticks, double low, double high)
    {
        Assert.True(ticks.Length >= 2, $"only {ticks.Length} ticks");
        double step = ticks[1] - ticks[0];
        for (int i = 1; i < ticks.Length; i++) Assert.Equal(step, ticks[i] - ticks[i - 1], 1e-9 * Math.Max(1, Math.Abs(step)));
        double mantissa = step / Math.Pow(10, Math.Floor(Math.Log10(step) + 1e-12));
        Assert.Contains(Math.Round(mantissa, 9), new[] { 1.0, 2.0, 5.0 });
        Assert.True(ticks[0] <= low && ticks[^1] >= high, $"ticks {ticks[0]}..{ticks[^1]} do not cover {low}..{high}");
        Assert.True(ticks[0] > low - step && ticks[^1] < high + step, $"ticks {ticks[0]}..{ticks[^1]} overshoot {low}..{high}");
    }

    [Fact]
    public void Text_is_escaped_and_control_characters_replaced()
    {
        const string title = "a < b && c > \"d\" 'e'";
        const string name = "<script>alert('x')</script>";
        string svg = LineChartSvg.Render(title, "x & y", "loss\u0001", [new(name, [1.0, 2.0])]);

        Assert.DoesNotContain("<script>", svg);
        Assert.Contains("&lt;script&gt;", svg);
        Assert.Contains("a &lt; b &amp;&amp; c &gt;", svg);
        XElement root = Parse(svg);
        Assert.Equal(title, Assert.Single(WithClass(root, "title")).Value);
        Assert.Equal("x & y", Assert.Single(WithClass(root, "x-label")).Value);
        Assert.Equal("loss?", Assert.Single(WithClass(root, "y-label")).Value);
        Assert.Equal(name, Assert.Single(WithClass(root, "legend")).Element(Svg + "text")!.Value);
    }

    [Fact]
    public void A_single_point_gets_a_marker_inside_the_plot()
    {
        XElement root = Parse(LineChartSvg.Render("one epoch", "epoch", "loss", [new("train", [42.0])]));
        var commands = PathCommands(Assert.Single(WithClass(root, "series")));
        Assert.Equal('M', Assert.Single(commands).Command);
        XElement marker = Assert.Single(Assert.Single(WithClass(root, "markers")).Elements(Svg + "circle"));
        double x = (double)marker.Attribute("cx")!, y = (double)marker.Attribute("cy")!;
        XElement frame = root.Elements(Svg + "rect").Single(r => (string?)r.Attribute("fill") == "none");
        double left = (double)frame.Attribute("x")!, top = (double)frame.Attribute("y")!;
        double right = left + (double)frame.Attribute("width")!, bottom = top + (double)frame.Attribute("height")!;
        Assert.True(x > left && x < right && y > top && y < bottom, $"marker ({x}, {y}) outside the plot");
        Assert.Contains(1.0, Numbers(WithClass(root, "x-tick")));
        double[] yTicks = Numbers(WithClass(root, "y-tick"));
        Assert.True(yTicks[0] < 42 && yTicks[^1] > 42);
    }

    [Fact]
    public void Non_finite_values_are_skipped_and_break_the_line()
    {
        ChartSeries gappy = new("gappy", [1.0, 2.0, double.NaN, 4.0, 5.0]);
        ChartSeries isolated = new("isolated", [1.0, double.PositiveInfinity, 3.0, double.NegativeInfinity, 5.0]);
        XElement root = Parse(LineChartSvg.Render("t", "x", "y", [gappy, isolated]));

        XElement[] paths = [.. WithClass(root, "series")];
        Assert.Equal("MLML", new string(PathCommands(paths[0]).Select(c => c.Command).ToArray()));
        Assert.Equal("MMM", new string(PathCommands(paths[1]).Select(c => c.Command).ToArray()));
        Assert.Equal([4, 3], WithClass(root, "markers").Select(g => g.Elements().Count()));
        Assert.DoesNotContain("NaN", root.ToString());
        Assert.DoesNotContain("Infinity", root.ToString());
        // The infinite values do not stretch the axis.
        double[] yTicks = Numbers(WithClass(root, "y-tick"));
        Assert.InRange(yTicks[^1], 5, 10);
    }

    [Fact]
    public void Series_of_different_lengths_share_the_x_axis()
    {
        XElement root = Parse(LineChartSvg.Render("t", "epoch", "loss", [new("long", [5.0, 4, 3, 2, 1, 0.5, 0.25, 0.125, 0.1, 0.05, 0.01, 0]), new("short", [3.0, 2.5])]));
        XElement[] paths = [.. WithClass(root, "series")];
        var longPoints = PathCommands(paths[0]);
        var shortPoints = PathCommands(paths[1]);
        Assert.Equal((12, 2), (longPoints.Count, shortPoints.Count));
        Assert.Equal(longPoints[0].X, shortPoints[0].X);   // both start at epoch 1
        Assert.Equal(longPoints[1].X, shortPoints[1].X);   // epoch 2 at the same x
        AssertRoundTicks(Numbers(WithClass(root, "x-tick")), 1, 12);
        AssertRoundTicks(Numbers(WithClass(root, "y-tick")), 0, 5);
    }

    [Fact]
    public void Small_values_get_decimal_tick_labels_with_a_point()
    {
        XElement root = Parse(LineChartSvg.Render("t", "x", "y", [new("s", [0.0123, 0.0456, 0.0311])]));
        string[] labels = [.. WithClass(root, "y-tick").Select(t => t.Value)];
        Assert.All(labels, l => Assert.Matches(@"^-?\d+\.\d+$", l));
        Assert.Equal(labels.Length, labels.Distinct().Count());
        AssertRoundTicks(Numbers(WithClass(root, "y-tick")), 0.0123, 0.0456);
    }

    [Fact]
    public void No_data_at_all_still_gives_a_valid_chart()
    {
        XElement empty = Parse(LineChartSvg.Render("nothing yet", "epoch", "loss", []));
        Assert.Empty(WithClass(empty, "series"));
        XElement allNaN = Parse(LineChartSvg.Render("nothing finite", "epoch", "loss", [new("nan", [double.NaN, double.NaN]), new("empty", [])]));
        Assert.Equal(2, WithClass(allNaN, "series").Count());
        Assert.All(WithClass(allNaN, "markers"), g => Assert.Empty(g.Elements()));
    }

    [Fact]
    public void Constant_and_negative_values_get_a_range_around_them()
    {
        foreach (double value in new[] { 0.0, -3.5, 1e6 })
        {
            XElement root = Parse(LineChartSvg.Render("flat", "x", "y", [new("c", [value, value, value])]));
            double[] ticks = Numbers(WithClass(root, "y-tick"));
            Assert.True(ticks[0] < value && ticks[^1] > value, $"{value}: ticks {ticks[0]}..{ticks[^1]}");
        }
    }

    [Fact]
    public void Write_puts_the_rendered_chart_in_the_file()
    {
        string path = _folder.File("loss.svg");
        IReadOnlyList<ChartSeries> series = [new("train", [3.0, 2.0, 1.5])];
        LineChartSvg.Write(path, "Loss", "epoch", "loss", series);
        Assert.Equal(LineChartSvg.Render("Loss", "epoch", "loss", series), File.ReadAllText(path));
        Assert.StartsWith("<?xml version=\"1.0\" encoding=\"utf-8\"?>", File.ReadAllText(path), StringComparison.Ordinal);
        Assert.Equal(["loss.svg"], Directory.GetFiles(_folder.Path).Select(Path.GetFileName));
    }
}
