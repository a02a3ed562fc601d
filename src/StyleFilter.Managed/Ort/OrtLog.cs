using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace StyleFilter.Ort;

/// <summary>
/// ONNX Runtime's own messages, routed to the engine's logger (and so to a host's log callback) instead of
/// ONNX Runtime printing them to stderr. The environment is process-wide, so the logger is too: the most
/// recently created engine's.
/// </summary>
internal static class OrtLog
{
    private static volatile ILogger _logger = NullLogger.Instance;

    public static void Use(ILogger logger) => _logger = logger;

    /// <summary>Messages below this severity are not produced at all (warnings and worse).</summary>
    public const OrtLoggingLevel MinSeverity = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING;

    /// <summary>The environment's logging function (<see cref="EnvironmentCreationOptions.loggingFunction"/>).</summary>
    public static void Write(nint param, OrtLoggingLevel severity, string category, string logId, string codeLocation, string message)
    {
        try
        {
            // The engine reports every failure ONNX Runtime returns as its own error, with the model's path and
            // what happens next (pass-through, the old style kept); ONNX Runtime's own line about it is detail.
            var level = severity >= OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL ? LogLevel.Error
                : severity >= MinSeverity ? LogLevel.Information : LogLevel.Debug;
            _logger.Log(level, "ONNX Runtime: {Message}", (message ?? "").ReplaceLineEndings(" "));
        }
        catch (Exception)
        {
            // Never unwind into ONNX Runtime.
        }
    }
}
