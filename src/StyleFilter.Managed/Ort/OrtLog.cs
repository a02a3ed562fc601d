using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace StyleFilter.Ort;

/// <summary>
/// ONNX Runtime's own messages, routed to the engine's logger (and so to a host's log callback) instead of
/// ONNX Runtime printing them to stderr. The environment is process-wide, so the logger is too: the most
/// recently created engine's.
/// </summary>
internal static unsafe class OrtLog
{
    private static volatile ILogger _logger = NullLogger.Instance;

    public static void Use(ILogger logger) => _logger = logger;

    /// <summary>Messages below this ONNX Runtime severity are not produced at all (warnings and worse).</summary>
    public const int MinSeverity = 2; // ORT_LOGGING_LEVEL_WARNING
    private const int Fatal = 4;      // ORT_LOGGING_LEVEL_FATAL

    public static delegate* unmanaged[Cdecl]<nint, int, byte*, byte*, byte*, byte*, void> Callback => &Write;

    [UnmanagedCallersOnly(CallConvs = [typeof(System.Runtime.CompilerServices.CallConvCdecl)])]
    private static void Write(nint param, int severity, byte* category, byte* logId, byte* codeLocation, byte* message)
    {
        try
        {
            // The engine reports every failure ONNX Runtime returns as its own error, with the model's path and
            // what happens next (pass-through, the old style kept); ONNX Runtime's own line about it is detail.
            var level = severity >= Fatal ? LogLevel.Error : severity >= MinSeverity ? LogLevel.Information : LogLevel.Debug;
            var text = Marshal.PtrToStringUTF8((nint)message) ?? "";
            _logger.Log(level, "ONNX Runtime: {Message}", text.ReplaceLineEndings(" "));
        }
        catch (Exception)
        {
            // Never unwind into ONNX Runtime.
        }
    }
}
