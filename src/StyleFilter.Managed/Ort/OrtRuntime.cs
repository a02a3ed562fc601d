using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace StyleFilter.Ort;

/// <summary>
/// ONNX Runtime for the whole process, through the official C# API (NuGet Microsoft.ML.OnnxRuntime.Managed):
/// which libonnxruntime it binds to, and its one environment, with the engine's logger and the capped CPU arena.
/// No ONNX Runtime type may be touched before <see cref="EnsureLoaded"/>: the first one loads the library.
/// </summary>
public static class OrtRuntime
{
    private static readonly object Gate = new();
    private static nint _library;
    private static OrtEnv? _env;
    private static string? _failure; // set when the library loaded but ONNX Runtime could not start: final

    /// <summary>The library ONNX Runtime was loaded from (a path, or a name the system loader resolved).</summary>
    public static string? LoadedFrom { get; private set; }
    public static string Version { get; private set; } = "";

    /// <summary>The process's one environment (created on first use).</summary>
    public static OrtEnv Env
    {
        get
        {
            EnsureLoaded();
            return _env!;
        }
    }

    /// <summary>
    /// Loads ONNX Runtime once per process. Search order: the explicit path, STYLEFILTER_ORT_LIBRARY, beside the
    /// engine library, beside the application, then the system loader. Until a library is found nothing of ONNX
    /// Runtime is touched, so a later call with a better path can still succeed.
    /// </summary>
    public static void EnsureLoaded(string? explicitPath = null)
    {
        if (_env is not null) return;
        lock (Gate)
        {
            if (_env is not null) return;
            if (_failure is not null) throw new StyleFilterException(StatusCode.RuntimeError, _failure);
            if (_library == 0) (_library, LoadedFrom) = Find(explicitPath);
            try
            {
                _env = CreateEnv();
                Version = _env.GetVersionString();
            }
            catch (Exception e) when (e is OnnxRuntimeException or TypeInitializationException or EntryPointNotFoundException or DllNotFoundException)
            {
                // The managed API's static set-up ran against this library and cannot be redone in this process.
                _failure = $"ONNX Runtime at '{LoadedFrom}' cannot be used: {(e.InnerException ?? e).Message}";
                throw new StyleFilterException(StatusCode.RuntimeError, _failure, e);
            }
        }
    }

    private static (nint Handle, string Path) Find(string? explicitPath)
    {
        var tried = new List<string>();
        foreach (var candidate in Candidates(explicitPath))
        {
            tried.Add(candidate);
            if (!NativeLibrary.TryLoad(candidate, out var handle)) continue;
            if (NativeLibrary.TryGetExport(handle, "OrtGetApiBase", out _))
            {
                // The official API finds its native library through this resolver from now on, whatever name it asks for.
                OrtEnv.DisableDllImportResolver = true;
                NativeLibrary.SetDllImportResolver(typeof(OrtEnv).Assembly, Resolve);
                return (handle, candidate);
            }
            NativeLibrary.Free(handle);
        }
        throw new StyleFilterException(StatusCode.RuntimeError,
            "ONNX Runtime library not found; set STYLEFILTER_ORT_LIBRARY or place libonnxruntime next to the engine. Tried: "
            + string.Join(", ", tried));
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name.Contains("onnxruntime", StringComparison.OrdinalIgnoreCase) && !name.Contains("extensions", StringComparison.OrdinalIgnoreCase)
            ? _library : 0;

    private static IEnumerable<string> Candidates(string? explicitPath)
    {
        if (!string.IsNullOrEmpty(explicitPath)) { yield return explicitPath; yield break; }
        var fromEnv = Environment.GetEnvironmentVariable("STYLEFILTER_ORT_LIBRARY");
        if (!string.IsNullOrEmpty(fromEnv)) { yield return fromEnv; yield break; }
        var fileName = OperatingSystem.IsWindows() ? "onnxruntime.dll" : OperatingSystem.IsMacOS() ? "libonnxruntime.dylib" : "libonnxruntime.so";
        foreach (var dir in new[] { ModuleLocation.Directory, AppContext.BaseDirectory })
            if (!string.IsNullOrEmpty(dir)) yield return Path.Combine(dir, fileName);
        // A framework-dependent app (the CLI, the tests) has the NuGet package's copy under runtimes/<rid>/native/.
        if (!string.IsNullOrEmpty(AppContext.BaseDirectory))
            yield return Path.Combine(AppContext.BaseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", fileName);
        if (!OperatingSystem.IsWindows()) yield return "libonnxruntime.so.1";
        yield return fileName;
    }

    private static OrtEnv CreateEnv()
    {
        if (OrtEnv.IsCreated) return OrtEnv.Instance(); // someone else in this assembly made it first: use theirs
        var options = new EnvironmentCreationOptions
        {
            logId = "stylefilter",
            logLevel = OrtLog.MinSeverity,
            loggingFunction = OrtLog.Write, // ONNX Runtime never prints to stderr itself
        };
        var env = OrtEnv.CreateInstanceWithOptions(ref options);
        // One capped arena in the environment, shared by every session ("session.use_env_allocators").
        using var memoryInfo = new OrtMemoryInfo(OrtMemoryInfo.allocatorCPU, OrtAllocatorType.ArenaAllocator, 0, OrtMemType.Default);
        using var arena = new OrtArenaCfg((uint)OrtSession.CpuMemoryLimitBytes, 1 /* kSameAsRequested: no power-of-two overshoot */, -1, -1);
        env.CreateAndRegisterAllocator(memoryInfo, arena);
        return env; // one environment per process, kept for its lifetime as ONNX Runtime recommends
    }
}
