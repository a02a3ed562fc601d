namespace StyleFilter;

/// <summary>What kind of model a style is.</summary>
public enum StyleModelKind
{
    /// <summary>One ONNX graph image -> image (the "fast neural style" family); temporal blending on the output.</summary>
    SingleGraph,
    /// <summary>encoder.onnx + decoder.onnx + manifest.json; temporal blending on the encoder's features.</summary>
    SplitPack,
}

/// <summary>A loaded style as hosts show it.</summary>
public sealed record StyleModelInfo(string Name, StyleModelKind Kind, string Source, string InputShape, IReadOnlyList<string> MixableStyles);
