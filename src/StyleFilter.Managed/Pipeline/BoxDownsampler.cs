namespace StyleFilter.Pipeline;

/// <summary>
/// Box average of a one-plane image onto a smaller (or equal) grid: target pixel i averages the source range
/// [i * source / target, (i + 1) * source / target), never empty. Keeps its index tables for the sizes last used, so
/// a steady stream allocates nothing (one instance per pair of sizes in use).
/// </summary>
public sealed class BoxDownsampler
{
    private readonly BoxRanges _columns = new(), _rows = new();

    public unsafe void Downsample(PlanarImage source, int width, int height, PlanarImage target)
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

    /// <summary>Source index ranges along one axis: output i averages [Start[i], End[i]). FrameGraphs.Box uses the same ranges.</summary>
    internal sealed class BoxRanges
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
}
