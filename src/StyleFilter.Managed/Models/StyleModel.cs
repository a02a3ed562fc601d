using System.Numerics;
using StyleFilter.Ort;
using StyleFilter.Pipeline;

namespace StyleFilter.Models;

/// <summary>
/// A loaded style: turns the model's input image (0..255 RGB planes at inference size) into a stylised image,
/// applying the temporal blend at the point that suits the model.
/// </summary>
internal abstract unsafe class StyleModel : IDisposable
{
    private readonly int _fixedWidth, _fixedHeight;
    private readonly PlanarImage _inputView = new();
    private readonly PlanarImage _outputView = new();
    private readonly long[] _mixShape;
    private float[] _mix;

    public StyleModelInfo Info { get; }
    /// <summary>Inference height and width must be multiples of this (the network's total downsampling).</summary>
    public int Multiple { get; }

    /// <summary>
    /// Smallest inference side: style networks pad by reflection (4 px for a 9x9 kernel at full resolution, 1 px
    /// after two halvings), which fails on tinier images; smaller frames are scaled up to this and back.
    /// </summary>
    public const int MinInferenceSide = 32;

    protected StyleModel(StyleModelInfo info, TensorInfo image, int multiple)
    {
        Info = info;
        Multiple = Math.Max(1, multiple);
        var (h, w) = (image.Shape[2], image.Shape[3]);
        if (h > FrameBuffer.MaxSide || w > FrameBuffer.MaxSide)
            throw new StyleFilterException(StatusCode.ModelError,
                $"model '{info.Source}' declares a fixed {w}x{h} input, larger than the {FrameBuffer.MaxSide}-pixel limit on a side");
        (_fixedHeight, _fixedWidth) = ((int)h, (int)w);
        _mixShape = [Math.Max(1, info.MixableStyles.Count)];
        _mix = new float[_mixShape[0]];
        _mix[0] = 1; // the first style until a host asks for a mix
    }

    public bool HasFixedSize => _fixedWidth > 0 && _fixedHeight > 0;

    /// <summary>Fixed-size models run at their size; others at scale x the frame, rounded to the multiple.</summary>
    public (int Width, int Height) InferenceSize(int frameWidth, int frameHeight, float scale)
    {
        if (HasFixedSize) return (_fixedWidth, _fixedHeight);
        int min = (MinInferenceSide + Multiple - 1) / Multiple * Multiple;
        int Round(int side) => Math.Max(min, (int)MathF.Round(side * scale / Multiple) * Multiple);
        return (Round(frameWidth), Round(frameHeight));
    }

    /// <summary>The image tensor the next <see cref="Run"/> reads, sized for inference.</summary>
    public PlanarImage PrepareInput(int width, int height)
    {
        Span<long> shape = [1, 3, height, width];
        var tensor = ImageInput(shape);
        _inputView.Wrap(tensor.Data, width, height, 3);
        return _inputView;
    }

    /// <summary>Runs the model on the prepared input; the result is a view valid until the next call.</summary>
    public PlanarImage Run(TemporalBlender blender, float smoothing, TemporalLevel level)
    {
        var output = RunModel(blender, _inputView, smoothing, level);
        var shape = output.Shape;
        if (shape.Length != 4 || shape[1] != 3) throw NotAnImage(shape);
        // Checked before the blend sizes its history by it: a corrupt graph can declare an image of any size.
        if (shape[2] > MaxOutputScale * _inputView.Height || shape[3] > MaxOutputScale * _inputView.Width)
            throw new StyleFilterException(StatusCode.ModelError,
                $"model '{Info.Source}' produced a {shape[3]}x{shape[2]} image from a {_inputView.Width}x{_inputView.Height} input (more than {MaxOutputScale}x its size)");
        RequireFinite(output, "image");
        _outputView.Wrap(output.Data, (int)shape[3], (int)shape[2], 3);
        if (BlendStage(level) == Stages.Count - 1) blender.Blend(_outputView, _inputView, smoothing);
        return _outputView;
    }

    /// <summary>How much larger than its input a model's image may be; the engine resizes it to the frame anyway.</summary>
    private const int MaxOutputScale = 4;

    /// <summary>Side of the test frame <see cref="Probe"/> runs, and how long it may take.</summary>
    private const int ProbeSide = 64;
    private static readonly TimeSpan ProbeTimeLimit = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Runs one small test frame with a short time limit, so that a model that hangs or produces NaN fails when
    /// it is loaded (the previous style stays) instead of at every frame.
    /// </summary>
    public void Probe()
    {
        var (w, h) = InferenceSize(ProbeSide, ProbeSide, 1);
        ProbeAt(w, h);
    }

    /// <summary>Runs one test frame of the given inference size (as <see cref="Probe"/>); returns the output's size.</summary>
    public (int Width, int Height) ProbeAt(int w, int h)
    {
        var input = PrepareInput(w, h);
        for (int p = 0; p < 3; p++)
        {
            var plane = input.PlaneSpan(p);
            for (int i = 0; i < plane.Length; i++) plane[i] = 64 + (i * 7 + (i / w) * 13 + p * 29) % 128; // a mid-grey texture
        }
        foreach (var runner in Runners) runner.TimeLimit = ProbeTimeLimit;
        using var blender = new TemporalBlender();
        try
        {
            var output = Run(blender, 0, TemporalLevel.Auto);
            return (output.Width, output.Height);
        }
        catch (InferenceTimeoutException)
        {
            throw new StyleFilterException(StatusCode.ModelError,
                $"model '{Info.Source}' did not finish a {w}x{h} test frame within {ProbeTimeLimit.TotalSeconds:F0} s");
        }
        catch (StyleFilterException e) when (e.Code != StatusCode.ModelError)
        {
            // A style that cannot run a small frame is a broken model (an Expand to petabytes, a Reshape to a size
            // it never gets); the engine retries a GPU provider's failure on the CPU.
            throw new StyleFilterException(StatusCode.ModelError, $"model '{Info.Source}' failed on a {w}x{h} test frame: {e.Message}", e);
        }
        finally
        {
            foreach (var runner in Runners) runner.TimeLimit = SessionRunner.FrameTimeLimit;
        }
    }

    /// <summary>The sessions of this model, for settings that apply to all of them.</summary>
    protected abstract IEnumerable<SessionRunner> Runners { get; }

    /// <summary>Mix weights for multi-style models (one per <see cref="StyleModelInfo.MixableStyles"/>).</summary>
    public void SetStyleMix(ReadOnlySpan<float> weights)
    {
        if (Info.MixableStyles.Count == 0) throw new StyleFilterException(StatusCode.Unsupported, $"style '{Info.Name}' has no style mix");
        if (weights.Length != _mix.Length)
            throw new StyleFilterException(StatusCode.InvalidArgument, $"style '{Info.Name}' mixes {_mix.Length} styles; got {weights.Length} weights");
        double sum = 0; // in double: float weights near float.MaxValue would overflow a float sum
        foreach (var w in weights)
        {
            if (!float.IsFinite(w) || w < 0) throw new StyleFilterException(StatusCode.InvalidArgument, "style mix weights must be finite and >= 0");
            sum += w;
        }
        if (sum <= 0) throw new StyleFilterException(StatusCode.InvalidArgument, "style mix weights must not all be 0");
        var mix = new float[_mix.Length];
        for (int i = 0; i < mix.Length; i++) mix[i] = (float)(weights[i] / sum);
        _mix = mix;
    }

    /// <summary>
    /// A NaN or inf from the network would reach the temporal history and the host's picture (black in 8 bits);
    /// such a frame fails instead. x - x is 0 for every finite x and NaN for NaN and inf.
    /// </summary>
    protected void RequireFinite(OrtTensor tensor, string what)
    {
        var data = tensor.Span;
        var acc = Vector<float>.Zero;
        int i = 0;
        for (; i + Vector<float>.Count <= data.Length; i += Vector<float>.Count)
        {
            var v = new Vector<float>(data[i..]);
            acc += v - v;
        }
        float rest = 0;
        for (; i < data.Length; i++) rest += data[i] - data[i];
        if (!float.IsFinite(Vector.Sum(acc) + rest)) throw NotFinite(what);
    }

    /// <summary>The error of a frame whose model output is not a 1x3xHxW image.</summary>
    internal StyleFilterException NotAnImage(long[] shape) =>
        new(StatusCode.ModelError, $"style '{Info.Name}' produced a [{string.Join(',', shape)}] tensor; expected 1x3xHxW");

    /// <summary>The error of a frame whose model produced NaN or inf in its image or features.</summary>
    internal StyleFilterException NotFinite(string what) =>
        new(StatusCode.ModelError, $"model '{Info.Source}' produced NaN or infinite values in its {what}");

    /// <summary>The current style mix (one weight per mixable style; [1] for other models).</summary>
    internal ReadOnlySpan<float> Mix => _mix;

    /// <summary>The model's graphs in the order a frame runs them, for the graph path (Graphs/GraphPipeline).</summary>
    internal abstract IReadOnlyList<ModelStage> Stages { get; }

    /// <summary>The stage whose output the temporal blend applies to at this level.</summary>
    internal abstract int BlendStage(TemporalLevel level);

    /// <summary>Runs the ONNX graphs on the prepared input and nothing else (a baseline for benchmarks).</summary>
    public abstract void RunInferenceOnly();

    protected abstract OrtTensor ImageInput(ReadOnlySpan<long> shape);
    protected abstract OrtTensor RunModel(TemporalBlender blender, PlanarImage input, float smoothing, TemporalLevel level);

    /// <summary>Writes the current mix into a model's mix input, when it has one.</summary>
    protected void FeedMix(SessionRunner runner, int inputIndex)
    {
        if (inputIndex < 0) return;
        _mix.CopyTo(runner.Input(inputIndex, _mixShape).Span);
    }

    protected PlanarImage WrapTensor(OrtTensor tensor, PlanarImage view)
    {
        var s = tensor.Shape;
        view.Wrap(tensor.Data, (int)s[3], (int)s[2], (int)s[1]);
        return view;
    }

    public abstract void Dispose();

    /// <summary>Checks that a model input or output is a 1x3xHxW float image (batch and sides may be dynamic).</summary>
    internal static TensorInfo RequireImage(TensorInfo t, string model, string role)
    {
        bool ok = t.IsFloat && t.Shape.Length == 4 && t.Shape[0] is 1 or -1 && t.Shape[1] is 3 or -1;
        if (!ok)
            throw new StyleFilterException(StatusCode.ModelError,
                $"model '{model}': {role} '{t.Name}' is {Describe(t)}; a style model takes and returns a float 1x3xHxW RGB image");
        return t;
    }

    internal static string Describe(TensorInfo t) =>
        $"{(t.IsFloat ? "float" : $"element type {t.ElementType}")} [{string.Join(',', t.Shape.Select(d => d < 0 ? "?" : d.ToString()))}]";
}

/// <summary>
/// One of a model's graphs as the graph path runs it: Input takes the previous stage's output (or the image),
/// Output is passed on (Produces says what it is, for errors), MixInput (or -1) takes the style mix.
/// </summary>
internal readonly record struct ModelStage(OrtSession Session, int Input, int Output, int MixInput, string Produces);
