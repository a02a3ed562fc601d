using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace StyleFilter.Ort;

/// <summary>Where sessions run, and why: the provider chosen plus the reason each better one was passed over.</summary>
public sealed record ProviderChoice(string Provider, IReadOnlyList<string> Fallbacks)
{
    /// <summary>The devices to append to the session options; empty for the CPU.</summary>
    internal OrtEpDevice[] EpDevices { get; init; } = [];
    internal Dictionary<string, string> Options { get; init; } = [];

    /// <summary>
    /// TensorRT's options when TensorRT runs ahead of the CUDA device in <see cref="EpDevices"/> (which takes the
    /// nodes TensorRT leaves); null otherwise.
    /// </summary>
    internal Dictionary<string, string>? TensorRtOptions { get; init; }

    public static readonly ProviderChoice Cpu = new("CPU", []);

    /// <summary>A GPU provider (its tensors can stay in device memory from one graph to the next).</summary>
    public bool IsGpu => EpDevices.Length > 0;

    /// <summary>
    /// Where sessions go when this provider fails to make one (a driver too old, an operator it cannot run):
    /// TensorRT's choice falls to the CUDA device it runs beside, a GPU one to the CPU. The reasons are the caller's to add.
    /// </summary>
    internal ProviderChoice Next => TensorRtOptions is not null ? this with { Provider = "CUDA", TensorRtOptions = null } : Cpu;

    /// <summary>Where the provider's tensors live: its device's memory, or CPU memory for the CPU.</summary>
    internal OrtMemoryInfo DeviceMemory => IsGpu ? EpDevices[0].GetMemoryInfo(OrtDeviceMemoryType.DEFAULT) : OrtMemoryInfo.DefaultInstance;
}

/// <summary>
/// Picks an execution provider. Auto tries TensorRT (when libnvinfer is present), then CUDA, then DirectML
/// (Windows), then the CPU. The providers are libraries beside ONNX Runtime, present only in the GPU build
/// (Microsoft.ML.OnnxRuntime.Gpu.*, see docs/gpu.md). CUDA's is registered with RegisterExecutionProviderLibrary and
/// selected through its OrtEpDevice. TensorRT's library has no such entry point (it exports no CreateEpFactories in
/// 1.31), so it goes through the classic AppendExecutionProvider_Tensorrt, ahead of the CUDA device.
/// </summary>
public static partial class ExecutionProviders
{
    private static readonly object Gate = new();
    private static readonly Dictionary<string, string?> Registered = new(); // registration name -> failure (null = ok)
    private static string? _tensorRtFailure; // why TensorRT's provider could not be appended (null = not tried or ok)
    private static bool _tensorRtProbed;

    public static ProviderChoice Select(ExecutionDevice requested, ILogger log)
    {
        OrtRuntime.EnsureLoaded();
        var fallbacks = new List<string>();
        var order = requested switch
        {
            ExecutionDevice.Auto => new[] { ExecutionDevice.TensorRT, ExecutionDevice.Cuda, ExecutionDevice.DirectML },
            ExecutionDevice.Cpu => [],
            _ => [requested],
        };
        foreach (var device in order)
        {
            var choice = TryGpu(device, out var whyNot);
            if (choice is not null)
            {
                log.LogInformation("execution provider: {Provider} (asked for {Requested})", choice.Provider, requested);
                return choice with { Fallbacks = fallbacks };
            }
            fallbacks.Add($"{device}: {whyNot}");
        }
        var result = ProviderChoice.Cpu with { Fallbacks = fallbacks };
        if (requested is ExecutionDevice.Auto or ExecutionDevice.Cpu)
            log.LogInformation("execution provider: CPU (asked for {Requested}){Why}", requested, Describe(fallbacks));
        else
            log.LogWarning("execution provider: {Requested} is not available, using the CPU{Why}", requested, Describe(fallbacks));
        return result;
    }

    private static string Describe(List<string> fallbacks) => fallbacks.Count == 0 ? "" : "; " + string.Join("; ", fallbacks);

    private static ProviderChoice? TryGpu(ExecutionDevice device, out string whyNot)
    {
        switch (device)
        {
            case ExecutionDevice.DirectML:
                whyNot = OperatingSystem.IsWindows() ? "this build has no DirectML provider" : "DirectML exists on Windows only";
                return null;
            case ExecutionDevice.TensorRT:
                return TensorRt(out whyNot);
            case ExecutionDevice.Cuda:
                return Plugin("cuda", "onnxruntime_providers_cuda", "CUDAExecutionProvider", "CUDA", out whyNot, []);
            default:
                whyNot = $"unknown device {device}";
                return null;
        }
    }

    /// <summary>
    /// TensorRT on the CUDA device: libnvinfer must load, the CUDA provider must find a device, and ONNX Runtime
    /// must load TensorRT's provider library (it does when the provider is appended; tried once per process).
    /// </summary>
    private static ProviderChoice? TensorRt(out string whyNot)
    {
        var providerFile = ProviderFile("onnxruntime_providers_tensorrt");
        if (!File.Exists(providerFile))
        {
            whyNot = $"{Path.GetFileName(providerFile)} is not installed beside ONNX Runtime";
            return null;
        }
        if (!NativeLibrary.TryLoad(OperatingSystem.IsWindows() ? "nvinfer_10.dll" : "libnvinfer.so.10", out var nvinfer))
        {
            whyNot = "TensorRT (libnvinfer 10) is not installed";
            return null;
        }
        NativeLibrary.Free(nvinfer);
        var cuda = TryGpu(ExecutionDevice.Cuda, out var cudaWhyNot);
        if (cuda is null)
        {
            whyNot = $"it runs beside CUDA, which is not available: {cudaWhyNot}";
            return null;
        }
        var cache = TensorRtCacheFolder(out whyNot);
        if (cache is null) return null;
        Dictionary<string, string> options = new() { ["trt_fp16_enable"] = "1", ["trt_engine_cache_enable"] = "1", ["trt_engine_cache_path"] = cache };
        lock (Gate)
        {
            if (!_tensorRtProbed)
            {
                _tensorRtFailure = ProbeTensorRt(options);
                _tensorRtProbed = true;
            }
            if (_tensorRtFailure is not null) { whyNot = _tensorRtFailure; return null; }
        }
        whyNot = "";
        return cuda with { Provider = "TensorRT", TensorRtOptions = options };
    }

    /// <summary>Appends TensorRT to throw-away session options: ONNX Runtime loads the provider library then, and says why it cannot.</summary>
    private static string? ProbeTensorRt(Dictionary<string, string> options)
    {
        try
        {
            using var sessionOptions = new SessionOptions();
            using var tensorRt = new OrtTensorRTProviderOptions();
            tensorRt.UpdateOptions(options);
            sessionOptions.AppendExecutionProvider_Tensorrt(tensorRt);
            return null;
        }
        catch (OnnxRuntimeException e)
        {
            return Reason(OrtException.Text(e));
        }
    }

    /// <summary>
    /// TensorRT's engine cache, in the user's cache folder ($XDG_CACHE_HOME or ~/.cache on Linux and macOS,
    /// %LOCALAPPDATA% on Windows): engines are rebuilt when it is lost, which takes long but loses nothing.
    /// </summary>
    private static string? TensorRtCacheFolder(out string whyNot)
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = OperatingSystem.IsWindows() ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData)
            : Path.IsPathRooted(xdg) ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        var folder = Path.Combine(root, "stylefilter", "tensorrt");
        try
        {
            Directory.CreateDirectory(folder);
            whyNot = "";
            return folder;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            whyNot = $"its engine cache folder {folder} cannot be made: {e.Message}";
            return null;
        }
    }

    private static string ProviderFile(string library) =>
        Path.Combine(Path.GetDirectoryName(OrtRuntime.LoadedFrom) ?? "", OperatingSystem.IsWindows() ? library + ".dll" : "lib" + library + ".so");

    /// <summary>Registers a provider library beside ONNX Runtime (once per process) and finds its device.</summary>
    private static ProviderChoice? Plugin(string registration, string library, string epName, string shortName, out string whyNot,
        Dictionary<string, string> options)
    {
        var file = ProviderFile(library);
        lock (Gate)
        {
            if (!Registered.TryGetValue(registration, out var failure))
            {
                failure = File.Exists(file) ? Register(registration, file) : $"{Path.GetFileName(file)} is not installed beside ONNX Runtime";
                Registered[registration] = failure;
            }
            if (failure is not null) { whyNot = failure; return null; }
        }
        foreach (var device in OrtRuntime.Env.GetEpDevices())
        {
            if (device.EpName != epName) continue;
            whyNot = "";
            return new ProviderChoice(shortName, []) { EpDevices = [device], Options = options };
        }
        whyNot = $"{epName} found no device (no NVIDIA GPU or driver)";
        return null;
    }

    private static string? Register(string registration, string file)
    {
        try
        {
            OrtRuntime.Env.RegisterExecutionProviderLibrary(registration, file);
            return null;
        }
        catch (OnnxRuntimeException e)
        {
            return Reason(OrtException.Text(e)); // e.g. the CUDA libraries it needs are missing
        }
    }

    /// <summary>
    /// ONNX Runtime's error for a provider that could not be set up, as a reason for the log and stats: without
    /// the source location it may start with, and a library that does not load named by its file name with the
    /// loader's own words (which name the library it lacks, e.g. "libcublas.so.13: cannot open shared object file").
    /// </summary>
    internal static string Reason(string error)
    {
        var text = LocationPrefix().Replace(error.Trim(), "");
        var load = FailedLoad().Match(text);
        return load.Success ? $"{Path.GetFileName(load.Groups["library"].Value)} does not load: {load.Groups["error"].Value.Trim()}" : text;
    }

    [GeneratedRegex(@"^\S+:\d+ .*?\[ONNXRuntimeError\] : \d+ : \w+ : ")]
    private static partial Regex LocationPrefix();

    [GeneratedRegex(@"Failed to load library (?<library>.+?) with error: (?<error>.*)$", RegexOptions.Singleline)]
    private static partial Regex FailedLoad();

    /// <summary>Adds the chosen provider to session options (nothing to do for the CPU).</summary>
    internal static void Append(SessionOptions sessionOptions, ProviderChoice choice)
    {
        if (choice.TensorRtOptions is { } options)
        {
            // First in the list: TensorRT takes the nodes it supports, the CUDA device after it the rest.
            using var tensorRt = new OrtTensorRTProviderOptions();
            tensorRt.UpdateOptions(options);
            sessionOptions.AppendExecutionProvider_Tensorrt(tensorRt);
        }
        if (choice.EpDevices.Length == 0) return;
        sessionOptions.AppendExecutionProvider(OrtRuntime.Env, choice.EpDevices, choice.Options);
    }
}
