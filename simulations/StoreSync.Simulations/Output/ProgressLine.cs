using System.Diagnostics;
using StoreSync.Simulations.Scenarios;

namespace StoreSync.Simulations.Output;

/// <summary>Progress of a long run on stderr: redrawn in place on a terminal, a line per 10 % otherwise.</summary>
/// <remarks>The wall clock here only paces the display and estimates the time left; it never touches the simulation.</remarks>
internal sealed class ProgressLine(string name, TextWriter error, bool interactive)
{
    static readonly TimeSpan Redraw = TimeSpan.FromMilliseconds(250);

    readonly Stopwatch _wall = Stopwatch.StartNew();
    TimeSpan _last = TimeSpan.MinValue;
    int _lastDecile = -1;

    public static ProgressLine ForConsole(string name) => new(name, Console.Error, !Console.IsErrorRedirected);

    public void Report(long now, long duration, long events)
    {
        double fraction = duration == 0 ? 1 : Math.Clamp((double)now / duration, 0, 1);
        bool done = now >= duration;
        if (interactive)
        {
            if (!done && _wall.Elapsed - _last < Redraw) return;
            _last = _wall.Elapsed;
            error.Write($"\r{Line(fraction, now, events)}\u001b[K");
            if (done) error.WriteLine();
            return;
        }
        int decile = (int)(fraction * 10);
        if (decile == _lastDecile) return;
        _lastDecile = decile;
        error.WriteLine(Line(fraction, now, events));
    }

    string Line(double fraction, long now, long events)
    {
        double elapsed = _wall.Elapsed.TotalSeconds;
        string eta = fraction > 0.01 && fraction < 1 ? $", about {elapsed / fraction * (1 - fraction):0} s left" : "";
        int filled = (int)(fraction * 24);
        return $"{name} [{new string('#', filled)}{new string('.', 24 - filled)}] {fraction * 100,5:0.0} %  virtual {Units.Format(now)}, {events:N0} events, {elapsed:0.0} s{eta}";
    }
}
