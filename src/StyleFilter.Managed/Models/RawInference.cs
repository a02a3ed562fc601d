using StyleFilter.Ort;

namespace StyleFilter.Models;

/// <summary>
/// A style's ONNX graphs run on their own, with the same session settings and inference size the engine uses:
/// the baseline that shows what the engine's frame pipeline costs on top of ONNX Runtime.
/// </summary>
public sealed class RawInference : IDisposable
{
    private readonly StyleModel _model;

    public StyleModelInfo Info => _model.Info;

    public RawInference(string nameOrPath, int intraOpThreads = 0, ProviderChoice? provider = null)
    {
        OrtRuntime.EnsureLoaded();
        _model = ModelLoader.Load(StyleCatalog.Resolve(nameOrPath), new SessionConfig(intraOpThreads, provider));
    }

    public (int Width, int Height) InferenceSize(int frameWidth, int frameHeight, float scale) =>
        _model.InferenceSize(frameWidth, frameHeight, scale);

    /// <summary>Runs inference once at the given size (input tensors are made on the first call at a size).</summary>
    public void Run(int width, int height)
    {
        _model.PrepareInput(width, height);
        _model.RunInferenceOnly();
    }

    public void Dispose() => _model.Dispose();
}
