using StyleFilter.Ort;
using StyleFilter.Pipeline;

namespace StyleFilter.Models;

/// <summary>
/// encoder -> temporal blend of the features -> decoder. Blending features rather than pixels keeps strokes
/// coherent: the decoder re-renders a stable picture instead of cross-fading two.
/// </summary>
internal sealed class SplitPackModel : StyleModel
{
    private readonly SessionRunner _encoder, _decoder;
    private readonly int _imageInput, _featuresOutput, _featuresInput, _imageOutput;
    private readonly int _encoderMix, _decoderMix;
    private readonly PlanarImage _featuresView = new();

    private SplitPackModel(StyleModelInfo info, TensorInfo image, int multiple, SessionRunner encoder, SessionRunner decoder, ModelPack pack)
        : base(info, image, multiple)
    {
        (_encoder, _decoder) = (encoder, decoder);
        _imageInput = encoder.Session.InputIndex(pack.Input);
        _featuresOutput = encoder.Session.OutputIndex(pack.Features);
        _featuresInput = decoder.Session.InputIndex(pack.Features);
        _imageOutput = decoder.Session.OutputIndex(pack.Output);
        _encoderMix = pack.StyleInput is null ? -1 : encoder.Session.InputIndex(pack.StyleInput);
        _decoderMix = pack.StyleInput is null ? -1 : decoder.Session.InputIndex(pack.StyleInput);
        Stages = [new(encoder.Session, _imageInput, _featuresOutput, _encoderMix, "features"), new(decoder.Session, _featuresInput, _imageOutput, _decoderMix, "image")];
    }

    public static SplitPackModel Create(ModelPack pack, SessionConfig config)
    {
        OrtSession? encoder = null, decoder = null;
        try
        {
            encoder = OrtSession.FromBytes(pack.Encoder, $"{pack.Source}/encoder", config);
            decoder = OrtSession.FromBytes(pack.Decoder, $"{pack.Source}/decoder", config);
            var image = RequireImage(Find(encoder.Inputs, pack.Input, pack, "encoder input"), pack.Name, "encoder input");
            var features = Find(encoder.Outputs, pack.Features, pack, "encoder output");
            if (!features.IsFloat || features.Shape.Length != 4)
                throw new StyleFilterException(StatusCode.ModelError, $"model pack '{pack.Source}': features '{features.Name}' are {Describe(features)}; expected float NCHW");
            Find(decoder.Inputs, pack.Features, pack, "decoder input");
            RequireImage(Find(decoder.Outputs, pack.Output, pack, "decoder output"), pack.Name, "decoder output");
            foreach (var (session, role) in new[] { (encoder, "encoder"), (decoder, "decoder") })
                foreach (var input in session.Inputs)
                    if (input.Name != pack.Input && input.Name != pack.Features && input.Name != pack.StyleInput)
                        throw new StyleFilterException(StatusCode.ModelError, $"model pack '{pack.Source}': {role} has an input '{input.Name}' the manifest does not name");
            if (pack.StyleInput is not null && encoder.InputIndex(pack.StyleInput) < 0 && decoder.InputIndex(pack.StyleInput) < 0)
                throw new StyleFilterException(StatusCode.ModelError, $"model pack '{pack.Source}': neither graph has the style input '{pack.StyleInput}'");
            var info = new StyleModelInfo(pack.Name, StyleModelKind.SplitPack, pack.Source, image.ToString(), pack.Styles);
            return new SplitPackModel(info, image, pack.Multiple, new SessionRunner(encoder), new SessionRunner(decoder), pack);
        }
        catch
        {
            encoder?.Dispose();
            decoder?.Dispose();
            throw;
        }
    }

    private static TensorInfo Find(IReadOnlyList<TensorInfo> list, string name, ModelPack pack, string role) =>
        list.FirstOrDefault(t => t.Name == name) ??
        throw new StyleFilterException(StatusCode.ModelError,
            $"model pack '{pack.Source}': {role} '{name}' not found (the graph has: {string.Join(", ", list.Select(t => t.Name))})");

    protected override OrtTensor ImageInput(ReadOnlySpan<long> shape) => _encoder.Input(_imageInput, shape);

    protected override OrtTensor RunModel(TemporalBlender blender, PlanarImage input, float smoothing, TemporalLevel level)
    {
        FeedMix(_encoder, _encoderMix);
        FeedMix(_decoder, _decoderMix);
        _encoder.Run();
        var features = _encoder.Output(_featuresOutput);
        RequireFinite(features, "features");
        if (level != TemporalLevel.Output) blender.Blend(WrapTensor(features, _featuresView), input, smoothing);
        _decoder.Borrow(_featuresInput, features);
        _decoder.Run();
        return _decoder.Output(_imageOutput); // at TemporalLevel.Output, Run blends the image
    }

    public override void RunInferenceOnly()
    {
        FeedMix(_encoder, _encoderMix);
        FeedMix(_decoder, _decoderMix);
        _encoder.Run();
        _decoder.Borrow(_featuresInput, _encoder.Output(_featuresOutput));
        _decoder.Run();
    }

    protected override IEnumerable<SessionRunner> Runners => [_encoder, _decoder];

    internal override IReadOnlyList<ModelStage> Stages { get; }

    internal override int BlendStage(TemporalLevel level) => level == TemporalLevel.Output ? 1 : 0;

    public override void Dispose()
    {
        _decoder.Dispose();
        _encoder.Dispose();
    }
}
