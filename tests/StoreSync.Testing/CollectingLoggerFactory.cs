using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace StoreSync.Testing;

/// <summary>Keeps every formatted log line so tests can check that a refused peer was refused with a logged reason.</summary>
public sealed class CollectingLoggerFactory : ILoggerFactory
{
    readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public bool Contains(string fragment) => _lines.Any(l => l.Contains(fragment, StringComparison.OrdinalIgnoreCase));

    /// <summary>Polls (bounded) until a line containing <paramref name="fragment"/> was logged.</summary>
    public async Task<string> WaitForAsync(string fragment, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var line = _lines.FirstOrDefault(l => l.Contains(fragment, StringComparison.OrdinalIgnoreCase));
            if (line is not null) return line;
            await Task.Delay(20);
        }
        throw new TimeoutException($"no log line containing '{fragment}' within {timeout}; logged:\n{string.Join("\n", _lines)}");
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);
    public void AddProvider(ILoggerProvider provider) { }
    public void Dispose() { }

    sealed class Logger(CollectingLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (owner._lines.Count < 10_000) owner._lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)}");
        }
    }
}
