using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace StyleFilter;

/// <summary>
/// One stylization engine: a loaded style, its parameters and the temporal history of one video stream.
/// Not thread-safe: one caller at a time per engine (the C ABI serialises calls per engine). LoadStyle may run
/// while another thread is inside Process: the new model is built first and swapped in afterwards.
/// </summary>
public sealed class StyleEngine : IDisposable
{
    public StyleEngine(EngineOptions? options = null, ILoggerFactory? loggerFactory = null) => throw new NotImplementedException();
    public StyleModelInfo? Style => throw new NotImplementedException();
    public float Alpha { get; set; }
    public float Smoothing { get; set; }
    public bool PreserveColour { get; set; }
    public float InferenceScale { get; set; }
    public void LoadStyle(string nameOrPath) => throw new NotImplementedException();
    public void Process(FrameBuffer input, FrameBuffer output) => throw new NotImplementedException();
    public void Process(ReadOnlySpan<byte> input, Span<byte> output, int width, int height, PixelFormat format) => throw new NotImplementedException();
    public void ResetHistory() => throw new NotImplementedException();
    public EngineStats Stats => throw new NotImplementedException();
    public void Dispose() { }
}
