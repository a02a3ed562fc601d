namespace StyleFilter;

/// <summary>Pixel layouts a host hands over. Numbers match SF_FORMAT_* in stylefilter.h.</summary>
public enum PixelFormat
{
    Rgba8 = 1,
    Bgra8 = 2,
    Rgba32F = 3,
}

/// <summary>A host's frame in CPU memory: pointer, size and row stride in bytes (rows may be padded).</summary>
public readonly record struct FrameBuffer(nint Data, int Width, int Height, int Stride, PixelFormat Format)
{
    /// <summary>Largest side accepted (16K); anything bigger is a host bug, not a frame.</summary>
    public const int MaxSide = 16384;

    public static int BytesPerPixel(PixelFormat format) => format switch
    {
        PixelFormat.Rgba8 or PixelFormat.Bgra8 => 4,
        PixelFormat.Rgba32F => 16,
        _ => throw new StyleFilterException(StatusCode.InvalidArgument, $"unknown pixel format {(int)format}"),
    };

    /// <summary>Throws a readable InvalidArgument error when the description cannot be a real frame.</summary>
    public void Validate(string role)
    {
        if (Data == 0) throw new StyleFilterException(StatusCode.InvalidArgument, $"{role} frame has a null data pointer");
        if (Width <= 0 || Height <= 0) throw new StyleFilterException(StatusCode.InvalidArgument, $"{role} frame is {Width}x{Height}: sides must be positive");
        if (Width > MaxSide || Height > MaxSide) throw new StyleFilterException(StatusCode.InvalidArgument, $"{role} frame is {Width}x{Height}: larger than {MaxSide}");
        var rowBytes = (long)Width * BytesPerPixel(Format);
        if (Stride < rowBytes) throw new StyleFilterException(StatusCode.InvalidArgument, $"{role} frame stride {Stride} is smaller than a row ({rowBytes} bytes)");
        if (Format == PixelFormat.Rgba32F && Stride % 4 != 0) throw new StyleFilterException(StatusCode.InvalidArgument, $"{role} float frame stride {Stride} is not a multiple of 4");
    }

    /// <summary>Bytes a buffer must span for this description.</summary>
    public long SpanBytes => (long)Stride * (Height - 1) + (long)Width * BytesPerPixel(Format);
}

/// <summary>Where inference should run. Numbers match SF_DEVICE_* in stylefilter.h.</summary>
public enum ExecutionDevice
{
    Auto = 0,
    Cpu = 1,
    Cuda = 2,
    TensorRT = 3,
    DirectML = 4,
}

/// <summary>Fixed at engine creation.</summary>
public sealed record EngineOptions
{
    /// <summary>Full path of libonnxruntime; null searches STYLEFILTER_ORT_LIBRARY, then beside the engine.</summary>
    public string? OrtLibraryPath { get; init; }
    /// <summary>Threads ONNX Runtime may use inside one operator; 0 lets it choose (all cores). Values above the
    /// number of logical processors are lowered to it: more threads than cores only wait for each other.</summary>
    public int IntraOpThreads { get; init; }
    public const int MaxIntraOpThreads = 1024;
    public ExecutionDevice Device { get; init; } = ExecutionDevice.Auto;
    /// <summary>Which network size of a style to load (<see cref="StyleEngine.Tier"/>).</summary>
    public ModelTier Tier { get; init; } = ModelTier.Auto;
    /// <summary>How frames are done around the model (<see cref="StyleEngine.FramePath"/>); Auto also reads STYLEFILTER_FRAME_PATH.</summary>
    public FramePath FramePath { get; init; } = FramePath.Auto;
}

/// <summary>How the engine does a frame's work around the model (unpacking, resizing, temporal blend, colour, alpha, packing).</summary>
public enum FramePath
{
    /// <summary>The graph path on a GPU provider, the C# pipeline on the CPU (<see cref="StyleEngine.ActiveFramePath"/> says why).</summary>
    Auto = 0,
    /// <summary>The C# pipeline (Pipeline/): vectorised loops on the CPU around the model's graphs.</summary>
    Managed = 1,
    /// <summary>ONNX graphs of the engine's own (Graphs/) around the model's, run by the model's provider.</summary>
    Graphs = 2,
}

/// <summary>What the engine has done so far; latency covers a whole Process call.</summary>
public readonly record struct EngineStats(
    long Frames, double MeanMs, double P50Ms, double P99Ms, string Provider, long HistoryResets, long PassThroughFrames)
{
    /// <summary>Each provider better than <see cref="Provider"/> that was passed over, as "Device: reason".</summary>
    public IReadOnlyList<string> Fallbacks { get => _fallbacks ?? []; init => _fallbacks = value; }
    private readonly IReadOnlyList<string>? _fallbacks; // null in default(EngineStats)

    /// <summary>The provider with the reasons better ones were passed over, for one line of output.</summary>
    public string ProviderWithFallbacks => Fallbacks.Count == 0 ? Provider : $"{Provider}; passed over {string.Join("; ", Fallbacks)}";
}

/// <summary>Where temporal smoothing blends with the previous frame.</summary>
public enum TemporalLevel
{
    /// <summary>The output image with motion compensation (StyleEngine.MotionCompensation); without it, features for split packs and the output image for single graphs.</summary>
    Auto = 0,
    /// <summary>The stylised image (possible for every model).</summary>
    Output = 1,
    /// <summary>The encoder's features (split packs only; single graphs fall back to the output).</summary>
    Features = 2,
}
