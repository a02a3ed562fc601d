namespace StyleFilter.Pipeline;

/// <summary>
/// The motion of one stream, frame to frame: keeps the previous frame's pyramid and estimates each new frame's
/// motion against it. Used by the C# blend (<see cref="TemporalBlender"/>) and by the graph path, which makes the
/// pyramid's base on the device and estimates here.
/// </summary>
public sealed class MotionTracker : IDisposable
{
    private LumaPyramid _previous = new(), _current = new();
    private readonly MotionEstimator _estimator = new();
    private bool _hasPrevious;

    public MotionEstimator Estimator => _estimator;

    /// <summary>Forgets the previous frame: the next one has no motion.</summary>
    public void Reset() => _hasPrevious = false;

    /// <summary>The motion from the previous frame to this one (3 planes RGB 0..255); identity for the first frame.</summary>
    public Motion Track(PlanarImage rgb)
    {
        _current.Build(rgb);
        return Advance();
    }

    /// <summary>As <see cref="Track"/>, from the pyramid's level 0 (<see cref="LumaPyramid.BaseSize"/> of the source).</summary>
    public Motion TrackBase(ReadOnlySpan<float> baseLuma, int sourceWidth, int sourceHeight)
    {
        _current.BuildFromBase(baseLuma, sourceWidth, sourceHeight);
        return Advance();
    }

    private Motion Advance()
    {
        var motion = _hasPrevious ? _estimator.Estimate(_previous, _current) : Motion.Identity;
        (_previous, _current) = (_current, _previous);
        _hasPrevious = true;
        return motion;
    }

    public void Dispose()
    {
        _previous.Dispose();
        _current.Dispose();
    }
}
