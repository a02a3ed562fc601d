namespace StyleFilter.Pipeline;

/// <summary>
/// A frame's luminance at a few small sizes for <see cref="MotionEstimator"/>: level 0 is the frame box-averaged
/// by the smallest whole factor that brings its longer side to at most <see cref="BaseSide"/> pixels, each further
/// level half the one before, down to about <see cref="CoarsestSide"/>. Each level keeps its gradients, used when the
/// pyramid is the previous frame's. Built once per frame; a steady stream allocates nothing.
/// </summary>
public sealed class LumaPyramid : IDisposable
{
    public const int BaseSide = 160, CoarsestSide = 32;

    internal sealed class Level : IDisposable
    {
        public readonly PlanarImage Image = new(), GradX = new(), GradY = new();
        public readonly BoxDownsampler Down = new();
        public int Width => Image.Width;
        public int Height => Image.Height;
        public void Dispose() { Image.Dispose(); GradX.Dispose(); GradY.Dispose(); }
    }

    private readonly List<Level> _levels = [];
    private readonly PlanarImage _luma = new();
    private readonly BoxDownsampler _toBase = new();

    internal IReadOnlyList<Level> Levels => _levels;
    internal int Count { get; private set; }
    /// <summary>Size of the picture the pyramid was made from (the motion's pixels are counted in it).</summary>
    public int SourceWidth { get; private set; }
    public int SourceHeight { get; private set; }

    private static int DivideUp(int a, int b) => (a + b - 1) / b;

    /// <summary>Size of level 0 for a source of width x height (FrameGraphs.Unpack makes the same when the graph path estimates motion).</summary>
    public static (int Width, int Height) BaseSize(int width, int height)
    {
        int factor = Math.Max(1, DivideUp(Math.Max(width, height), BaseSide));
        return (DivideUp(width, factor), DivideUp(height, factor));
    }

    /// <summary>From an RGB image (3 planes, 0..255): its luma (BT.601), box-averaged to the base size, then the levels.</summary>
    public void Build(PlanarImage rgb)
    {
        _luma.Resize(rgb.Width, rgb.Height, 1);
        Span<float> l = _luma.PlaneSpan(0);
        ReadOnlySpan<float> r = rgb.PlaneSpan(0), g = rgb.PlaneSpan(1), b = rgb.PlaneSpan(2);
        for (int i = 0; i < l.Length; i++) l[i] = ColourOps.Kr * r[i] + ColourOps.Kg * g[i] + ColourOps.Kb * b[i];
        var (w, h) = BaseSize(rgb.Width, rgb.Height);
        var level0 = LevelAt(0);
        _toBase.Downsample(_luma, w, h, level0.Image);
        Finish(rgb.Width, rgb.Height);
    }

    /// <summary>From level 0 already made (the graph path's Unpack makes it on the device): base.Length = BaseSize's product.</summary>
    public void BuildFromBase(ReadOnlySpan<float> baseLuma, int sourceWidth, int sourceHeight)
    {
        var (w, h) = BaseSize(sourceWidth, sourceHeight);
        var level0 = LevelAt(0);
        level0.Image.Resize(w, h, 1);
        baseLuma[..(w * h)].CopyTo(level0.Image.PlaneSpan(0));
        Finish(sourceWidth, sourceHeight);
    }

    private void Finish(int sourceWidth, int sourceHeight)
    {
        (SourceWidth, SourceHeight) = (sourceWidth, sourceHeight);
        int count = 1;
        while (true)
        {
            var above = _levels[count - 1];
            int w = DivideUp(above.Width, 2), h = DivideUp(above.Height, 2);
            if (Math.Max(w, h) < CoarsestSide || Math.Min(w, h) < 8) break;
            var level = LevelAt(count++);
            level.Down.Downsample(above.Image, w, h, level.Image);
        }
        Count = count;
        for (int i = 0; i < count; i++)
        {
            Smooth(_levels[i]);
            Gradients(_levels[i]);
        }
    }

    private Level LevelAt(int i)
    {
        while (_levels.Count <= i) _levels.Add(new Level());
        return _levels[i];
    }

    /// <summary>
    /// In place, a [1 2 1] / 4 blur across and down (edges repeated). Noise is then already smooth, so the bilinear
    /// interpolation of a sub-pixel warp does not lower it much: without this, on a noisy still picture any half-pixel
    /// "motion" fits better than none, because interpolating averages the previous frame's noise away.
    /// </summary>
    private static void Smooth(Level level)
    {
        int w = level.Width, h = level.Height;
        level.GradX.Resize(w, h, 1);
        Span<float> im = level.Image.PlaneSpan(0), tmp = level.GradX.PlaneSpan(0); // GradX is free until Gradients
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int i = y * w + x;
                tmp[i] = (im[y * w + Math.Max(x - 1, 0)] + 2 * im[i] + im[y * w + Math.Min(x + 1, w - 1)]) * 0.25f;
            }
        for (int y = 0; y < h; y++)
        {
            int up = Math.Max(y - 1, 0) * w, down = Math.Min(y + 1, h - 1) * w;
            for (int x = 0; x < w; x++) im[y * w + x] = (tmp[up + x] + 2 * tmp[y * w + x] + tmp[down + x]) * 0.25f;
        }
    }

    /// <summary>Central differences (one-sided at the edges), in luma levels per pixel of the level.</summary>
    private static void Gradients(Level level)
    {
        int w = level.Width, h = level.Height;
        level.GradX.Resize(w, h, 1);
        level.GradY.Resize(w, h, 1);
        ReadOnlySpan<float> im = level.Image.PlaneSpan(0);
        Span<float> gx = level.GradX.PlaneSpan(0), gy = level.GradY.PlaneSpan(0);
        for (int y = 0; y < h; y++)
        {
            int up = Math.Max(y - 1, 0), down = Math.Min(y + 1, h - 1);
            float yScale = down - up > 0 ? 1f / (down - up) : 0;
            for (int x = 0; x < w; x++)
            {
                int left = Math.Max(x - 1, 0), right = Math.Min(x + 1, w - 1);
                int i = y * w + x;
                gx[i] = right > left ? (im[y * w + right] - im[y * w + left]) / (right - left) : 0;
                gy[i] = (im[down * w + x] - im[up * w + x]) * yScale;
            }
        }
    }

    public void Dispose()
    {
        foreach (var l in _levels) l.Dispose();
        _levels.Clear();
        _luma.Dispose();
    }
}
