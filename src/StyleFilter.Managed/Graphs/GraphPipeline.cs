using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using StyleFilter.Models;
using StyleFilter.Ort;
using StyleFilter.Pipeline;

namespace StyleFilter.Graphs;

/// <summary>The engine's parameters for one frame, as the graph path reads them.</summary>
internal readonly record struct FrameSettings(float Alpha, float Smoothing, bool PreserveColour, TemporalLevel Level, float Scale,
    float MotionThreshold, float SceneCutThreshold, int MotionMargin, bool MotionCompensation);

/// <summary>
/// The graph path: a frame done entirely by ONNX graphs, the engine's own (<see cref="FrameGraphs"/>, built for the
/// formats and sizes in use) around the style model's:
/// <code>
///   host frame -> Unpack -> image[p] -> model graph(s), Blend after the features or the image -> Finish -> host frame
///                                        Blend: history[1-p], image[1-p] (last frame) -> history[p]
/// </code>
/// Every tensor between two graphs is an ONNX Runtime value in the provider's memory, bound through the sessions'
/// OrtIoBinding; with a GPU provider only the host's frames and a few scalars (mean change, finiteness) cross to the
/// CPU. The temporal history is two pairs of tensors used in turn (p is the frame's parity): a frame's blend reads
/// the previous frame's pair and writes the other one, so nothing is copied to keep it.
/// Same results as the C# pipeline (StyleEngine.Stylise with TemporalBlender): GraphPipelineTests compare them.
/// </summary>
internal sealed unsafe class GraphPipeline : IDisposable
{
    private readonly OrtMemoryInfo _memory;
    private readonly GraphSet<UnpackKey> _unpack;
    private readonly GraphSet<BlendKey> _blend;
    private readonly GraphSet<FinishKey> _finish;
    private readonly HostFrame _in = new(), _out = new();
    // Scalars the engine writes and ONNX Runtime reads, and those ONNX Runtime writes back (CPU memory in every case).
    private readonly OrtTensor _smoothing = new(), _inverseThreshold = new(), _sceneCut = new(), _alpha = new();
    private readonly OrtTensor _meanChange = new(), _blendFinite = new(), _finishFinite = new(), _motion = new(6);
    // Motion compensation: the pyramid's level 0 comes from the Unpack graph into this CPU tensor; the estimate is C#.
    private OrtTensor? _motionLuma;
    private readonly MotionTracker _tracker = new();
    private readonly Pair _images = new(), _history = new();
    private readonly StyleModel _model;
    private readonly Stage[] _stages;
    private readonly OrtTensor _mix;
    private int _parity;
    private bool _hasHistory;

    /// <summary>The graphs and tensors for frames of this model (made now; sessions of the engine's graphs at the first frame that needs them).</summary>
    public GraphPipeline(StyleModel model, SessionConfig config)
    {
        _model = model;
        _stages = model.Stages.Select(s => new Stage(s)).ToArray();
        _mix = new OrtTensor(model.Mix.Length);
        _memory = config.Provider?.DeviceMemory ?? OrtMemoryInfo.DefaultInstance;
        var graphs = config with { Optimize = false }; // they are written as they should run
        _unpack = new(FrameGraphs.Unpack, graphs, "unpack");
        _blend = new(FrameGraphs.Blend, graphs, "blend");
        _finish = new(FrameGraphs.Finish, graphs, "finish");
    }

    /// <summary>History restarts (a scene cut, a size change) since this pipeline was made; see TemporalBlender.Resets.</summary>
    public long Resets { get; private set; }

    /// <summary>Mean colour change of the last frame (0..1), as TemporalBlender.LastMeanChange.</summary>
    public float LastMeanChange { get; private set; }

    /// <summary>The motion the last blend warped the history by, as TemporalBlender.LastMotion.</summary>
    public Motion LastMotion { get; private set; } = Motion.Identity;

    /// <summary>Forget earlier frames: the next one is stylised on its own.</summary>
    public void Reset()
    {
        _hasHistory = false;
        _tracker.Reset();
    }

    /// <summary>Stylises one frame; input and output have the same size and any formats and strides.</summary>
    public void Process(in FrameBuffer input, in FrameBuffer output, in FrameSettings s)
    {
        var model = _model;
        int p = _parity;
        var frame = _in.Bind(input, copyIn: true);

        // The host's frame -> the model's input image at the inference size.
        var (w, h) = model.InferenceSize(input.Width, input.Height, s.Scale);
        _images.Fit(1, 3, h, w);
        bool track = s.MotionCompensation && s.Smoothing > 0; // as TemporalBlender.Blend
        var unpack = _unpack.For(new UnpackKey(input.Format, input.Width, input.Height, w, h, track));
        int unpacked = unpack.Output(FrameGraphs.Image);
        unpack.In[unpack.Input(FrameGraphs.Frame)] = frame;
        unpack.Out[unpacked] = _images.Values[p];
        if (track) unpack.Out[unpack.Output(FrameGraphs.MotionLuma)] = MotionLuma(w, h).Value;
        unpack.Run(_memory);
        var image = _images.Values[p] = unpack.Out[unpacked]!;
        var motion = Motion.Identity;
        if (track) motion = _tracker.TrackBase(_motionLuma!.Span, w, h);
        else _tracker.Reset();

        // The model's graphs, with the temporal blend after the stage the level names.
        model.Mix.CopyTo(_mix.Span);
        int blendAt = model.BlendStage(s.Level), last = _stages.Length - 1;
        var x = image;
        var shape = _images.Shape!;
        for (int i = 0; i <= last; i++)
        {
            var stage = _stages[i];
            (x, shape) = stage.Run(x, shape, _mix.Value, _memory);
            if (i == last && (shape.Length != 4 || shape[1] != 3)) throw model.NotAnImage(shape);
            if (i == blendAt) x = Blend(x, shape, image, p, s, stage.Model.Produces, motion);
        }

        // The stylised image -> the host's frame.
        bool mix = s.Alpha < 1, checkFinite = blendAt != last; // a blended image was checked by the blend
        var finish = _finish.For(new FinishKey(input.Format, output.Format, input.Width, input.Height, (int)shape[0], (int)shape[2], (int)shape[3],
            s.PreserveColour, mix, checkFinite));
        finish.In[finish.Input(FrameGraphs.Stylised)] = x;
        finish.In[finish.Input(FrameGraphs.Frame)] = frame;
        if (mix)
        {
            _alpha.Span[0] = s.Alpha;
            finish.In[finish.Input(FrameGraphs.Alpha)] = _alpha.Value;
        }
        finish.Out[finish.Output(FrameGraphs.Pixels)] = _out.Bind(output, copyIn: false);
        if (checkFinite) finish.Out[finish.Output(FrameGraphs.Finite)] = _finishFinite.Value;
        finish.Run(_memory);
        if (checkFinite && !float.IsFinite(_finishFinite.Span[0])) throw model.NotFinite("image");
        _out.CopyOut(output);
        _parity ^= 1;
    }

    /// <summary>
    /// Blends current (a stage's output) with the history into history[p], as TemporalBlender.Blend: the history
    /// continues when the previous frame left one of the same shapes and the mean change is no scene cut.
    /// </summary>
    private OrtValue Blend(OrtValue current, long[] shape, OrtValue image, int p, in FrameSettings s, string what, Motion motion)
    {
        if (shape.Length != 4) throw new StyleFilterException(StatusCode.ModelError, $"the model's {what} are [{string.Join(',', shape)}], not NCHW");
        bool sameShape = _history.Fit(shape[0], shape[1], shape[2], shape[3]);
        var previous = _history.Values[1 - p];
        var previousImage = _images.Values[1 - p];
        bool continues = _hasHistory && sameShape && previous is not null && previousImage is not null;
        bool compensate = continues && !motion.IsIdentity; // no motion: exactly the uncompensated graph
        LastMotion = compensate ? motion : Motion.Identity;

        var blend = _blend.For(new BlendKey((int)shape[0], (int)shape[1], (int)shape[2], (int)shape[3], (int)_images.Shape![2], (int)_images.Shape[3],
            s.MotionMargin, CheckFinite: true, compensate));
        if (compensate)
        {
            var m = _motion.Span;
            (m[0], m[1], m[2], m[3], m[4], m[5]) = (motion.A, motion.B, motion.C, motion.D, motion.E, motion.F);
            blend.In[blend.Input(FrameGraphs.Motion)] = _motion.Value;
        }
        // Without a history, current is its own previous frame: the blend then gives current exactly.
        blend.In[blend.Input(FrameGraphs.Current)] = current;
        blend.In[blend.Input(FrameGraphs.Previous)] = continues ? previous! : current;
        blend.In[blend.Input(FrameGraphs.Image)] = image;
        blend.In[blend.Input(FrameGraphs.PreviousImage)] = continues ? previousImage! : image;
        _smoothing.Span[0] = s.Smoothing;
        _inverseThreshold.Span[0] = 1f / s.MotionThreshold;
        _sceneCut.Span[0] = s.SceneCutThreshold;
        blend.In[blend.Input(FrameGraphs.Smoothing)] = _smoothing.Value;
        blend.In[blend.Input(FrameGraphs.InverseThreshold)] = _inverseThreshold.Value;
        blend.In[blend.Input(FrameGraphs.SceneCut)] = _sceneCut.Value;
        int blended = blend.Output(FrameGraphs.Blended);
        blend.Out[blended] = _history.Values[p];
        blend.Out[blend.Output(FrameGraphs.MeanChange)] = _meanChange.Value;
        blend.Out[blend.Output(FrameGraphs.Finite)] = _blendFinite.Value;
        blend.Run(_memory);
        var result = _history.Values[p] = blend.Out[blended]!;
        if (!float.IsFinite(_blendFinite.Span[0])) throw _model.NotFinite(what);

        float mean = _meanChange.Span[0];
        LastMeanChange = continues ? mean : 0;
        if (continues && mean > s.SceneCutThreshold) continues = false;
        if (!continues && _hasHistory) Resets++;
        _hasHistory = true;
        return result;
    }

    /// <summary>The CPU tensor the Unpack graph writes the motion estimator's level 0 into, sized for this inference size.</summary>
    private OrtTensor MotionLuma(int width, int height)
    {
        var (bw, bh) = LumaPyramid.BaseSize(width, height);
        if (_motionLuma is null || !_motionLuma.HasShape([1, 1, bh, bw]))
        {
            _motionLuma?.Dispose();
            _motionLuma = new OrtTensor(1, 1, bh, bw);
        }
        return _motionLuma;
    }

    /// <summary>Releases the tensors, then the sessions of the engine's graphs (the model's are the model's).</summary>
    public void Dispose()
    {
        foreach (var stage in _stages) stage.Dispose();
        _images.Dispose(); _history.Dispose(); _in.Dispose(); _out.Dispose();
        foreach (var t in new[] { _mix, _smoothing, _inverseThreshold, _sceneCut, _alpha, _meanChange, _blendFinite, _finishFinite, _motion }) t.Dispose();
        _motionLuma?.Dispose();
        _tracker.Dispose();
        _unpack.Dispose(); _blend.Dispose(); _finish.Dispose();
    }

    /// <summary>One of the model's sessions with its outputs, which ONNX Runtime allocates once per input shape and the pipeline keeps.</summary>
    private sealed class Stage(ModelStage model) : IDisposable
    {
        public ModelStage Model { get; } = model;
        private readonly OrtValue[] _in = new OrtValue[model.Session.Inputs.Count];
        private readonly OrtValue?[] _out = new OrtValue?[model.Session.Outputs.Count];
        private long[]? _inputShape, _outputShape;

        public (OrtValue Output, long[] Shape) Run(OrtValue input, long[] inputShape, OrtValue mix, OrtMemoryInfo memory)
        {
            if (_inputShape is null || !_inputShape.AsSpan().SequenceEqual(inputShape))
            {
                Dispose(); // outputs follow the input's shape: ONNX Runtime allocates them again on this run
                _inputShape = inputShape;
            }
            _in[Model.Input] = input;
            if (Model.MixInput >= 0) _in[Model.MixInput] = mix;
            Model.Session.Run(_in, _out, SessionRunner.FrameTimeLimit, memory);
            var output = _out[Model.Output]!;
            if (_outputShape is null)
            {
                var info = output.GetTensorTypeAndShape(); // once per shape: it allocates
                if (info.ElementDataType != TensorElementType.Float)
                    throw new StyleFilterException(StatusCode.ModelError, $"model '{Model.Session.Source}' produced a tensor of {info.ElementDataType}; expected float");
                _outputShape = info.Shape;
            }
            return (output, _outputShape);
        }

        public void Dispose()
        {
            for (int i = 0; i < _out.Length; i++) { _out[i]?.Dispose(); _out[i] = null; }
            _inputShape = _outputShape = null;
        }
    }

    /// <summary>Two tensors of one shape used in turn (this frame's and the previous frame's), allocated by ONNX Runtime on first use.</summary>
    private sealed class Pair : IDisposable
    {
        public readonly OrtValue?[] Values = new OrtValue?[2];
        public long[]? Shape { get; private set; }

        /// <summary>True when the pair already has this shape; otherwise both are released (made again on their next run).</summary>
        public bool Fit(long n, long c, long h, long w)
        {
            if (Shape is [var n0, var c0, var h0, var w0] && (n0, c0, h0, w0) == (n, c, h, w)) return true;
            Dispose();
            Shape = [n, c, h, w];
            return false;
        }

        public void Dispose()
        {
            for (int i = 0; i < 2; i++) { Values[i]?.Dispose(); Values[i] = null; }
            Shape = null;
        }
    }

    /// <summary>A session of one of the engine's graphs, with its input and output slots.</summary>
    private sealed class Graph(OrtSession session) : IDisposable
    {
        public readonly OrtValue[] In = new OrtValue[session.Inputs.Count];
        public readonly OrtValue?[] Out = new OrtValue?[session.Outputs.Count];

        public int Input(string name) => session.InputIndex(name) is >= 0 and var i ? i : throw Missing(name);
        public int Output(string name) => session.OutputIndex(name) is >= 0 and var i ? i : throw Missing(name);
        private StyleFilterException Missing(string name) => new(StatusCode.Internal, $"the engine's graph '{session.Source}' has no '{name}'");

        public void Run(OrtMemoryInfo memory) => session.Run(In, Out, SessionRunner.FrameTimeLimit, memory);

        public void Dispose() => session.Dispose();
    }

    /// <summary>The sessions of one kind of graph, one per key in use (a few: formats and sizes rarely change).</summary>
    private sealed class GraphSet<TKey>(Func<TKey, byte[]> build, SessionConfig config, string kind) : IDisposable where TKey : notnull
    {
        private const int MaxKept = 6;
        private readonly Dictionary<TKey, Graph> _graphs = [];

        public Graph For(TKey key)
        {
            if (_graphs.TryGetValue(key, out var graph)) return graph;
            if (_graphs.Count >= MaxKept) Dispose();
            try
            {
                graph = new Graph(OrtSession.FromBytes(build(key), $"{kind} {key}", config));
            }
            catch (StyleFilterException e)
            {
                throw new StyleFilterException(StatusCode.Internal, $"the engine's {kind} graph could not be made: {e.Message}", e);
            }
            _graphs[key] = graph;
            return graph;
        }

        public void Dispose()
        {
            foreach (var g in _graphs.Values) g.Dispose();
            _graphs.Clear();
        }
    }

    /// <summary>
    /// A host frame as the HxWx4 tensor the graphs take or give: the host's own memory when its rows are packed
    /// (no copy); a frame with padded rows goes through a packed buffer, since tensors are dense and the padding of
    /// the host's output must stay untouched.
    /// </summary>
    private sealed class HostFrame : IDisposable
    {
        private OrtValue? _value;
        private nint _data;
        private (int Width, int Height, PixelFormat Format) _layout;
        private byte* _staging;
        private long _stagingBytes;
        private bool _staged;

        public OrtValue Bind(in FrameBuffer f, bool copyIn)
        {
            long row = (long)f.Width * FrameBuffer.BytesPerPixel(f.Format);
            _staged = f.Stride != row;
            nint data = _staged ? Staging(row * f.Height) : f.Data;
            if (_staged && copyIn)
                for (int y = 0; y < f.Height; y++)
                    Buffer.MemoryCopy((byte*)f.Data + (long)y * f.Stride, _staging + y * row, row, row);
            if (_value is null || data != _data || _layout != (f.Width, f.Height, f.Format))
            {
                _value?.Dispose();
                var type = f.Format == PixelFormat.Rgba32F ? TensorElementType.Float : TensorElementType.UInt8;
                _value = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, type, [f.Height, f.Width, 4], data, row * f.Height);
                (_data, _layout) = (data, (f.Width, f.Height, f.Format));
            }
            return _value;
        }

        /// <summary>After a run that wrote the output: copies a staged frame's rows to the host's padded ones.</summary>
        public void CopyOut(in FrameBuffer f)
        {
            if (!_staged) return;
            long row = (long)f.Width * FrameBuffer.BytesPerPixel(f.Format);
            for (int y = 0; y < f.Height; y++)
                Buffer.MemoryCopy(_staging + y * row, (byte*)f.Data + (long)y * f.Stride, row, row);
        }

        private nint Staging(long bytes)
        {
            if (bytes > _stagingBytes)
            {
                _value?.Dispose();
                _value = null;
                if (_staging != null) NativeMemory.AlignedFree(_staging);
                _staging = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
                _stagingBytes = bytes;
            }
            return (nint)_staging;
        }

        public void Dispose()
        {
            _value?.Dispose();
            _value = null;
            if (_staging != null) NativeMemory.AlignedFree(_staging);
            _staging = null;
            _stagingBytes = 0;
        }
    }
}
