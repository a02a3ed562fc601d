using System.Runtime.InteropServices;

namespace StyleFilter.Pipeline;

/// <summary>
/// Moves pictures between the host's frame and the network's size without holding the frame as float planes.
/// <see cref="FromFrame"/> reads only the frame rows the bilinear taps need, straight into the model's input;
/// <see cref="ToFrame"/> resizes the stylised picture one frame row at a time, mixes it with that row of the input
/// (colour preservation, style strength) and packs it. At 1080p with 360p inference that moves a third of the
/// memory of unpacking, resizing and packing whole planes. The arithmetic is <see cref="Resampler"/>'s,
/// <see cref="ColourOps"/>' and <see cref="PixelConverter"/>'s, in the same order, so the pixels are the same.
/// Each call's rows are split between two threads (<see cref="RowSplitter"/>); each half has its own row buffers.
/// An input frame may be the output frame: each row is read before it is written.
/// </summary>
public sealed unsafe class FrameResizer : IDisposable
{
    private readonly RowSplitter _splitter;
    private readonly RowBuffers[] _halves = [new(), new()];
    private readonly Action<int, int, int> _fromFrameRows, _toFrameRows;
    private Taps? _downX, _downY, _upX, _upY;

    // The arguments of the call in progress, for the halves' row loops.
    private FrameBuffer _frame, _output;
    private PlanarImage? _image;
    private float _alpha;
    private bool _preserveColour;

    public FrameResizer() : this(Environment.ProcessorCount) { }

    /// <summary>With <paramref name="cores"/> below 2 every row runs on the caller's thread (tests compare both).</summary>
    internal FrameResizer(int cores)
    {
        _splitter = new RowSplitter(cores);
        _fromFrameRows = FromFrameRows;
        _toFrameRows = ToFrameRows;
    }

    /// <summary>The frame's RGB, bilinearly resized to <paramref name="image"/>'s size (already set), in 0..255.</summary>
    public void FromFrame(in FrameBuffer frame, PlanarImage image)
    {
        (_frame, _image) = (frame, image);
        _downX = Taps.Between(_downX, frame.Width, image.Width);
        _downY = Taps.Between(_downY, frame.Height, image.Height);
        foreach (var half in _halves) half.Prepare(frame.Width, image.Width);
        try { _splitter.For(image.Height, _fromFrameRows); }
        finally { _image = null; }
    }

    /// <summary>
    /// Writes <paramref name="stylised"/>, bilinearly resized to the frame's size and clamped to 0..255, into
    /// <paramref name="output"/>: with the input's colours when <paramref name="preserveColour"/>, mixed with the
    /// input by <paramref name="alpha"/> below 1, and with the input's alpha channel.
    /// </summary>
    public void ToFrame(PlanarImage stylised, in FrameBuffer input, in FrameBuffer output, float alpha, bool preserveColour)
    {
        (_image, _frame, _output, _alpha, _preserveColour) = (stylised, input, output, alpha, preserveColour);
        _upX = Taps.Between(_upX, stylised.Width, input.Width);
        _upY = Taps.Between(_upY, stylised.Height, input.Height);
        foreach (var half in _halves) half.Prepare(input.Width, input.Width);
        try { _splitter.For(input.Height, _toFrameRows); }
        finally { _image = null; }
    }

    private void FromFrameRows(int half, int from, int to)
    {
        var rows = _halves[half];
        var image = _image!;
        int w = image.Width;
        if (_frame.Width == w && _frame.Height == image.Height)
        {
            for (int y = from; y < to; y++)
                PixelConverter.UnpackRow(_frame, y, image.Plane(0) + (long)y * w, image.Plane(1) + (long)y * w, image.Plane(2) + (long)y * w, rows.Frame);
            return;
        }
        var ty = _downY!;
        for (int y = from; y < to; y++)
        {
            Load(rows, ty.I0[y], ty.I1[y], fromFrame: true);
            for (int c = 0; c < 3; c++)
                Resampler.Vertical(rows.A + c * w, rows.B + c * w, ty.W[y], image.Plane(c) + (long)y * w, w, float.NegativeInfinity, float.PositiveInfinity);
        }
    }

    private void ToFrameRows(int half, int from, int to)
    {
        var rows = _halves[half];
        var image = _image!;
        int w = _frame.Width;
        float* sr = rows.Mixed, sg = sr + w, sb = sg + w;              // the stylised row
        float* ir = rows.Frame, ig = ir + w, ib = ig + w, ia = ib + w;  // the input's row
        bool sameSize = image.Width == w && image.Height == _frame.Height;
        var ty = _upY!;
        for (int y = from; y < to; y++)
        {
            if (sameSize)
            {
                for (int c = 0; c < 3; c++)
                    Resampler.Clamp(new ReadOnlySpan<float>(image.Plane(c) + (long)y * w, w), new Span<float>(sr + c * w, w), 0f, 255f);
            }
            else
            {
                Load(rows, ty.I0[y], ty.I1[y], fromFrame: false);
                for (int c = 0; c < 3; c++) Resampler.Vertical(rows.A + c * w, rows.B + c * w, ty.W[y], sr + c * w, w, 0f, 255f);
            }
            PixelConverter.UnpackRow(_frame, y, ir, ig, ib, ia);
            if (_preserveColour)
                ColourOps.PreserveColour(new(sr, w), new(sg, w), new(sb, w), new(ir, w), new(ig, w), new(ib, w));
            if (_alpha < 1)
                for (int c = 0; c < 3; c++) ColourOps.Lerp(new(sr + c * w, w), new(ir + c * w, w), _alpha);
            PixelConverter.PackRow(_output, y, sr, sg, sb, ia);
        }
    }

    /// <summary>Makes rows.A source row y0 and rows.B source row y1, horizontally resized; source rows only move forward, so a cached one is reused.</summary>
    private void Load(RowBuffers rows, int y0, int y1, bool fromFrame)
    {
        if (rows.IndexA != y0)
        {
            if (rows.IndexB == y0) rows.SwapToA(y0);
            else { Resize(rows, y0, rows.A, fromFrame); rows.IndexA = y0; }
        }
        if (rows.IndexB != y1)
        {
            if (y1 == y0) new Span<float>(rows.A, 3 * rows.RowWidth).CopyTo(new Span<float>(rows.B, 3 * rows.RowWidth));
            else Resize(rows, y1, rows.B, fromFrame);
            rows.IndexB = y1;
        }
    }

    /// <summary>Source row y (a frame row, or a row of the stylised image) resized horizontally into three runs at <paramref name="target"/>.</summary>
    private void Resize(RowBuffers rows, int y, float* target, bool fromFrame)
    {
        int rw = rows.RowWidth;
        if (fromFrame)
        {
            int fw = _frame.Width;
            float* f = rows.Frame;
            PixelConverter.UnpackRow(_frame, y, f, f + fw, f + 2 * fw, f + 3 * fw);
            for (int c = 0; c < 3; c++) Resampler.Horizontal(f + c * fw, target + c * rw, _downX!);
        }
        else
        {
            var image = _image!;
            for (int c = 0; c < 3; c++) Resampler.Horizontal(image.Plane(c) + (long)y * image.Width, target + c * rw, _upX!);
        }
    }

    public void Dispose()
    {
        _splitter.Dispose();
        foreach (var half in _halves) half.Dispose();
    }

    /// <summary>One thread's buffers: a frame row (R, G, B, A), a stylised row (R, G, B) and two resized source rows (R, G, B each).</summary>
    private sealed class RowBuffers : IDisposable
    {
        private float* _memory;
        private long _capacity;

        public float* Frame { get; private set; }
        public float* Mixed { get; private set; }
        public float* A { get; private set; }
        public float* B { get; private set; }
        public int IndexA { get; set; } = -1;
        public int IndexB { get; set; } = -1;
        public int RowWidth { get; private set; }

        /// <summary>Sizes the buffers for frames <paramref name="frameWidth"/> wide and resized rows <paramref name="rowWidth"/> wide; forgets cached rows.</summary>
        public void Prepare(int frameWidth, int rowWidth)
        {
            long needed = 7L * frameWidth + 6L * rowWidth;
            if (needed > _capacity)
            {
                if (_memory != null) NativeMemory.AlignedFree(_memory);
                _memory = (float*)NativeMemory.AlignedAlloc((nuint)(needed * sizeof(float)), 64);
                _capacity = needed;
            }
            Frame = _memory;
            Mixed = Frame + 4L * frameWidth;
            A = Mixed + 3L * frameWidth;
            B = A + 3L * rowWidth;
            RowWidth = rowWidth;
            IndexA = IndexB = -1;
        }

        /// <summary>The row in B becomes A (it is source row <paramref name="y"/>); B is free.</summary>
        public void SwapToA(int y)
        {
            float* previousA = A;
            A = B;
            B = previousA;
            IndexA = y;
            IndexB = -1;
        }

        public void Dispose()
        {
            if (_memory != null) NativeMemory.AlignedFree(_memory);
            _memory = null;
            _capacity = 0;
        }
    }
}
