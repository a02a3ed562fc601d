using System.Numerics;

namespace StyleFilter.Pipeline;

/// <summary>
/// Temporal smoothing of one stream: F'_t = F_t + s * m * (F'_{t-1} - F_t), applied to the encoder's features
/// or to the stylised image. m is a "nothing moved here" weight from how much the input changed: 1 where it is
/// unchanged, falling to 0 once the change reaches <see cref="MotionThreshold"/>. The change is measured per
/// input pixel (the largest of the R, G and B changes, because an edge between colours of equal luma moves
/// without changing luma), averaged over 4x4-pixel cells (camera noise averages out, motion does not; and a
/// moving fine texture still counts, where the change of cell means would call it still), widened by
/// <see cref="MotionMargin"/> so the strokes a network paints around a moving edge move with it, and
/// resampled to the blended tensor.
/// A large mean change is a scene cut and restarts the history, as does a change of size or an explicit reset.
/// <para>
/// With <see cref="MotionCompensation"/> the history follows the camera: the global motion between the previous
/// and the current input (<see cref="MotionEstimator"/>) warps the history and the previous input
/// (<see cref="AffineWarp"/>) before the blend, so "changed" is measured against the warped previous input (a
/// photometric check: what the motion explains keeps its history, moving objects, occluded and disoccluded
/// pixels take the current frame) and pixels whose source lies outside the previous frame count as fully changed.
/// Without motion (a still camera, or smoothing 0) the blend is exactly the uncompensated one.
/// </para>
/// </summary>
public sealed class TemporalBlender : IDisposable
{
    /// <summary>Colour change (0..1) at which a pixel counts as moving and gets no history.</summary>
    public float MotionThreshold { get; set; } = 0.1f;
    /// <summary>Mean colour change (0..1) over the frame above which the frame is a new shot.</summary>
    public float SceneCutThreshold { get; set; } = 0.15f;
    /// <summary>
    /// How far (in input pixels) motion also stops blending around where it happened. A style network paints a
    /// few pixels beyond an object's edge (outlines, halos); without this margin those strokes stay behind over
    /// the unchanged background as faint trails of the object's outline.
    /// </summary>
    public int MotionMargin { get; set; } = 6;
    /// <summary>Warp the history along the estimated camera motion before blending (see the class summary).</summary>
    public bool MotionCompensation { get; set; } = true;

    private readonly PlanarImage _previous = new();      // F'_{t-1}
    private readonly PlanarImage _previousInput = new(); // the model input (0..255) of the previous frame
    private readonly PlanarImage _change = new();        // max_c |dC| (0..1) per input pixel
    private readonly PlanarImage _weight = new();        // m, at the blended tensor's resolution
    private readonly PlanarImage _spread = new();        // scratch for the max filter
    private readonly PlanarImage _grid = new();          // the change per motion cell, when the tensor is finer
    private readonly Resampler _toTensor = new();
    private readonly MotionTracker _tracker = new();
    private readonly AffineWarp _inputWarp = new(), _historyWarp = new();
    private readonly PlanarImage _warpedInput = new(), _warpedHistory = new();
    /// <summary>Side of the square of input pixels over which the change is averaged (the features' cell).</summary>
    internal const int MotionCell = 4;

    private static int DivideUp(int a, int b) => (a + b - 1) / b;
    private readonly BoxDownsampler _toGrid = new();
    private bool _hasHistory;

    public long Resets { get; private set; }
    /// <summary>Mean colour change of the last frame (0..1); useful when tuning the thresholds.</summary>
    public float LastMeanChange { get; private set; }
    /// <summary>The motion the last blend warped the history by (identity when it did not).</summary>
    public Motion LastMotion { get; private set; } = Motion.Identity;
    /// <summary>The estimator's robust residual of the last frame (0 = the motion explains everything, 1 = nothing).</summary>
    public float LastMotionCost => _tracker.Estimator.LastCost;

    /// <summary>Forgets the history and the previous frame's motion pyramid: what follows depends on later frames only.</summary>
    public void Reset()
    {
        _hasHistory = false;
        _tracker.Reset();
    }

    /// <summary>Blends <paramref name="current"/> (C planes) in place with the history and remembers the result.</summary>
    /// <param name="input">The model's input image (3 planes, 0..255), used to tell what moved.</param>
    public void Blend(PlanarImage current, PlanarImage input, float smoothing)
    {
        bool continues = _hasHistory && _previous.Width == current.Width && _previous.Height == current.Height && _previous.Planes == current.Planes
            && _previousInput.Width == input.Width && _previousInput.Height == input.Height;
        // Motion is tracked on every frame (the next one needs this one's pyramid) while it can be used.
        bool track = MotionCompensation && smoothing > 0;
        var motion = track ? _tracker.Track(input) : Motion.Identity;
        if (!track) _tracker.Reset();
        LastMotion = motion = continues ? motion : Motion.Identity;
        LastMeanChange = continues ? MotionWeights(input, current.Width, current.Height, motion) : 0;
        if (continues && LastMeanChange > SceneCutThreshold) continues = false;
        if (!continues && _hasHistory) Resets++;
        if (continues && smoothing > 0)
        {
            var history = _previous;
            if (!motion.IsIdentity)
            {
                // An image-sized history (output level) reuses the input's taps, prepared by MotionWeights.
                var warp = current.Width == input.Width && current.Height == input.Height ? _inputWarp : _historyWarp;
                if (warp == _historyWarp) warp.Prepare(motion, current.Width, current.Height);
                warp.Apply(_previous, _warpedHistory, current.Planes);
                history = _warpedHistory;
            }
            Mix(current, smoothing, history);
        }
        _previous.Resize(current.Width, current.Height, current.Planes);
        current.CopyPlanesTo(_previous, current.Planes);
        _previousInput.Resize(input.Width, input.Height, 3);
        input.CopyPlanesTo(_previousInput, 3);
        _hasHistory = true;
    }

    /// <summary>
    /// m = clamp(1 - box(max_c |dC|) / threshold, 0, 1) at width x height, dC against the previous input warped by
    /// motion; returns the mean of max_c |dC| over the pixels whose source is in the previous frame (the others count
    /// as a change of 1 for m).
    /// </summary>
    private float MotionWeights(PlanarImage input, int width, int height, Motion motion)
    {
        _change.Resize(input.Width, input.Height, 1);
        Span<float> d = _change.PlaneSpan(0);
        var previous = _previousInput;
        if (!motion.IsIdentity)
        {
            _inputWarp.Prepare(motion, input.Width, input.Height);
            _inputWarp.Apply(_previousInput, _warpedInput, 3);
            previous = _warpedInput;
        }
        ReadOnlySpan<float> r = input.PlaneSpan(0), g = input.PlaneSpan(1), b = input.PlaneSpan(2);
        ReadOnlySpan<float> pr = previous.PlaneSpan(0), pg = previous.PlaneSpan(1), pb = previous.PlaneSpan(2);
        var scale = new Vector<float>(1f / 255f);
        var sum = Vector<float>.Zero;
        int x = 0;
        for (; x + Vector<float>.Count <= d.Length; x += Vector<float>.Count)
        {
            var v = Vector.Max(Vector.Abs(new Vector<float>(r[x..]) - new Vector<float>(pr[x..])),
                    Vector.Max(Vector.Abs(new Vector<float>(g[x..]) - new Vector<float>(pg[x..])),
                               Vector.Abs(new Vector<float>(b[x..]) - new Vector<float>(pb[x..])))) * scale;
            sum += v;
            v.CopyTo(d[x..]);
        }
        float total = Vector.Sum(sum);
        for (; x < d.Length; x++)
        {
            d[x] = MathF.Max(MathF.Abs(r[x] - pr[x]), MathF.Max(MathF.Abs(g[x] - pg[x]), MathF.Abs(b[x] - pb[x]))) / 255f;
            total += d[x];
        }
        float mean = total / d.Length;
        if (!motion.IsIdentity) mean = MarkOutside(d, _inputWarp.Inside);

        // Decide on a grid of MotionCell-pixel cells: averaging over a cell tells camera noise (small everywhere)
        // from motion (large where it happens); then widen by the margin and bring the weights to the tensor.
        int gw = Math.Min(width, DivideUp(input.Width, MotionCell)), gh = Math.Min(height, DivideUp(input.Height, MotionCell));
        var grid = gw == width && gh == height ? _weight : _grid;
        _toGrid.Downsample(_change, gw, gh, grid);
        MaxFilter(grid, (int)MathF.Ceiling(MotionMargin * (float)gw / input.Width), _spread);
        if (grid != _weight)
        {
            _weight.Resize(width, height, 1);
            _toTensor.Resize(grid, _weight, 1);
        }
        Span<float> m = _weight.PlaneSpan(0);
        var inv = new Vector<float>(1f / MotionThreshold);
        x = 0;
        for (; x + Vector<float>.Count <= m.Length; x += Vector<float>.Count)
            Vector.Max(Vector<float>.Zero, Vector<float>.One - new Vector<float>(m[x..]) * inv).CopyTo(m[x..]);
        for (; x < m.Length; x++) m[x] = MathF.Max(0, 1 - m[x] / MotionThreshold);
        return mean;
    }

    /// <summary>Sets the change to 1 where the source was outside the previous frame; returns the mean change over the others (1 if none).</summary>
    private static float MarkOutside(Span<float> change, ReadOnlySpan<byte> inside)
    {
        double total = 0;
        int count = 0;
        for (int i = 0; i < change.Length; i++)
        {
            if (inside[i] != 0) { total += change[i]; count++; }
            else change[i] = 1;
        }
        return count == 0 ? 1 : (float)(total / count);
    }

    /// <summary>In place: every pixel becomes the largest value within <paramref name="radius"/> (a square window).</summary>
    private static void MaxFilter(PlanarImage image, int radius, PlanarImage scratch)
    {
        if (radius <= 0) return;
        int w = image.Width, h = image.Height;
        scratch.Resize(w, h, 1);
        Span<float> src = image.PlaneSpan(0), tmp = scratch.PlaneSpan(0);
        for (int y = 0; y < h; y++)
        {
            ReadOnlySpan<float> row = src.Slice(y * w, w);
            Span<float> o = tmp.Slice(y * w, w);
            row.CopyTo(o);
            for (int k = 1; k <= radius && k < w; k++)
            {
                MaxInto(o[..(w - k)], row[k..]);   // the pixel k to the right
                MaxInto(o[k..], row[..(w - k)]);   // the pixel k to the left
            }
        }
        for (int y = 0; y < h; y++)
        {
            Span<float> o = src.Slice(y * w, w);
            tmp.Slice(y * w, w).CopyTo(o);
            for (int yy = Math.Max(0, y - radius); yy <= Math.Min(h - 1, y + radius); yy++)
                if (yy != y) MaxInto(o, tmp.Slice(yy * w, w));
        }
    }

    private static void MaxInto(Span<float> target, ReadOnlySpan<float> other)
    {
        int x = 0;
        for (; x + Vector<float>.Count <= target.Length; x += Vector<float>.Count)
            Vector.Max(new Vector<float>(target[x..]), new Vector<float>(other[x..])).CopyTo(target[x..]);
        for (; x < target.Length; x++) target[x] = MathF.Max(target[x], other[x]);
    }

    private void Mix(PlanarImage current, float smoothing, PlanarImage history)
    {
        ReadOnlySpan<float> m = _weight.PlaneSpan(0);
        var s = new Vector<float>(smoothing);
        for (int p = 0; p < current.Planes; p++)
        {
            Span<float> f = current.PlaneSpan(p);
            ReadOnlySpan<float> prev = history.PlaneSpan(p);
            int x = 0;
            for (; x + Vector<float>.Count <= f.Length; x += Vector<float>.Count)
            {
                var vf = new Vector<float>(f[x..]);
                (vf + s * new Vector<float>(m[x..]) * (new Vector<float>(prev[x..]) - vf)).CopyTo(f[x..]);
            }
            for (; x < f.Length; x++) f[x] += smoothing * m[x] * (prev[x] - f[x]);
        }
    }

    public void Dispose()
    {
        _previous.Dispose(); _previousInput.Dispose(); _change.Dispose(); _weight.Dispose(); _spread.Dispose(); _grid.Dispose(); _toTensor.Dispose();
        _tracker.Dispose(); _warpedInput.Dispose(); _warpedHistory.Dispose();
    }
}
