using System.Numerics;

namespace StyleFilter.Pipeline;

/// <summary>
/// Temporal smoothing of one stream: F'_t = F_t + s * m * (F'_{t-1} - F_t), applied to the encoder's features
/// (split packs) or to the stylised image (single graphs). m is a per-pixel "nothing moved here" weight from
/// how much the input changed at the blended tensor's resolution: 1 where it is unchanged, falling to 0 once the
/// change reaches <see cref="MotionThreshold"/>. The change is the largest of the R, G and B changes rather than
/// the luma change, because an edge between colours of equal luma moves without changing luma and would ghost.
/// A large mean change is a scene cut and restarts the history, as does a change of size or an explicit reset.
/// </summary>
public sealed class TemporalBlender : IDisposable
{
    /// <summary>Colour change (0..1) at which a pixel counts as moving and gets no history.</summary>
    public float MotionThreshold { get; set; } = 0.05f;
    /// <summary>Mean colour change (0..1) over the frame above which the frame is a new shot.</summary>
    public float SceneCutThreshold { get; set; } = 0.15f;

    private readonly PlanarImage _previous = new();      // F'_{t-1}
    private PlanarImage _colour = new();                 // input colour at the tensor's resolution, this frame
    private PlanarImage _previousColour = new();         // (the two swap roles each frame)
    private readonly PlanarImage _weight = new();        // m
    private readonly BoxRanges _columns = new(), _rows = new();
    private bool _hasHistory;

    public long Resets { get; private set; }
    /// <summary>Mean colour change of the last frame (0..1); useful when tuning the thresholds.</summary>
    public float LastMeanChange { get; private set; }

    public void Reset() => _hasHistory = false;

    /// <summary>Blends <paramref name="current"/> (C planes) in place with the history and remembers the result.</summary>
    /// <param name="input">The model's input image (3 planes, 0..255), used to tell what moved.</param>
    public void Blend(PlanarImage current, PlanarImage input, float smoothing)
    {
        BoxDownsample(input, current.Width, current.Height, _colour);
        bool continues = _hasHistory && _previous.Width == current.Width && _previous.Height == current.Height && _previous.Planes == current.Planes;
        LastMeanChange = continues ? MotionWeights() : 0;
        if (continues && LastMeanChange > SceneCutThreshold) continues = false;
        if (!continues && _hasHistory) Resets++;
        if (continues && smoothing > 0) Mix(current, smoothing);
        _previous.Resize(current.Width, current.Height, current.Planes);
        current.CopyPlanesTo(_previous, current.Planes);
        (_colour, _previousColour) = (_previousColour, _colour);
        _hasHistory = true;
    }

    /// <summary>m = clamp(1 - max_c |dC| / threshold, 0, 1); returns the mean of max_c |dC|.</summary>
    private float MotionWeights()
    {
        _weight.Resize(_colour.Width, _colour.Height, 1);
        Span<float> m = _weight.PlaneSpan(0);
        ReadOnlySpan<float> r = _colour.PlaneSpan(0), g = _colour.PlaneSpan(1), b = _colour.PlaneSpan(2);
        ReadOnlySpan<float> pr = _previousColour.PlaneSpan(0), pg = _previousColour.PlaneSpan(1), pb = _previousColour.PlaneSpan(2);
        var inv = new Vector<float>(1f / MotionThreshold);
        var sum = Vector<float>.Zero;
        int x = 0;
        for (; x + Vector<float>.Count <= m.Length; x += Vector<float>.Count)
        {
            var d = Vector.Max(Vector.Abs(new Vector<float>(r[x..]) - new Vector<float>(pr[x..])),
                    Vector.Max(Vector.Abs(new Vector<float>(g[x..]) - new Vector<float>(pg[x..])),
                               Vector.Abs(new Vector<float>(b[x..]) - new Vector<float>(pb[x..]))));
            sum += d;
            Vector.Max(Vector<float>.Zero, Vector<float>.One - d * inv).CopyTo(m[x..]);
        }
        float total = Vector.Sum(sum);
        for (; x < m.Length; x++)
        {
            float d = MathF.Max(MathF.Abs(r[x] - pr[x]), MathF.Max(MathF.Abs(g[x] - pg[x]), MathF.Abs(b[x] - pb[x])));
            total += d;
            m[x] = MathF.Max(0, 1 - d / MotionThreshold);
        }
        return total / m.Length;
    }

    private void Mix(PlanarImage current, float smoothing)
    {
        ReadOnlySpan<float> m = _weight.PlaneSpan(0);
        var s = new Vector<float>(smoothing);
        for (int p = 0; p < current.Planes; p++)
        {
            Span<float> f = current.PlaneSpan(p);
            ReadOnlySpan<float> prev = _previous.PlaneSpan(p);
            int x = 0;
            for (; x + Vector<float>.Count <= f.Length; x += Vector<float>.Count)
            {
                var vf = new Vector<float>(f[x..]);
                (vf + s * new Vector<float>(m[x..]) * (new Vector<float>(prev[x..]) - vf)).CopyTo(f[x..]);
            }
            for (; x < f.Length; x++) f[x] += smoothing * m[x] * (prev[x] - f[x]);
        }
    }

    /// <summary>Box-averaged RGB (0..1) of a 0..255 RGB image at a smaller (or equal) size.</summary>
    private unsafe void BoxDownsample(PlanarImage rgb, int width, int height, PlanarImage target)
    {
        target.Resize(width, height, 3);
        if (rgb.Width == width && rgb.Height == height)
        {
            var scale = new Vector<float>(1f / 255f);
            for (int c = 0; c < 3; c++)
            {
                ReadOnlySpan<float> src = rgb.PlaneSpan(c);
                Span<float> dst = target.PlaneSpan(c);
                int i = 0;
                for (; i + Vector<float>.Count <= dst.Length; i += Vector<float>.Count) (new Vector<float>(src[i..]) * scale).CopyTo(dst[i..]);
                for (; i < dst.Length; i++) dst[i] = src[i] / 255f;
            }
            return;
        }
        _columns.Prepare(rgb.Width, width);
        _rows.Prepare(rgb.Height, height);
        for (int c = 0; c < 3; c++)
        {
            float* src = rgb.Plane(c), o = target.Plane(c);
            for (int y = 0; y < height; y++)
            {
                int sy0 = _rows.Start[y], sy1 = _rows.End[y];
                for (int x = 0; x < width; x++)
                {
                    int sx0 = _columns.Start[x], sx1 = _columns.End[x];
                    float sum = 0;
                    for (int sy = sy0; sy < sy1; sy++)
                    {
                        float* row = src + (long)sy * rgb.Width;
                        for (int sx = sx0; sx < sx1; sx++) sum += row[sx];
                    }
                    o[(long)y * width + x] = sum / ((sy1 - sy0) * (sx1 - sx0) * 255f);
                }
            }
        }
    }

    /// <summary>Source index ranges of a box filter along one axis: output i averages [Start[i], End[i]).</summary>
    private sealed class BoxRanges
    {
        private int _source = -1, _target = -1;
        public int[] Start = [], End = [];

        public void Prepare(int source, int target)
        {
            if (source == _source && target == _target) return;
            (_source, _target) = (source, target);
            (Start, End) = (new int[target], new int[target]);
            for (int i = 0; i < target; i++)
            {
                Start[i] = Math.Min((int)((long)i * source / target), source - 1);
                End[i] = Math.Clamp((int)((long)(i + 1) * source / target), Start[i] + 1, source); // never empty
            }
        }
    }

    public void Dispose()
    {
        _previous.Dispose(); _colour.Dispose(); _previousColour.Dispose(); _weight.Dispose();
    }
}
