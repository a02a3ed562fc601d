using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StyleFilter.Graphs;
using StyleFilter.Models;
using StyleFilter.Ort;
using StyleFilter.Pipeline;

namespace StyleFilter;

/// <summary>
/// One stylization engine: a loaded style, its parameters and the temporal history of one video stream.
/// Safe to drive from several threads: frames are processed one at a time, parameters may change at any
/// moment (they apply from the next frame), and LoadStyle builds the new model while the old one keeps
/// serving frames, then swaps it in. Whatever goes wrong inside a frame, the output receives the input
/// (pass-through) before the error is raised.
/// </summary>
public sealed class StyleEngine : IDisposable
{
    private readonly object _gate = new(); // held for a whole frame, for the model swap and for Dispose
    private readonly object _statsGate = new(); // stats only, so reading them never waits for a frame
    private readonly ILogger _log;
    private readonly SessionConfig _config;
    private readonly TemporalBlender _blender = new();
    private readonly FrameResizer _resizer = new();
    private readonly PlanarImage _copyScratch = new(); // PixelConverter.Copy's, when formats differ
    private readonly LatencyRecorder _latency = new();
    private StyleModel? _model;
    private ProviderChoice _provider = ProviderChoice.Cpu;
    private bool _disposed;
    private long _frames, _passThrough;
    private volatile float _alpha = 1f, _smoothing = DefaultSmoothing, _scale = 1f;
    private volatile bool _preserveColour;
    private TemporalLevel _level;
    private FramePath _framePath;
    private GraphPipeline? _graphs; // the graph path's graphs and tensors, made at its first frame
    private long _retiredGraphResets;

    /// <summary>Measured in docs/benchmarks.md: the knee of flicker against style distance and ghosting.</summary>
    public const float DefaultSmoothing = 0.75f;

    public StyleEngine(EngineOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        options ??= new EngineOptions();
        _log = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("StyleFilter");
        if (options.IntraOpThreads is < 0 or > EngineOptions.MaxIntraOpThreads)
            throw new StyleFilterException(StatusCode.InvalidArgument, $"intra-op threads {options.IntraOpThreads} must be 0 (automatic) .. {EngineOptions.MaxIntraOpThreads}");
        if (!Enum.IsDefined(options.Device)) throw new StyleFilterException(StatusCode.InvalidArgument, $"unknown device {(int)options.Device}");
        OrtLog.Use(_log);
        OrtRuntime.EnsureLoaded(options.OrtLibraryPath);
        int threads = Math.Min(options.IntraOpThreads, Environment.ProcessorCount);
        if (threads != options.IntraOpThreads)
            _log.LogInformation("intra-op threads {Asked} lowered to the {Cores} logical processors", options.IntraOpThreads, threads);
        _config = new SessionConfig(threads);
        Device = options.Device;
        if (!Enum.IsDefined(options.Tier)) throw new StyleFilterException(StatusCode.InvalidArgument, $"unknown network tier {(int)options.Tier}");
        Tier = options.Tier;
        if (!Enum.IsDefined(options.FramePath)) throw new StyleFilterException(StatusCode.InvalidArgument, $"unknown frame path {(int)options.FramePath}");
        _framePath = options.FramePath == FramePath.Auto ? FramePathFromEnvironment() : options.FramePath;
        _log.LogInformation("engine created: ONNX Runtime {Version} from {Path}", OrtRuntime.Version, OrtRuntime.LoadedFrom);
    }

    /// <summary>The loaded style, or null before the first successful LoadStyle.</summary>
    public StyleModelInfo? Style => _model?.Info;

    /// <summary>Style strength: 0 returns the input untouched, 1 the full style.</summary>
    public float Alpha { get => _alpha; set => _alpha = InRange(value, 0, 1, nameof(Alpha)); }

    /// <summary>Temporal smoothing strength s (0 = every frame on its own, 1 = hold still areas fully).</summary>
    public float Smoothing { get => _smoothing; set => _smoothing = InRange(value, 0, 1, nameof(Smoothing)); }

    /// <summary>Input colour change (0..1) at which a pixel counts as moving and takes no history; see <see cref="TemporalBlender"/>.</summary>
    public float MotionThreshold
    {
        get => _blender.MotionThreshold;
        set { var v = InRange(value, 0.001f, 1, nameof(MotionThreshold)); lock (_gate) _blender.MotionThreshold = v; }
    }

    /// <summary>
    /// Warp the temporal history along the camera's motion (pan, zoom, roll) before blending, so a moving camera is
    /// smoothed as a still one is; off blends only where nothing moved. See <see cref="TemporalBlender"/>.
    /// </summary>
    public bool MotionCompensation
    {
        get => _blender.MotionCompensation;
        set
        {
            lock (_gate)
            {
                if (_blender.MotionCompensation == value) return;
                _blender.MotionCompensation = value;
                ResetAllHistory(); // under Auto it also moves the blend between the features and the image
            }
        }
    }

    /// <summary>
    /// Where the blend happens this frame: Auto blends the stylised image while motion compensation is on (the warp
    /// is then at full resolution, and the measurements in docs/benchmarks.md, "Motion compensation", show the output
    /// follows the camera far better than warped features do, at no more cost in style) and the encoder's features of
    /// a split pack otherwise.
    /// </summary>
    internal TemporalLevel EffectiveTemporalLevel =>
        _level == TemporalLevel.Auto && _blender.MotionCompensation ? TemporalLevel.Output : _level;

    /// <summary>The motion the last frame's blend followed (identity for none), on whichever path ran it.</summary>
    internal Motion LastMotion => ActiveFramePath == FramePath.Graphs ? _graphs?.LastMotion ?? Motion.Identity : _blender.LastMotion;

    /// <summary>Keep the input's colours and take only the style's light and shade.</summary>
    public bool PreserveColour { get => _preserveColour; set => _preserveColour = value; }

    /// <summary>Smallest stored inference scale; any smaller positive scale gives the same (smallest) inference size.</summary>
    public const float MinInferenceScale = 1e-6f;

    /// <summary>Fraction of the frame's size used for inference with models that accept any size.</summary>
    public float InferenceScale
    {
        get => _scale;
        set => _scale = value is > 0 and <= 1 ? value : throw new StyleFilterException(StatusCode.InvalidArgument, $"InferenceScale {value} must be in (0, 1]");
    }

    /// <summary>Where temporal smoothing blends (features or output image); changing it restarts the history.</summary>
    public TemporalLevel TemporalLevel
    {
        get => _level;
        set
        {
            if (!Enum.IsDefined(value)) throw new StyleFilterException(StatusCode.InvalidArgument, $"unknown temporal level {(int)value}");
            lock (_gate) { _level = value; ResetAllHistory(); }
        }
    }

    /// <summary>How frames are done around the model; applies from the next frame and restarts the history.</summary>
    public FramePath FramePath
    {
        get => _framePath;
        set
        {
            if (!Enum.IsDefined(value)) throw new StyleFilterException(StatusCode.InvalidArgument, $"unknown frame path {(int)value}");
            lock (_gate) { _framePath = value; ResetAllHistory(); }
        }
    }

    /// <summary>
    /// The path frames take with the loaded style. Auto is the graph path on a GPU provider (the frame stays on the
    /// device from the host's pixels to the result) and the C# pipeline on the CPU, where it is the faster of the two
    /// (docs/benchmarks.md, "Frame graphs": each ONNX operator is one pass over memory, where the C# fuses steps).
    /// </summary>
    public FramePath ActiveFramePath =>
        _framePath != FramePath.Auto ? _framePath : _provider.IsGpu ? FramePath.Graphs : FramePath.Managed;

    /// <summary>STYLEFILTER_FRAME_PATH=managed|graphs chooses the path for hosts that cannot set it (the C ABI has no setting for it).</summary>
    private FramePath FramePathFromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable("STYLEFILTER_FRAME_PATH");
        if (string.IsNullOrEmpty(value)) return FramePath.Auto;
        if (Enum.TryParse<FramePath>(value, ignoreCase: true, out var path) && Enum.IsDefined(path)) return path;
        _log.LogWarning("STYLEFILTER_FRAME_PATH={Value} is not auto, managed or graphs: using auto", value);
        return FramePath.Auto;
    }

    /// <summary>Where models run; applies from the next LoadStyle.</summary>
    public ExecutionDevice Device { get; set; }

    /// <summary>
    /// Which network size of a style LoadStyle takes when the style has several (<see cref="StyleCatalog.ResolveTier"/>):
    /// Auto takes the fast one on the CPU and the full one on a GPU; applies from the next LoadStyle.
    /// </summary>
    public ModelTier Tier { get; set; }

    /// <summary>The network size of the loaded style.</summary>
    public ModelTier LoadedTier { get; private set; }

    /// <summary>Loads a bundled style by name, or a model file / pack by path. The old style stays on failure.</summary>
    public void LoadStyle(string nameOrPath)
    {
        ThrowIfDisposed();
        var started = Stopwatch.GetTimestamp();
        StyleModel model;
        ProviderChoice provider;
        string path;
        ModelTier tier;
        try
        {
            provider = ExecutionProviders.Select(Device, _log);
            (path, tier, var note) = StyleCatalog.ResolveTier(nameOrPath, Tier, provider.IsGpu);
            if (note is not null) _log.LogWarning("{Note}", note);
            while (true)
            {
                try
                {
                    model = ModelLoader.Load(path, _config with { Provider = provider }, _log);
                    break;
                }
                catch (StyleFilterException e) when (provider.Provider != ProviderChoice.Cpu.Provider && e.Code is StatusCode.RuntimeError or StatusCode.ModelError)
                {
                    var next = provider.Next;
                    _log.LogWarning("the {Provider} provider failed on this model ({Message}); using {Next}", provider.Provider, e.Message,
                        next.Provider == ProviderChoice.Cpu.Provider ? "the CPU" : next.Provider);
                    provider = next with { Fallbacks = [.. provider.Fallbacks, $"{provider.Provider}: {e.Message}"] };
                }
            }
        }
        catch (StyleFilterException e)
        {
            _log.LogError("could not load style '{Style}': {Message}", nameOrPath, e.Message);
            throw;
        }
        StyleModel? old;
        lock (_gate)
        {
            if (_disposed) { model.Dispose(); ThrowIfDisposed(); }
            old = _model;
            _model = model;
            _provider = provider;
            LoadedTier = tier;
            RetireGraphs(); // the old model's tensors go before the model does
            ResetAllHistory();
        }
        old?.Dispose();
        _log.LogInformation("loaded style '{Name}' ({Kind}, {Tier} network, input {Shape}) from {Source} on {Provider} in {Ms:F0} ms",
            model.Info.Name, model.Info.Kind, tier.ToString().ToLowerInvariant(), model.Info.InputShape, model.Info.Source, provider.Provider,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>The execution provider the loaded style runs on, and why better ones were passed over.</summary>
    public ProviderChoice Provider => _provider;

    /// <summary>Weights for a multi-style model, one per <see cref="StyleModelInfo.MixableStyles"/>; normalised to sum 1.</summary>
    public void SetStyleMix(ReadOnlySpan<float> weights)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            (_model ?? throw new StyleFilterException(StatusCode.NoStyle, "no style loaded")).SetStyleMix(weights);
        }
    }

    /// <summary>Forget earlier frames (a seek, a new clip): the next frame is stylised on its own.</summary>
    public void ResetHistory()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            ResetAllHistory();
        }
    }

    private void ResetAllHistory()
    {
        _blender.Reset();
        _graphs?.Reset();
    }

    private void RetireGraphs()
    {
        var graphs = _graphs;
        if (graphs is null) return;
        lock (_statsGate)
        {
            _retiredGraphResets += graphs.Resets; // kept: HistoryResets counts over the engine's life
            _graphs = null;
        }
        graphs.Dispose();
    }

    /// <summary>Stylises one frame. Input and output have the same size; their formats and strides may differ.</summary>
    public void Process(FrameBuffer input, FrameBuffer output)
    {
        input.Validate("input");
        output.Validate("output");
        if (input.Width != output.Width || input.Height != output.Height)
            throw new StyleFilterException(StatusCode.InvalidArgument, $"input is {input.Width}x{input.Height} but output is {output.Width}x{output.Height}");
        lock (_gate)
        {
            ThrowIfDisposed();
            var started = Stopwatch.GetTimestamp();
            try
            {
                var model = _model ?? throw new StyleFilterException(StatusCode.NoStyle, "no style loaded: the frame was passed through");
                float alpha = _alpha;
                if (alpha == 0) PixelConverter.Copy(input, output, _copyScratch);
                else Stylise(model, input, output, alpha);
            }
            catch (Exception e)
            {
                ResetAllHistory(); // a failed frame may have left half an update (or NaN) in the history
                PassThrough(input, output, e);
                // An unexpected failure (out of memory under a host's limit, a bug) names the model it happened with.
                throw e as StyleFilterException ?? new StyleFilterException(StatusCode.Internal,
                    _model is { } m ? $"frame failed with model '{m.Info.Source}': {e.Message}" : $"frame failed: {e.Message}", e);
            }
            finally
            {
                lock (_statsGate)
                {
                    _frames++;
                    _latency.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }
        }
    }

    /// <summary>Convenience for tightly packed buffers.</summary>
    public unsafe void Process(ReadOnlySpan<byte> input, Span<byte> output, int width, int height, PixelFormat format)
    {
        int stride = checked(width * FrameBuffer.BytesPerPixel(format));
        long needed = (long)stride * height;
        if (input.Length < needed || output.Length < needed)
            throw new StyleFilterException(StatusCode.InvalidArgument, $"a {width}x{height} {format} frame needs {needed} bytes; got {input.Length} in, {output.Length} out");
        fixed (byte* i = input)
        fixed (byte* o = output)
            Process(new FrameBuffer((nint)i, width, height, stride, format), new FrameBuffer((nint)o, width, height, stride, format));
    }

    private void Stylise(StyleModel model, in FrameBuffer input, in FrameBuffer output, float alpha)
    {
        if (ActiveFramePath == FramePath.Graphs)
        {
            _graphs ??= new GraphPipeline(model, _config with { Provider = _provider });
            _graphs.Process(input, output, new FrameSettings(alpha, _smoothing, _preserveColour, EffectiveTemporalLevel, _scale,
                _blender.MotionThreshold, _blender.SceneCutThreshold, _blender.MotionMargin, _blender.MotionCompensation));
            return;
        }
        var (w, h) = model.InferenceSize(input.Width, input.Height, _scale);
        _resizer.FromFrame(input, model.PrepareInput(w, h));
        var result = model.Run(_blender, _smoothing, EffectiveTemporalLevel);
        _resizer.ToFrame(result, input, output, alpha, _preserveColour);
    }

    private void PassThrough(in FrameBuffer input, in FrameBuffer output, Exception cause)
    {
        lock (_statsGate) _passThrough++;
        try { PixelConverter.Copy(input, output, _copyScratch); }
        catch (Exception copy) { _log.LogError("pass-through copy failed: {Message}", copy.Message); }
        // A broken model fails every frame: log each new reason once, and a repeated one every thousandth time.
        if (cause.Message != _lastPassThroughReason || _passThrough % 1000 == 0)
            _log.LogError("frame {Frame} passed through unstyled ({Count} so far): {Message}", _frames, _passThrough, cause.Message);
        _lastPassThroughReason = cause.Message;
    }

    private string? _lastPassThroughReason;

    /// <summary>Counters and latency so far; never waits for a frame in progress.</summary>
    public EngineStats Stats
    {
        get
        {
            lock (_statsGate)
            {
                var (mean, p50, p99) = _latency.Summary();
                return new EngineStats(_frames, mean, p50, p99, _provider.Provider,
                    _blender.Resets + _retiredGraphResets + (_graphs?.Resets ?? 0), _passThrough)
                { Fallbacks = _provider.Fallbacks };
            }
        }
    }

    private static float InRange(float value, float min, float max, string name) =>
        value >= min && value <= max ? value : throw new StyleFilterException(StatusCode.InvalidArgument, $"{name} {value} must be in [{min}, {max}]");

    private void ThrowIfDisposed()
    {
        if (_disposed) throw new StyleFilterException(StatusCode.InvalidHandle, "the engine has been destroyed");
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            RetireGraphs();
            _model?.Dispose();
            _model = null;
            _blender.Dispose(); _resizer.Dispose(); _copyScratch.Dispose();
        }
    }
}
