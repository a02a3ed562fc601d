using StyleFilter.Ort;
using StyleFilter.Pipeline;

namespace StyleFilter.Models;

/// <summary>
/// One graph image -> image, the "fast neural style" family (ONNX model zoo: input1/output1, 0..255 RGB).
/// Temporal blending acts on the stylised output. An optional second 1-D float input carries style mix weights.
/// </summary>
internal sealed class SingleGraphModel : StyleModel
{
    private readonly SessionRunner _runner;
    private readonly int _mixInput;

    private SingleGraphModel(StyleModelInfo info, TensorInfo image, SessionRunner runner, int mixInput) : base(info, image, 4)
    {
        _runner = runner;
        _mixInput = mixInput;
        Stages = [new(runner.Session, 0, 0, mixInput, "image")];
    }

    public static SingleGraphModel Create(OrtSession session, string name)
    {
        try
        {
            if (session.Inputs.Count == 0 || session.Outputs.Count == 0)
                throw new StyleFilterException(StatusCode.ModelError, $"model '{name}' has no inputs or no outputs");
            var image = RequireImage(session.Inputs[0], name, "input");
            RequireImage(session.Outputs[0], name, "output");
            int mixInput = -1;
            for (int i = 1; i < session.Inputs.Count; i++)
            {
                var extra = session.Inputs[i];
                if (mixInput < 0 && extra.IsFloat && extra.Shape.Length == 1) { mixInput = i; continue; }
                throw new StyleFilterException(StatusCode.ModelError, $"model '{name}' has an unexpected input '{extra.Name}' ({Describe(extra)})");
            }
            var styles = mixInput >= 0 && session.Inputs[mixInput].Shape[0] > 1
                ? Enumerable.Range(1, (int)session.Inputs[mixInput].Shape[0]).Select(i => $"style {i}").ToList()
                : new List<string>();
            var info = new StyleModelInfo(name, StyleModelKind.SingleGraph, session.Source, image.ToString(), styles);
            return new SingleGraphModel(info, image, new SessionRunner(session), mixInput);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    protected override OrtTensor ImageInput(ReadOnlySpan<long> shape) => _runner.Input(0, shape);

    /// <summary>The graph's image input as it declares it.</summary>
    public TensorInfo DeclaredInput => _runner.Session.Inputs[0];

    /// <summary>The input declares a fixed height or width (<see cref="ModelLoader"/> tries to free it).</summary>
    public bool DeclaresSpatialSize => DeclaredInput.Shape[2] > 0 || DeclaredInput.Shape[3] > 0;

    protected override OrtTensor RunModel(TemporalBlender blender, PlanarImage input, float smoothing, TemporalLevel level)
    {
        FeedMix(_runner, _mixInput);
        _runner.Run();
        return _runner.Output(0); // Run blends the image: no features to blend in a single graph
    }

    public override void RunInferenceOnly()
    {
        FeedMix(_runner, _mixInput);
        _runner.Run();
    }

    protected override IEnumerable<SessionRunner> Runners => [_runner];

    internal override IReadOnlyList<ModelStage> Stages { get; }

    internal override int BlendStage(TemporalLevel level) => 0; // no features to blend in a single graph

    public override void Dispose() => _runner.Dispose();
}
