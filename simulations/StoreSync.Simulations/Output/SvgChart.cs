using System.Globalization;
using System.Security;
using System.Text;

namespace StoreSync.Simulations.Output;

/// <summary>A small hand-written SVG chart: axes with round ticks, line series, labelled points, vertical markers, a legend.</summary>
/// <remarks>Plain SVG 1.1 with no scripts or external fonts, so it renders the same on GitHub, in browsers and in editors.</remarks>
internal sealed class SvgChart
{
    public const int Width = 860, Height = 480;
    const int Left = 70, Right = 24, Top = 44, Bottom = 56;

    /// <summary>Colour-blind-safe palette (Okabe–Ito), then greys.</summary>
    public static readonly string[] Palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000", "#777777", "#AAAAAA"];

    public sealed record Series(string Name, string Color, IReadOnlyList<(double X, double Y)> Points, bool Dashed = false, bool Markers = false);

    public sealed record Marker(double X, string Label);

    public required string Title { get; init; }
    public required string XLabel { get; init; }
    public required string YLabel { get; init; }
    public double? YMin { get; init; }
    public double? YMax { get; init; }
    public double? XMin { get; init; }
    public bool LegendBottomRight { get; init; }
    public List<Series> Lines { get; } = [];
    public List<(double X, double Y, string Label, string Color)> Points { get; } = [];
    public List<Marker> Markers { get; } = [];

    static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    static string Esc(string s) => SecurityElement.Escape(s) ?? "";

    public string Render()
    {
        var xs = Lines.SelectMany(l => l.Points.Select(p => p.X)).Concat(Points.Select(p => p.X)).Concat(Markers.Select(m => m.X)).ToList();
        var ys = Lines.SelectMany(l => l.Points.Select(p => p.Y)).Concat(Points.Select(p => p.Y)).ToList();
        if (xs.Count == 0) { xs.Add(0); xs.Add(1); }
        if (ys.Count == 0) { ys.Add(0); ys.Add(1); }
        var (x0, x1, xStep) = Nice(XMin ?? xs.Min(), xs.Max());
        var (y0, y1, yStep) = Nice(YMin ?? Math.Min(0, ys.Min()), YMax ?? ys.Max());
        if (YMin is { } fixedMin) y0 = fixedMin;
        if (YMax is { } fixedMax) y1 = fixedMax;
        double plotW = Width - Left - Right, plotH = Height - Top - Bottom;
        double X(double v) => Left + (v - x0) / (x1 - x0) * plotW;
        double Y(double v) => Top + plotH - (v - y0) / (y1 - y0) * plotH;

        var svg = new StringBuilder();
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n");
        svg.Append($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"#ffffff\"/>\n");
        svg.Append($"<text x=\"{Width / 2}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{Esc(Title)}</text>\n");
        // Grid and ticks.
        for (double t = y0; t <= y1 + yStep / 1e6; t += yStep)
        {
            svg.Append($"<line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{F(Y(t))}\" y2=\"{F(Y(t))}\" stroke=\"#e4e4e4\"/>\n");
            svg.Append($"<text x=\"{Left - 6}\" y=\"{F(Y(t) + 4)}\" text-anchor=\"end\">{Esc(Tick(t, yStep))}</text>\n");
        }
        for (double t = x0; t <= x1 + xStep / 1e6; t += xStep)
        {
            svg.Append($"<line x1=\"{F(X(t))}\" x2=\"{F(X(t))}\" y1=\"{Top}\" y2=\"{Top + plotH}\" stroke=\"#efefef\"/>\n");
            svg.Append($"<text x=\"{F(X(t))}\" y=\"{F(Top + plotH + 18)}\" text-anchor=\"middle\">{Esc(Tick(t, xStep))}</text>\n");
        }
        svg.Append($"<rect x=\"{Left}\" y=\"{Top}\" width=\"{F(plotW)}\" height=\"{F(plotH)}\" fill=\"none\" stroke=\"#444\"/>\n");
        svg.Append($"<text x=\"{F(Left + plotW / 2)}\" y=\"{Height - 14}\" text-anchor=\"middle\">{Esc(XLabel)}</text>\n");
        svg.Append($"<text transform=\"translate(18 {F(Top + plotH / 2)}) rotate(-90)\" text-anchor=\"middle\">{Esc(YLabel)}</text>\n");
        foreach (var m in Markers)
        {
            svg.Append($"<line x1=\"{F(X(m.X))}\" x2=\"{F(X(m.X))}\" y1=\"{Top}\" y2=\"{Top + plotH}\" stroke=\"#888\" stroke-dasharray=\"3 3\"/>\n");
            svg.Append($"<text x=\"{F(X(m.X) + 4)}\" y=\"{F(Top + plotH - 8)}\" fill=\"#555\">{Esc(m.Label)}</text>\n");
        }
        // Lines, clipped to the plot area.
        svg.Append($"<clipPath id=\"plot\"><rect x=\"{Left}\" y=\"{Top}\" width=\"{F(plotW)}\" height=\"{F(plotH)}\"/></clipPath>\n<g clip-path=\"url(#plot)\">\n");
        foreach (var line in Lines)
        {
            if (line.Points.Count == 0) continue;
            var path = string.Join(' ', line.Points.Select(p => $"{F(X(p.X))},{F(Y(p.Y))}"));
            string dash = line.Dashed ? " stroke-dasharray=\"6 4\"" : "";
            svg.Append($"<polyline fill=\"none\" stroke=\"{line.Color}\" stroke-width=\"2\"{dash} points=\"{path}\"/>\n");
            if (line.Markers)
                foreach (var p in line.Points) svg.Append($"<circle cx=\"{F(X(p.X))}\" cy=\"{F(Y(p.Y))}\" r=\"3\" fill=\"{line.Color}\"/>\n");
        }
        foreach (var (px, py, label, color) in Points)
        {
            svg.Append($"<circle cx=\"{F(X(px))}\" cy=\"{F(Y(py))}\" r=\"4.5\" fill=\"{color}\"/>\n");
            svg.Append($"<text x=\"{F(X(px) + 7)}\" y=\"{F(Y(py) - 6)}\" font-size=\"11\" fill=\"#333\">{Esc(label)}</text>\n");
        }
        svg.Append("</g>\n");
        // Legend.
        var named = Lines.Where(l => l.Name.Length > 0).ToList();
        if (named.Count > 0)
        {
            int rowH = 17, boxW = Math.Min(420, 40 + 7 * named.Max(l => l.Name.Length));
            int boxH = 8 + rowH * named.Count;
            double bx = Left + plotW - boxW - 8, by = LegendBottomRight ? Top + plotH - boxH - 8 : Top + 8;
            svg.Append($"<rect x=\"{F(bx)}\" y=\"{F(by)}\" width=\"{boxW}\" height=\"{boxH}\" fill=\"#ffffff\" fill-opacity=\"0.88\" stroke=\"#bbb\"/>\n");
            for (int i = 0; i < named.Count; i++)
            {
                double ly = by + 4 + rowH * i + rowH / 2.0;
                string dash = named[i].Dashed ? " stroke-dasharray=\"6 4\"" : "";
                svg.Append($"<line x1=\"{F(bx + 8)}\" x2=\"{F(bx + 30)}\" y1=\"{F(ly)}\" y2=\"{F(ly)}\" stroke=\"{named[i].Color}\" stroke-width=\"2\"{dash}/>\n");
                svg.Append($"<text x=\"{F(bx + 36)}\" y=\"{F(ly + 4)}\">{Esc(named[i].Name)}</text>\n");
            }
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    static string Tick(double v, double step)
    {
        int decimals = step >= 1 ? 0 : (int)Math.Ceiling(-Math.Log10(step));
        return Math.Round(v, decimals).ToString("F" + Math.Min(decimals, 6), CultureInfo.InvariantCulture);
    }

    /// <summary>Round axis bounds and a 1/2/5 × 10^k step giving 4–10 ticks.</summary>
    static (double Lo, double Hi, double Step) Nice(double lo, double hi)
    {
        if (!(hi > lo)) hi = lo + 1;
        double raw = (hi - lo) / 6;
        double mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = mag * (raw / mag < 1.5 ? 1 : raw / mag < 3.5 ? 2 : raw / mag < 7.5 ? 5 : 10);
        return (Math.Floor(lo / step) * step, Math.Ceiling(hi / step) * step, step);
    }
}
