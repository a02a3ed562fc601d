using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace StyleFilter.Ort;

/// <summary>Where sessions run, and why: the provider chosen plus the reason each better one was passed over.</summary>
public sealed record ProviderChoice(string Provider, IReadOnlyList<string> Fallbacks)
{
    /// <summary>The devices to append to the session options; empty for the CPU.</summary>
    internal OrtEpDevice[] EpDevices { get; init; } = [];
    internal Dictionary<string, string> Options { get; init; } = [];

    public static readonly ProviderChoice Cpu = new("CPU", []);

    /// <summary>A GPU provider (its tensors can stay in device memory from one graph to the next).</summary>
    public bool IsGpu => EpDevices.Length > 0;

    /// <summary>Where the provider's tensors live: its device's memory, or CPU memory for the CPU.</summary>
    internal OrtMemoryInfo DeviceMemory => IsGpu ? EpDevices[0].GetMemoryInfo(OrtDeviceMemoryType.DEFAULT) : OrtMemoryInfo.DefaultInstance;
}

/// <summary>
/// Picks an execution provider. Auto tries TensorRT (when libnvinfer is present), then CUDA, then DirectML
/// (Windows), then the CPU. GPU providers are plugin libraries beside ONNX Runtime, registered with
/// RegisterExecutionProviderLibrary and selected through their OrtEpDevice (the route the ONNX Runtime build
/// we ship supports; it has no classic CUDA provider entry point).
/// </summary>
public static class ExecutionProviders
{
    private static readonly object Gate = new();
    private static readonly Dictionary<string, string?> Registered = new(); // registration name -> failure (null = ok)

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
                if (!NativeLibrary.TryLoad(OperatingSystem.IsWindows() ? "nvinfer_10.dll" : "libnvinfer.so.10", out var nvinfer))
                {
                    whyNot = "TensorRT (libnvinfer 10) is not installed";
                    return null;
                }
                NativeLibrary.Free(nvinfer);
                var cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "stylefilter", "tensorrt");
                Directory.CreateDirectory(cache);
                return Plugin("tensorrt", "onnxruntime_providers_tensorrt", "TensorrtExecutionProvider", "TensorRT", out whyNot,
                    new() { ["trt_fp16_enable"] = "1", ["trt_engine_cache_enable"] = "1", ["trt_engine_cache_path"] = cache });
            case ExecutionDevice.Cuda:
                return Plugin("cuda", "onnxruntime_providers_cuda", "CUDAExecutionProvider", "CUDA", out whyNot, []);
            default:
                whyNot = $"unknown device {device}";
                return null;
        }
    }

    /// <summary>Registers a provider library beside ONNX Runtime (once per process) and finds its device.</summary>
    private static ProviderChoice? Plugin(string registration, string library, string epName, string shortName, out string whyNot,
        Dictionary<string, string> options)
    {
        var dir = Path.GetDirectoryName(OrtRuntime.LoadedFrom) ?? "";
        var file = Path.Combine(dir, OperatingSystem.IsWindows() ? library + ".dll" : "lib" + library + ".so");
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
            return $"registering {file}: {OrtException.Text(e)}"; // e.g. the CUDA libraries it needs are missing
        }
    }

    /// <summary>Adds the chosen provider to session options (nothing to do for the CPU).</summary>
    internal static void Append(SessionOptions sessionOptions, ProviderChoice choice)
    {
        if (choice.EpDevices.Length == 0) return;
        sessionOptions.AppendExecutionProvider(OrtRuntime.Env, choice.EpDevices, choice.Options);
    }
}
