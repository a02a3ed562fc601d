using Microsoft.Extensions.Logging;

namespace StyleFilter.Tests;

/// <summary>Collects every line an engine logs, with its level, for tests that check what a host would be told.</summary>
public sealed class LogCapture : ILoggerProvider, ILogger
{
    public List<(LogLevel Level, string Text)> Lines { get; } = [];

    /// <summary>A logger factory that writes into this capture (all levels).</summary>
    public ILoggerFactory Factory() => LoggerFactory.Create(b => b.AddProvider(this).SetMinimumLevel(LogLevel.Trace));

    public ILogger CreateLogger(string categoryName) => this;
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => true;
    public void Log<TState>(LogLevel level, EventId id, TState state, Exception? e, Func<TState, Exception?, string> format)
    {
        lock (Lines) Lines.Add((level, format(state, e)));
    }
    public void Dispose() { }
}
