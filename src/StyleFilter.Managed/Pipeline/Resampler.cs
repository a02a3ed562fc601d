using System.Numerics;
using System.Runtime.InteropServices;

namespace StyleFilter.Pipeline;

/// <summary>
/// Bilinear resize of float planes (pixel centres aligned, as OpenCV and ffmpeg do). Separable: each source row
/// is resampled horizontally once into a two-row cache, then output rows are vector lerps of those two rows.
/// Tables and row buffers are kept between frames, so a steady stream allocates nothing. <see cref="FrameResizer"/>
/// does the same arithmetic between host frames and planes, with these row kernels.
/// </summary>
public sealed unsafe class Resampler : IDisposable
{
    private Taps? _x, _y;
    private float* _rows;       // two horizontally resampled rows, each _x.Length long
    private int _rowsCapacity;

    /// <summary>Resizes the first <paramref name="planes"/> planes; the target must already have its size.</summary>
    public void Resize(PlanarImage src, PlanarImage dst, int planes, float min = float.NegativeInfinity, float max = float.PositiveInfinity)
    {
        if (src.Width == dst.Width && src.Height == dst.Height)
        {
            for (int p = 0; p < planes; p++) Clamp(src.PlaneSpan(p), dst.PlaneSpan(p), min, max);
            return;
        }
        Prepare(src.Width, src.Height, dst.Width, dst.Height);
        for (int p = 0; p < planes; p++) ResizePlane(src.Plane(p), src.Width, dst.Plane(p), min, max);
    }

    private void ResizePlane(float* src, int srcW, float* dst, float min, float max)
    {
        Taps tx = _x!, ty = _y!;
        int dstW = tx.Length;
        float* rowA = _rows, rowB = _rows + dstW;
        int rowAIndex = -1, rowBIndex = -1;
        for (int y = 0; y < ty.Length; y++)
        {
            int y0 = ty.I0[y], y1 = ty.I1[y];
            // Source rows only move forward: reuse the cached pair where possible.
            if (rowAIndex != y0)
            {
                if (rowBIndex == y0) { float* t = rowA; rowA = rowB; rowB = t; rowAIndex = y0; rowBIndex = -1; }
                else { Horizontal(src + (long)y0 * srcW, rowA, tx); rowAIndex = y0; }
            }
            if (rowBIndex != y1)
            {
                if (y1 == y0) { new Span<float>(rowA, dstW).CopyTo(new Span<float>(rowB, dstW)); }
                else Horizontal(src + (long)y1 * srcW, rowB, tx);
                rowBIndex = y1;
            }
            Vertical(rowA, rowB, ty.W[y], dst + (long)y * dstW, dstW, min, max);
        }
    }

    /// <summary>One output row: the lerp of two horizontally resampled rows by <paramref name="weight"/>, clamped.</summary>
    internal static void Vertical(float* rowA, float* rowB, float weight, float* output, int width, float min, float max)
    {
        var a = new Span<float>(rowA, width);
        var b = new Span<float>(rowB, width);
        var o = new Span<float>(output, width);
        var lo = new Vector<float>(min);
        var hi = new Vector<float>(max);
        var w = new Vector<float>(weight);
        int x = 0;
        for (; x + Vector<float>.Count <= width; x += Vector<float>.Count)
        {
            var va = new Vector<float>(a[x..]);
            var v = va + (new Vector<float>(b[x..]) - va) * w;
            Vector.Min(Vector.Max(v, lo), hi).CopyTo(o[x..]);
        }
        for (; x < width; x++) o[x] = Math.Clamp(a[x] + (b[x] - a[x]) * weight, min, max);
    }

    /// <summary>One source row resampled to <paramref name="tx"/>.Length values.</summary>
    internal static void Horizontal(float* srcRow, float* outRow, Taps tx)
    {
        fixed (int* x0 = tx.I0, x1 = tx.I1)
        fixed (float* wx = tx.W)
            for (int x = 0; x < tx.Length; x++)
            {
                float l = srcRow[x0[x]];
                outRow[x] = l + (srcRow[x1[x]] - l) * wx[x];
            }
    }

    internal static void Clamp(ReadOnlySpan<float> src, Span<float> dst, float min, float max)
    {
        if (float.IsNegativeInfinity(min) && float.IsPositiveInfinity(max)) { src.CopyTo(dst); return; }
        int x = 0;
        var lo = new Vector<float>(min);
        var hi = new Vector<float>(max);
        for (; x + Vector<float>.Count <= src.Length; x += Vector<float>.Count)
            Vector.Min(Vector.Max(new Vector<float>(src[x..]), lo), hi).CopyTo(dst[x..]);
        for (; x < src.Length; x++) dst[x] = Math.Clamp(src[x], min, max);
    }

    private void Prepare(int srcW, int srcH, int dstW, int dstH)
    {
        _x = Taps.Between(_x, srcW, dstW);
        _y = Taps.Between(_y, srcH, dstH);
        if (_rowsCapacity < 2 * dstW)
        {
            if (_rows != null) NativeMemory.AlignedFree(_rows);
            _rows = (float*)NativeMemory.AlignedAlloc((nuint)(2 * dstW * sizeof(float)), 64);
            _rowsCapacity = 2 * dstW;
        }
    }

    public void Dispose()
    {
        if (_rows != null) NativeMemory.AlignedFree(_rows);
        _rows = null;
        _rowsCapacity = 0;
    }
}

/// <summary>Bilinear taps along one axis: for each of <see cref="Length"/> output indices, the two source indices and the weight of the second.</summary>
internal sealed class Taps
{
    public int Source { get; }
    public int Length { get; }
    public int[] I0 { get; }
    public int[] I1 { get; }
    public float[] W { get; }

    private Taps(int source, int length)
    {
        (Source, Length) = (source, length);
        (I0, I1, W) = (new int[length], new int[length], new float[length]);
        double scale = (double)source / length;
        for (int i = 0; i < length; i++)
        {
            double s = Math.Clamp((i + 0.5) * scale - 0.5, 0, source - 1);
            int f = (int)s;
            I0[i] = f;
            I1[i] = Math.Min(f + 1, source - 1);
            W[i] = (float)(s - f);
        }
    }

    /// <summary>The taps from <paramref name="source"/> to <paramref name="length"/> samples: <paramref name="cached"/> when it already is them.</summary>
    public static Taps Between(Taps? cached, int source, int length) =>
        cached is not null && cached.Source == source && cached.Length == length ? cached : new Taps(source, length);
}
