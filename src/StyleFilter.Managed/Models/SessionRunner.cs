using Microsoft.ML.OnnxRuntime;
using StyleFilter.Ort;

namespace StyleFilter.Models;

/// <summary>
/// Runs one session with tensors that live across frames: inputs are (re)made only when their shape changes,
/// and outputs, once ONNX Runtime has told us their shape, are tensors we own that it writes into.
/// </summary>
internal sealed class SessionRunner : IDisposable
{
    private readonly OrtTensor?[] _inputs;
    private readonly bool[] _borrowed;            // inputs owned by someone else (another session's output)
    private readonly OrtTensor?[] _outputs;
    private readonly OrtValue[] _inValues;
    private readonly OrtValue?[] _outValues;
    private bool _inputShapeChanged = true;

    public OrtSession Session { get; }

    /// <summary>How long one run may take before it is stopped (a frame of a broken or hostile model).</summary>
    public TimeSpan TimeLimit { get; set; } = FrameTimeLimit;

    /// <summary>Documented in stylefilter.h: a frame whose inference takes longer fails with SF_ERR_RUNTIME.</summary>
    public static readonly TimeSpan FrameTimeLimit = TimeSpan.FromSeconds(30);

    public SessionRunner(OrtSession session)
    {
        Session = session;
        _inputs = new OrtTensor?[session.Inputs.Count];
        _borrowed = new bool[session.Inputs.Count];
        _outputs = new OrtTensor?[session.Outputs.Count];
        _inValues = new OrtValue[session.Inputs.Count];
        _outValues = new OrtValue?[session.Outputs.Count];
    }

    /// <summary>Our own tensor for input <paramref name="index"/>, with the given shape.</summary>
    public OrtTensor Input(int index, ReadOnlySpan<long> shape)
    {
        var tensor = _inputs[index];
        if (tensor is not null && !_borrowed[index] && tensor.HasShape(shape)) return tensor;
        if (!_borrowed[index]) tensor?.Dispose();
        _inputs[index] = tensor = new OrtTensor(shape.ToArray());
        _borrowed[index] = false;
        _inputShapeChanged = true;
        return tensor;
    }

    /// <summary>Feeds another tensor (for instance the encoder's features) to input <paramref name="index"/>.</summary>
    public void Borrow(int index, OrtTensor tensor)
    {
        if (ReferenceEquals(_inputs[index], tensor)) return;
        if (!_borrowed[index]) _inputs[index]?.Dispose();
        _inputs[index] = tensor;
        _borrowed[index] = true;
        _inputShapeChanged = true;
    }

    public OrtTensor Output(int index) => _outputs[index] ?? throw new InvalidOperationException("run the session first");

    public void Run()
    {
        if (_inputShapeChanged)
        {
            // Output shapes follow the inputs': let ONNX Runtime size them again on this run.
            for (int i = 0; i < _outputs.Length; i++) { _outputs[i]?.Dispose(); _outputs[i] = null; }
            _inputShapeChanged = false;
        }
        for (int i = 0; i < _inputs.Length; i++)
            _inValues[i] = _inputs[i]?.Value ?? throw new StyleFilterException(StatusCode.Internal, $"input '{Session.Inputs[i].Name}' was not set");
        for (int i = 0; i < _outputs.Length; i++) _outValues[i] = _outputs[i]?.Value;
        Session.Run(_inValues, _outValues, TimeLimit);
        try
        {
            for (int i = 0; i < _outputs.Length; i++)
                if (_outputs[i] is null) _outputs[i] = OrtTensor.Adopt(_outValues[i]!);
        }
        catch
        {
            for (int i = 0; i < _outputs.Length; i++)
                if (_outputs[i] is null) _outValues[i]?.Dispose(); // allocated by ONNX Runtime, not adopted
            throw;
        }
    }

    public void Dispose()
    {
        for (int i = 0; i < _inputs.Length; i++) if (!_borrowed[i]) _inputs[i]?.Dispose();
        foreach (var t in _outputs) t?.Dispose();
        Session.Dispose();
    }
}
