using System.Numerics;
using System.Runtime.InteropServices;

namespace StyleFilter.Pipeline;

/// <summary>
/// Bilinear resize of float planes (pixel centres aligned, as OpenCV and ffmpeg do). Separable: each source row
/// is resampled horizontally once into a two-row cache, then output rows are vector lerps of those two rows.
/// Tables and row buffers are kept between frames, so a steady stream allocates nothing.
/// </summary>
public sealed unsafe class Resampler : IDisposable
{
    private int _srcW, _srcH, _dstW, _dstH;
    private int[] _x0 = [], _x1 = [], _y0 = [], _y1 = [];
    private float[] _wx = [], _wy = [];
    private float* _rows;       // two horizontally resampled rows, each _dstW long
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
        for (int p = 0; p < planes; p++) ResizePlane(src.Plane(p), dst.Plane(p), min, max);
    }

    private void ResizePlane(float* src, float* dst, float min, float max)
    {
        float* rowA = _rows, rowB = _rows + _dstW;
        int rowAIndex = -1, rowBIndex = -1;
        var lo = new Vector<float>(min);
        var hi = new Vector<float>(max);
        for (int y = 0; y < _dstH; y++)
        {
            int y0 = _y0[y], y1 = _y1[y];
            // Source rows only move forward: reuse the cached pair where possible.
            if (rowAIndex != y0)
            {
                if (rowBIndex == y0) { float* t = rowA; rowA = rowB; rowB = t; rowAIndex = y0; rowBIndex = -1; }
                else { Horizontal(src + (long)y0 * _srcW, rowA); rowAIndex = y0; }
            }
            if (rowBIndex != y1)
            {
                if (y1 == y0) { new Span<float>(rowA, _dstW).CopyTo(new Span<float>(rowB, _dstW)); }
                else Horizontal(src + (long)y1 * _srcW, rowB);
                rowBIndex = y1;
            }
            float wy = _wy[y];
            var a = new Span<float>(rowA, _dstW);
            var b = new Span<float>(rowB, _dstW);
            var o = new Span<float>(dst + (long)y * _dstW, _dstW);
            int x = 0;
            var w = new Vector<float>(wy);
            for (; x + Vector<float>.Count <= _dstW; x += Vector<float>.Count)
            {
                var va = new Vector<float>(a[x..]);
                var v = va + (new Vector<float>(b[x..]) - va) * w;
                Vector.Min(Vector.Max(v, lo), hi).CopyTo(o[x..]);
            }
            for (; x < _dstW; x++) o[x] = Math.Clamp(a[x] + (b[x] - a[x]) * wy, min, max);
        }
    }

    private void Horizontal(float* srcRow, float* outRow)
    {
        fixed (int* x0 = _x0, x1 = _x1)
        fixed (float* wx = _wx)
            for (int x = 0; x < _dstW; x++)
            {
                float l = srcRow[x0[x]];
                outRow[x] = l + (srcRow[x1[x]] - l) * wx[x];
            }
    }

    private static void Clamp(ReadOnlySpan<float> src, Span<float> dst, float min, float max)
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
        if (srcW == _srcW && srcH == _srcH && dstW == _dstW && dstH == _dstH) return;
        (_srcW, _srcH, _dstW, _dstH) = (srcW, srcH, dstW, dstH);
        (_x0, _x1, _wx) = Taps(srcW, dstW);
        (_y0, _y1, _wy) = Taps(srcH, dstH);
        if (_rowsCapacity < 2 * dstW)
        {
            if (_rows != null) NativeMemory.AlignedFree(_rows);
            _rows = (float*)NativeMemory.AlignedAlloc((nuint)(2 * dstW * sizeof(float)), 64);
            _rowsCapacity = 2 * dstW;
        }
    }

    /// <summary>For each output index: the two source indices and the weight of the second.</summary>
    private static (int[], int[], float[]) Taps(int src, int dst)
    {
        var i0 = new int[dst];
        var i1 = new int[dst];
        var w = new float[dst];
        double scale = (double)src / dst;
        for (int i = 0; i < dst; i++)
        {
            double s = Math.Clamp((i + 0.5) * scale - 0.5, 0, src - 1);
            int f = (int)s;
            i0[i] = f;
            i1[i] = Math.Min(f + 1, src - 1);
            w[i] = (float)(s - f);
        }
        return (i0, i1, w);
    }

    public void Dispose()
    {
        if (_rows != null) NativeMemory.AlignedFree(_rows);
        _rows = null;
        _rowsCapacity = 0;
    }
}
