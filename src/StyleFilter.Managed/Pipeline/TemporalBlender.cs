using System.Numerics;

namespace StyleFilter.Pipeline;

/// <summary>
/// Temporal smoothing of one stream: F'_t = F_t + s * m * (F'_{t-1} - F_t), applied to the encoder's features
/// (split packs) or to the stylised image (single graphs). m is a per-pixel "nothing moved here" weight from
/// how much the input changed: 1 where it is unchanged, falling to 0 once the change reaches
/// <see cref="MotionThreshold"/>. The change is measured per input pixel (the largest of the R, G and B changes,
/// because an edge between colours of equal luma moves without changing luma) and then averaged over the input
/// pixels each tensor pixel covers. Averaging changes, not colours, matters for features at 1/4 size: a moving
/// fine texture keeps its block's mean colour, so the change of block means would call it still and smear it.
/// A large mean change is a scene cut and restarts the history, as does a change of size or an explicit reset.
/// </summary>
public sealed class TemporalBlender : IDisposable
{
    /// <summary>Colour change (0..1) at which a pixel counts as moving and gets no history.</summary>
    public float MotionThreshold { get; set; } = 0.05f;
    /// <summary>Mean colour change (0..1) over the frame above which the frame is a new shot.</summary>
    public float SceneCutThreshold { get; set; } = 0.15f;

    private readonly PlanarImage _previous = new();      // F'_{t-1}
    private readonly PlanarImage _previousInput = new(); // the model input (0..255) of the previous frame
    private readonly PlanarImage _change = new();        // max_c |dC| (0..1) per input pixel
    private readonly PlanarImage _weight = new();        // m, at the blended tensor's resolution
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
        bool continues = _hasHistory && _previous.Width == current.Width && _previous.Height == current.Height && _previous.Planes == current.Planes
            && _previousInput.Width == input.Width && _previousInput.Height == input.Height;
        LastMeanChange = continues ? MotionWeights(input, current.Width, current.Height) : 0;
        if (continues && LastMeanChange > SceneCutThreshold) continues = false;
        if (!continues && _hasHistory) Resets++;
        if (continues && smoothing > 0) Mix(current, smoothing);
        _previous.Resize(current.Width, current.Height, current.Planes);
        current.CopyPlanesTo(_previous, current.Planes);
        _previousInput.Resize(input.Width, input.Height, 3);
        input.CopyPlanesTo(_previousInput, 3);
        _hasHistory = true;
    }

    /// <summary>m = clamp(1 - box(max_c |dC|) / threshold, 0, 1) at width x height; returns the mean of max_c |dC|.</summary>
    private float MotionWeights(PlanarImage input, int width, int height)
    {
        _change.Resize(input.Width, input.Height, 1);
        Span<float> d = _change.PlaneSpan(0);
        ReadOnlySpan<float> r = input.PlaneSpan(0), g = input.PlaneSpan(1), b = input.PlaneSpan(2);
        ReadOnlySpan<float> pr = _previousInput.PlaneSpan(0), pg = _previousInput.PlaneSpan(1), pb = _previousInput.PlaneSpan(2);
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

        BoxDownsample(_change, width, height, _weight);
        Span<float> m = _weight.PlaneSpan(0);
        var inv = new Vector<float>(1f / MotionThreshold);
        x = 0;
        for (; x + Vector<float>.Count <= m.Length; x += Vector<float>.Count)
            Vector.Max(Vector<float>.Zero, Vector<float>.One - new Vector<float>(m[x..]) * inv).CopyTo(m[x..]);
        for (; x < m.Length; x++) m[x] = MathF.Max(0, 1 - m[x] / MotionThreshold);
        return total / d.Length;
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

    /// <summary>Box average of a one-plane image at a smaller (or equal) size.</summary>
    private unsafe void BoxDownsample(PlanarImage source, int width, int height, PlanarImage target)
    {
        target.Resize(width, height, 1);
        if (source.Width == width && source.Height == height)
        {
            source.CopyPlanesTo(target, 1);
            return;
        }
        _columns.Prepare(source.Width, width);
        _rows.Prepare(source.Height, height);
        float* src = source.Plane(0), o = target.Plane(0);
        for (int y = 0; y < height; y++)
        {
            int sy0 = _rows.Start[y], sy1 = _rows.End[y];
            for (int x = 0; x < width; x++)
            {
                int sx0 = _columns.Start[x], sx1 = _columns.End[x];
                float sum = 0;
                for (int sy = sy0; sy < sy1; sy++)
                {
                    float* row = src + (long)sy * source.Width;
                    for (int sx = sx0; sx < sx1; sx++) sum += row[sx];
                }
                o[(long)y * width + x] = sum / ((sy1 - sy0) * (sx1 - sx0));
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
        _previous.Dispose(); _previousInput.Dispose(); _change.Dispose(); _weight.Dispose();
    }
}
