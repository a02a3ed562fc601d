namespace StyleFilter.Pipeline;

/// <summary>
/// Backward warp of float planes by a <see cref="Motion"/>: output pixel p takes the previous picture's value at
/// the motion's source of p, bilinear, clamped to the border, as ONNX GridSample does (bilinear, border padding,
/// align_corners = 0), so the graph path's Blend warps the same way. The taps are worked out once per frame and
/// size in <see cref="Prepare"/> and then applied to every plane (the features have 16 to 64).
/// Tables are kept between frames: a steady stream allocates nothing.
/// </summary>
public sealed unsafe class AffineWarp
{
    private int[] _index = [];        // top-left source tap
    private byte[] _steps = [];       // bit 0: the right tap is the next column (not clamped); bit 1: the lower tap is the next row
    private float[] _wx = [], _wy = [];
    private byte[] _inside = [];      // 1 where the source lies within the previous frame
    private int _width, _height;
    private float[] _columns = [];   // normalised x of each column
    /// <summary>How far (in pixels) outside the pixel-centre range a source still counts as inside: float rounding of whole shifts.</summary>
    internal const float InsideTolerance = 1e-3f;

    public int Width => _width;
    public int Height => _height;

    /// <summary>1 where pixel i's source lies in the previous frame (pixel-centre range), 0 where it came from outside.</summary>
    public ReadOnlySpan<byte> Inside => _inside.AsSpan(0, _width * _height);

    public void Prepare(Motion motion, int width, int height)
    {
        int n = width * height;
        if (_index.Length < n)
        {
            _index = new int[n]; _steps = new byte[n]; _wx = new float[n]; _wy = new float[n]; _inside = new byte[n];
        }
        if (_width != width)
        {
            if (_columns.Length < width) _columns = new float[width];
            for (int x = 0; x < width; x++) _columns[x] = Motion.Normalised(x, width);
        }
        (_width, _height) = (width, height);
        for (int y = 0; y < height; y++)
        {
            float ny = Motion.Normalised(y, height);
            float bx = motion.B * ny, by = motion.E * ny;
            for (int x = 0; x < width; x++)
            {
                float nx = _columns[x];
                float gx = motion.A * nx + bx + motion.C, gy = motion.D * nx + by + motion.F;
                float sx = ((gx + 1) * width - 1) / 2, sy = ((gy + 1) * height - 1) / 2;
                int i = y * width + x;
                _inside[i] = (byte)(sx >= -InsideTolerance && sx <= width - 1 + InsideTolerance && sy >= -InsideTolerance && sy <= height - 1 + InsideTolerance ? 1 : 0);
                sx = Math.Clamp(sx, 0, width - 1);
                sy = Math.Clamp(sy, 0, height - 1);
                int x0 = (int)sx, y0 = (int)sy;
                _index[i] = y0 * width + x0;
                _wx[i] = sx - x0;
                _wy[i] = sy - y0;
                _steps[i] = (byte)((x0 + 1 < width ? 1 : 0) | (y0 + 1 < height ? 2 : 0));
            }
        }
    }

    /// <summary>Warps the first <paramref name="planes"/> planes of source into target (both at the prepared size).</summary>
    public void Apply(PlanarImage source, PlanarImage target, int planes)
    {
        if (source.Width != _width || source.Height != _height)
            throw new InvalidOperationException($"warp prepared for {_width}x{_height}, given {source.Width}x{source.Height}");
        target.Resize(_width, _height, planes);
        int n = _width * _height, w = _width;
        fixed (int* index = _index)
        fixed (byte* steps = _steps)
        fixed (float* wxs = _wx, wys = _wy)
            for (int p = 0; p < planes; p++)
            {
                float* s = source.Plane(p), o = target.Plane(p);
                for (int i = 0; i < n; i++)
                {
                    float* t = s + index[i];
                    int step = steps[i], dx = step & 1, dy = (step >> 1) * w;
                    float wx = wxs[i], wy = wys[i];
                    float top = t[0] + (t[dx] - t[0]) * wx, bottom = t[dy] + (t[dy + dx] - t[dy]) * wx;
                    o[i] = top + (bottom - top) * wy;
                }
            }
    }
}
