using System.Buffers;
using System.Text;
using Microsoft.Extensions.Logging;

namespace StyleFilter.Native;

/// <summary>
/// Routes the engine's ILogger output to the host's sf_log_fn (installed with sf_set_log_callback), or, when
/// none is installed, writes warnings and errors to stderr prefixed "[stylefilter]". One logger factory is
/// shared by every engine; the callback is read at each message, so installing it later applies to engines
/// that already exist.
/// </summary>
internal static unsafe class NativeLogging
{
    /// <summary>The installed callback; swapped as a whole so a message never sees half of an update.</summary>
    private sealed class Sink(nint fn, nint user, int minLevel)
    {
        public delegate* unmanaged[Cdecl]<nint, int, byte*, void> Fn => (delegate* unmanaged[Cdecl]<nint, int, byte*, void>)fn;
        public nint User => user;
        public int MinLevel => minLevel;
    }

    private static volatile Sink? _sink;
    private static readonly object StderrGate = new();

    public static ILoggerFactory Factory { get; } =
        LoggerFactory.Create(b => b.AddProvider(new Provider()).SetMinimumLevel(LogLevel.Trace));

    /// <summary>Logger for the ABI layer's own messages.</summary>
    public static ILogger Log { get; } = Factory.CreateLogger("StyleFilter.Native");

    public static void Install(delegate* unmanaged[Cdecl]<nint, int, byte*, void> fn, nint user, int minLevel) =>
        _sink = fn == null ? null : new Sink((nint)fn, user, minLevel);

    public static int ToSfLevel(LogLevel level) => level switch
    {
        LogLevel.Critical or LogLevel.Error => Abi.LogError,
        LogLevel.Warning => Abi.LogWarning,
        LogLevel.Information => Abi.LogInfo,
        _ => Abi.LogDebug,
    };

    /// <summary>Delivers one message; never throws (a logging failure must not turn into a failed call).</summary>
    public static void Write(int level, string message)
    {
        try
        {
            var sink = _sink;
            if (sink is null)
            {
                if (level > Abi.LogWarning) return;
                lock (StderrGate) Console.Error.WriteLine($"[stylefilter] {(level == Abi.LogError ? "error" : "warning")}: {message}");
                return;
            }
            if (level > sink.MinLevel) return;
            message = message.Replace('\0', ' ');
            var size = Encoding.UTF8.GetByteCount(message) + 1;
            var rented = ArrayPool<byte>.Shared.Rent(size);
            try
            {
                var written = Encoding.UTF8.GetBytes(message, rented);
                rented[written] = 0;
                fixed (byte* p = rented) sink.Fn(sink.User, level, p);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
        catch (Exception)
        {
            // Nowhere left to report it.
        }
    }

    private sealed class Provider : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(ShortName(categoryName));
        public void Dispose() { }

        private static string ShortName(string category)
        {
            var dot = category.LastIndexOf('.');
            return dot >= 0 && dot < category.Length - 1 ? category[(dot + 1)..] : category;
        }
    }

    private sealed class Logger(string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel)
        {
            if (logLevel == LogLevel.None) return false;
            var sink = _sink;
            return ToSfLevel(logLevel) <= (sink?.MinLevel ?? Abi.LogWarning);
        }

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            string text;
            try { text = formatter(state, exception); }
            catch (Exception e) { text = $"(log message could not be formatted: {e.Message})"; }
            var line = new StringBuilder().Append(category).Append(": ").Append(text);
            for (var e = exception; e is not null; e = e.InnerException)
                line.Append(e == exception ? " | " : " <- ").Append(e.GetType().Name).Append(": ").Append(e.Message);
            Write(ToSfLevel(logLevel), OneLine(line.ToString()));
        }

        private static string OneLine(string s) => s.Replace("\r\n", " ").Replace('\n', ' ').Replace('\r', ' ');
    }
}
