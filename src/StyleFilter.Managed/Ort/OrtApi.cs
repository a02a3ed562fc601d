using System.Runtime.InteropServices;

namespace StyleFilter.Ort;

/// <summary>
/// The thinnest binding over ONNX Runtime's C API that the engine needs (no managed ONNX Runtime
/// package is available here). The C API is a table of function pointers (struct OrtApi); its order is
/// append-only across releases, so each slot index below is fixed. The indices were read from
/// onnxruntime_c_api.h 1.29 and tests/abi/ort_api_slots.c re-checks them against the fetched header.
/// </summary>
public static unsafe class OrtApi
{
    /// <summary>The oldest API version that has every slot used here (the plugin-EP calls arrived in 23).</summary>
    public const uint ApiVersion = 23;

    // Slot indices into struct OrtApi. Keep in step with tests/abi/ort_api_slots.c.
    public enum Slot
    {
        GetErrorCode = 1, GetErrorMessage = 2, CreateEnvWithCustomLogger = 4, CreateSession = 7, CreateSessionFromArray = 8,
        Run = 9, CreateSessionOptions = 10, CreateRunOptions = 39, RunOptionsSetTerminate = 46, RunOptionsUnsetTerminate = 47, DisableMemPattern = 17, SetSessionGraphOptimizationLevel = 23, SetIntraOpNumThreads = 24,
        SetInterOpNumThreads = 25, SessionGetInputCount = 30, SessionGetOutputCount = 31, SessionGetInputTypeInfo = 33,
        SessionGetOutputTypeInfo = 34, SessionGetInputName = 36, SessionGetOutputName = 37,
        CreateTensorWithDataAsOrtValue = 49, GetTensorMutableData = 51, CastTypeInfoToTensorInfo = 55,
        GetOnnxTypeFromTypeInfo = 56, GetTensorElementType = 60, GetDimensionsCount = 61, GetDimensions = 62,
        GetTensorTypeAndShape = 65, CreateCpuMemoryInfo = 69, AllocatorFree = 76, GetAllocatorWithDefaultOptions = 78,
        ReleaseEnv = 92, ReleaseStatus = 93, ReleaseMemoryInfo = 94, ReleaseSession = 95, ReleaseValue = 96, ReleaseRunOptions = 97,
        ReleaseTypeInfo = 98, ReleaseTensorTypeAndShapeInfo = 99, ReleaseSessionOptions = 100,
        GetAvailableProviders = 125, ReleaseAvailableProviders = 126, AddSessionConfigEntry = 130,
        CreateAndRegisterAllocator = 144, ReleaseArenaCfg = 157, CreateArenaCfgV2 = 164,
        RegisterExecutionProviderLibrary = 301, GetEpDevices = 303, SessionOptionsAppendExecutionProvider_V2 = 304,
        EpDevice_EpName = 312,
    }

    private static readonly object Gate = new();
    private static nint _api;
    private static nint _library;
    private static string? _loadedFrom;

    public static bool IsLoaded => _api != 0;
    public static string? LoadedFrom => _loadedFrom;
    public static string Version { get; private set; } = "";

    /// <summary>
    /// Loads ONNX Runtime once per process. Search order: the explicit path, STYLEFILTER_ORT_LIBRARY,
    /// next to the engine library, next to the application, then the system loader.
    /// </summary>
    public static void EnsureLoaded(string? explicitPath = null)
    {
        if (_api != 0) return;
        lock (Gate)
        {
            if (_api != 0) return;
            var tried = new List<string>();
            foreach (var candidate in Candidates(explicitPath))
            {
                tried.Add(candidate);
                if (!NativeLibrary.TryLoad(candidate, out var handle)) continue;
                if (!NativeLibrary.TryGetExport(handle, "OrtGetApiBase", out var getBase))
                {
                    NativeLibrary.Free(handle);
                    continue;
                }
                var apiBase = ((delegate* unmanaged[Cdecl]<nint>)getBase)();
                var getApi = (delegate* unmanaged[Cdecl]<uint, nint>)((nint*)apiBase)[0];
                var getVersion = (delegate* unmanaged[Cdecl]<nint>)((nint*)apiBase)[1];
                var api = getApi(ApiVersion);
                if (api == 0)
                    throw new StyleFilterException(StatusCode.RuntimeError,
                        $"ONNX Runtime at '{candidate}' ({Marshal.PtrToStringUTF8(getVersion())}) is older than API version {ApiVersion}");
                Version = Marshal.PtrToStringUTF8(getVersion()) ?? "";
                _library = handle;
                _loadedFrom = candidate;
                _api = api;
                return;
            }
            throw new StyleFilterException(StatusCode.RuntimeError,
                "ONNX Runtime library not found; set STYLEFILTER_ORT_LIBRARY or place libonnxruntime next to the engine. Tried: "
                + string.Join(", ", tried));
        }
    }

    private static IEnumerable<string> Candidates(string? explicitPath)
    {
        if (!string.IsNullOrEmpty(explicitPath)) { yield return explicitPath; yield break; }
        var fromEnv = Environment.GetEnvironmentVariable("STYLEFILTER_ORT_LIBRARY");
        if (!string.IsNullOrEmpty(fromEnv)) { yield return fromEnv; yield break; }
        var fileName = OperatingSystem.IsWindows() ? "onnxruntime.dll" : "libonnxruntime.so";
        foreach (var dir in new[] { ModuleLocation.Directory, AppContext.BaseDirectory })
            if (!string.IsNullOrEmpty(dir)) yield return Path.Combine(dir, fileName);
        yield return OperatingSystem.IsWindows() ? "onnxruntime.dll" : "libonnxruntime.so.1";
        yield return fileName;
    }

    internal static nint Fn(Slot slot)
    {
        if (_api == 0) throw new StyleFilterException(StatusCode.RuntimeError, "ONNX Runtime is not loaded");
        return ((nint*)_api)[(int)slot];
    }

    /// <summary>Turns a non-null OrtStatus* into an exception (and releases it).</summary>
    internal static void Check(nint status, string what)
    {
        if (status == 0) return;
        var message = Marshal.PtrToStringUTF8(((delegate* unmanaged[Cdecl]<nint, nint>)Fn(Slot.GetErrorMessage))(status)) ?? "unknown";
        var code = ((delegate* unmanaged[Cdecl]<nint, int>)Fn(Slot.GetErrorCode))(status);
        ((delegate* unmanaged[Cdecl]<nint, void>)Fn(Slot.ReleaseStatus))(status);
        throw new OrtException(code, $"{what}: {message}");
    }

    internal static void Release(Slot slot, nint handle)
    {
        if (handle != 0 && _api != 0) ((delegate* unmanaged[Cdecl]<nint, void>)Fn(slot))(handle);
    }

    /// <summary>ORTCHAR_T is wchar_t on Windows and char elsewhere.</summary>
    internal static nint PathToOrtChars(string path) =>
        OperatingSystem.IsWindows() ? Marshal.StringToHGlobalUni(path) : Marshal.StringToCoTaskMemUTF8(path);

    internal static void FreeOrtChars(nint p)
    {
        if (OperatingSystem.IsWindows()) Marshal.FreeHGlobal(p); else Marshal.FreeCoTaskMem(p);
    }

    /// <summary>The execution providers compiled into the loaded library.</summary>
    public static string[] AvailableProviders()
    {
        nint list; int count;
        Check(((delegate* unmanaged[Cdecl]<nint*, int*, nint>)Fn(Slot.GetAvailableProviders))(&list, &count), "GetAvailableProviders");
        var names = new string[count];
        for (int i = 0; i < count; i++) names[i] = Marshal.PtrToStringUTF8(((nint*)list)[i]) ?? "";
        Check(((delegate* unmanaged[Cdecl]<nint, int, nint>)Fn(Slot.ReleaseAvailableProviders))(list, count), "ReleaseAvailableProviders");
        return names;
    }
}

/// <summary>An error reported by ONNX Runtime (its OrtErrorCode plus message).</summary>
public sealed class OrtException(int ortCode, string message)
    : StyleFilterException(ortCode is 3 or 4 or 7 or 10 ? StatusCode.ModelError : StatusCode.RuntimeError, message)
{
    // OrtErrorCode: NO_SUCHFILE = 3, NO_MODEL = 4, INVALID_PROTOBUF = 7, INVALID_GRAPH = 10 are the model's fault.
    public int OrtCode { get; } = ortCode;
}
