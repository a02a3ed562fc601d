using StyleFilter.Pipeline;

namespace StyleFilter.Graphs;

/// <summary>Which <see cref="FrameGraphs.Unpack"/> graph: the host's format and frame size, and the inference size.</summary>
internal readonly record struct UnpackKey(PixelFormat Format, int Width, int Height, int ModelWidth, int ModelHeight, bool MotionLuma = false);

/// <summary>Which <see cref="FrameGraphs.Blend"/> graph: the blended tensor's shape and the model input's size.</summary>
internal readonly record struct BlendKey(int Batch, int Channels, int Height, int Width, int ImageHeight, int ImageWidth, int MotionMargin, bool CheckFinite,
    bool Compensate = false);

/// <summary>Which <see cref="FrameGraphs.Finish"/> graph: formats, sizes, and which optional steps it does.</summary>
internal readonly record struct FinishKey(PixelFormat In, PixelFormat Out, int Width, int Height, int Batch, int StylisedHeight, int StylisedWidth,
    bool PreserveColour, bool Mix, bool CheckFinite);

/// <summary>
/// The engine's per-frame work around a style model, as ONNX graphs built for the formats and sizes in use:
/// <list type="bullet">
/// <item><see cref="Unpack"/>: host pixels -> the model's input image (1x3xhxw RGB, 0..255) at the inference size;</item>
/// <item><see cref="Blend"/>: the model's features or image -> blended with the previous frame's (the temporal history);</item>
/// <item><see cref="Finish"/>: the stylised image -> frame size, colour preservation, alpha -> host pixels.</item>
/// </list>
/// Each does what the C# pipeline does (Pipeline/: FrameResizer, PixelConverter, Resampler, TemporalBlender, ColourOps), step by
/// step and in the same float operations where ONNX has them; GraphPipelineTests hold the two side by side.
/// Host frames come in and go out as HxWx4 tensors (RGBA8/BGRA8 bytes or RGBA32F floats).
/// </summary>
internal static class FrameGraphs
{
    // Graph inputs and outputs.
    public const string Frame = "frame", Image = "image", Pixels = "pixels", Finite = "finite";
    public const string Current = "current", Previous = "previous", PreviousImage = "previous_image", Blended = "blended";
    public const string Smoothing = "smoothing", InverseThreshold = "inverse_threshold", SceneCut = "scene_cut", MeanChange = "mean_change";
    public const string Stylised = "stylised", Alpha = "alpha";
    public const string MotionLuma = "motion_luma", Motion = "motion";

    private const int Float = Onnx.DataType.Float, Byte = Onnx.DataType.UInt8;

    public static int ElementType(PixelFormat format) => format == PixelFormat.Rgba32F ? Float : Byte;

    /// <summary>frame (HxWx4) -> image (1x3xhxw): FrameResizer.FromFrame (unpack, then resize to the inference size).</summary>
    public static byte[] Unpack(UnpackKey k)
    {
        var g = new OnnxGraph("stylefilter_unpack");
        g.Input(Frame, ElementType(k.Format), k.Height, k.Width, 4);
        var rgb = new FrameReader(g, Frame, k.Format, k.Width, k.Height).Rgb();
        var image = Resize(g, rgb, 3, k.Width, k.Height, k.ModelWidth, k.ModelHeight);
        g.Output(image, Image, Float, 1, 3, k.ModelHeight, k.ModelWidth);
        if (k.MotionLuma)
        {
            // LumaPyramid.Build's level 0, for the motion estimator (C#, on the CPU: a few hundred floats cross over).
            var (bw, bh) = LumaPyramid.BaseSize(k.ModelWidth, k.ModelHeight);
            var luma = g.Op("Conv", [image, g.Floats([ColourOps.Kr, ColourOps.Kg, ColourOps.Kb], 1, 3, 1, 1)]);
            var level0 = Box(g, luma, k.ModelWidth, k.ModelHeight, bw, bh);
            if (level0 == luma) level0 = g.Op("Identity", [luma]);
            g.Output(level0, MotionLuma, Float, 1, 1, bh, bw);
        }
        return g.ToModel();
    }

    /// <summary>
    /// TemporalBlender.Blend: blended = current + s' * m * (previous - current), with m from how much the input
    /// changed since the previous frame and s' = smoothing, or 0 when the mean change says this frame is a scene
    /// cut. Also returns the mean change and (when asked) whether current is finite (NaN or inf otherwise).
    /// The history is the caller's: without one it passes current as previous and image as previous_image, which
    /// makes blended exactly current.
    /// With Compensate (motion compensation, a frame whose estimated motion is not none) the graph also takes the
    /// motion (6 floats, <see cref="Pipeline.Motion"/>) and warps previous and previous_image by it with GridSample
    /// before comparing and blending, as TemporalBlender does with AffineWarp; pixels whose source lies outside the
    /// previous frame count as fully changed, and the mean change is over the others.
    /// </summary>
    public static byte[] Blend(BlendKey k)
    {
        var g = new OnnxGraph("stylefilter_blend");
        long[] tensor = [k.Batch, k.Channels, k.Height, k.Width], image = [1, 3, k.ImageHeight, k.ImageWidth];
        g.Input(Current, Float, tensor);
        g.Input(Previous, Float, tensor);
        g.Input(Image, Float, image);
        g.Input(PreviousImage, Float, image);
        g.Input(Smoothing, Float);
        g.Input(InverseThreshold, Float);
        g.Input(SceneCut, Float);
        string previous = Previous, previousImage = PreviousImage;
        string? inside = null;
        if (k.Compensate)
        {
            g.Input(Motion, Float, 6);
            var imageGrid = MotionGrid(g, k.ImageWidth, k.ImageHeight);
            previousImage = Warp(g, PreviousImage, imageGrid.Grid);
            inside = imageGrid.Inside;
            previous = Warp(g, Previous, MotionGrid(g, k.Width, k.Height).Grid);
        }

        // The largest R/G/B change per input pixel (0..1), and its mean over the frame.
        var difference = g.Op("Abs", [g.Op("Sub", [Image, previousImage])]);
        var planes = Enumerable.Range(0, 3).Select(c => g.Op("Slice", [difference, g.Int64s(c), g.Int64s(c + 1), g.Int64s(1)])).ToArray();
        var change = g.Op("Max", planes); // (ReduceMax over the channels is several times slower)
        var toUnit = g.Scalar(1f / 255f); // applied after averaging: one pass less at full resolution
        string mean;
        if (inside is null) mean = g.Op("Mul", [g.Op("ReduceMean", [change], Attr.Int("keepdims", 0)), toUnit]);
        else
        {
            // Mean over the pixels from inside the previous frame (1 when there are none); the others count as 255.
            var weight = g.Op("Cast", [inside], Attr.Int("to", Float));
            var count = g.Op("ReduceSum", [weight], Attr.Int("keepdims", 0));
            var sum = g.Op("ReduceSum", [g.Op("Mul", [change, weight])], Attr.Int("keepdims", 0));
            var insideMean = g.Op("Mul", [g.Op("Div", [sum, g.Op("Max", [count, g.Scalar(1f)])]), toUnit]);
            mean = g.Op("Where", [g.Op("Equal", [count, g.Scalar(0f)]), g.Scalar(1f), insideMean]);
            change = g.Op("Where", [inside, change, g.Scalar(255f)]);
        }
        g.Output(mean, MeanChange, Float);

        // Averaged over cells (TemporalBlender's MotionCell), widened by the margin, brought to the tensor's size.
        int gw = Math.Min(k.Width, DivideUp(k.ImageWidth, TemporalBlender.MotionCell));
        int gh = Math.Min(k.Height, DivideUp(k.ImageHeight, TemporalBlender.MotionCell));
        var grid = g.Op("Mul", [Box(g, change, k.ImageWidth, k.ImageHeight, gw, gh), toUnit]);
        int radius = (int)MathF.Ceiling(k.MotionMargin * (float)gw / k.ImageWidth);
        if (radius > 0)
            grid = g.Op("MaxPool", [grid], Attr.Ints("kernel_shape", 2 * radius + 1, 2 * radius + 1), Attr.Ints("pads", radius, radius, radius, radius),
                Attr.Ints("strides", 1, 1));
        grid = Resize(g, grid, 1, gw, gh, k.Width, k.Height);
        var still = g.Op("Relu", [g.Op("Sub", [g.Scalar(1f), g.Op("Mul", [grid, InverseThreshold])])]);

        var strength = g.Op("Where", [g.Op("Greater", [mean, SceneCut]), g.Scalar(0f), Smoothing]);
        var blended = g.Op("Add", [Current, g.Op("Mul", [g.Op("Mul", [strength, still]), g.Op("Sub", [previous, Current])])]);
        g.Output(blended, Blended, Float, tensor);
        if (k.CheckFinite) g.Output(FiniteCheck(g, Current), Finite, Float);
        return g.ToModel();
    }

    /// <summary>
    /// stylised (bx3xhxw, the first image used) + the host's frame -> pixels: Resampler.Resize to the frame's size
    /// clamped to 0..255, ColourOps.PreserveColour, ColourOps.Lerp by alpha, packed with the input's alpha (FrameResizer.ToFrame).
    /// </summary>
    public static byte[] Finish(FinishKey k)
    {
        var g = new OnnxGraph("stylefilter_finish");
        g.Input(Stylised, Float, k.Batch, 3, k.StylisedHeight, k.StylisedWidth);
        g.Input(Frame, ElementType(k.In), k.Height, k.Width, 4);
        if (k.Mix) g.Input(Alpha, Float);
        if (k.CheckFinite) g.Output(FiniteCheck(g, Stylised), Finite, Float);

        var stylised = k.Batch == 1 ? Stylised : g.Op("Slice", [Stylised, g.Int64s(0), g.Int64s(1), g.Int64s(0)]);
        var rgb = Resize(g, stylised, 3, k.StylisedWidth, k.StylisedHeight, k.Width, k.Height);
        // Clamped as the C# resampler clamps; 8-bit packing clamps anyway, so without colour or alpha mixing it is left to that.
        if (k.PreserveColour || k.Mix || k.Out == PixelFormat.Rgba32F) rgb = g.Op("Clip", [rgb, g.Scalar(0f), g.Scalar(255f)]);
        var input = new FrameReader(g, Frame, k.In, k.Width, k.Height);
        if (k.PreserveColour)
        {
            // out = input + (Y(stylised) - Y(input)) on each channel: the input's chroma, the style's luma.
            var luma = g.Floats([ColourOps.Kr, ColourOps.Kg, ColourOps.Kb], 1, 3, 1, 1);
            var dy = g.Op("Sub", [g.Op("Conv", [rgb, luma]), g.Op("Conv", [input.Rgb(), luma])]);
            rgb = g.Op("Add", [input.Rgb(), dy]);
        }
        if (k.Mix) rgb = g.Op("Add", [input.Rgb(), g.Op("Mul", [g.Op("Sub", [rgb, input.Rgb()]), Alpha])]);

        // Pack: channels in the host's order, alpha from the input; bytes rounded from the value clamped to 0..255
        // (clamp(v, 0, 255) + 0.5 is clamp(v + 0.5, 0.5, 255.5) for every float v, and Cast truncates, as the C# does).
        var ordered = k.Out == PixelFormat.Bgra8 ? g.Op("Gather", [rgb, g.Int64s(2, 1, 0)], Attr.Int("axis", 1)) : rgb;
        string ToBytes(string x) => g.Op("Cast", [g.Op("Clip", [g.Op("Add", [x, g.Scalar(0.5f)]), g.Scalar(0.5f), g.Scalar(255.5f)])], Attr.Int("to", Byte));
        var packed = k.Out == PixelFormat.Rgba32F
            ? g.Op("Mul", [g.Op("Concat", [ordered, input.Alpha()], Attr.Int("axis", 1)), g.Scalar(1f / 255f)])
            : k.In == PixelFormat.Rgba32F
                ? ToBytes(g.Op("Concat", [ordered, input.Alpha()], Attr.Int("axis", 1)))
                : g.Op("Concat", [ToBytes(ordered), input.AlphaBytes()], Attr.Int("axis", 1)); // a byte's alpha stays that byte
        var hwc = g.Op("Transpose", [g.Op("Reshape", [packed, g.Int64s(4, k.Height, k.Width)])], Attr.Ints("perm", 1, 2, 0));
        g.Output(hwc, Pixels, ElementType(k.Out), k.Height, k.Width, 4);
        return g.ToModel();
    }

    /// <summary>
    /// The sampling grid (1 x h x w x 2, normalised x then y) of the motion input at a width x height picture, computed
    /// as AffineWarp.Prepare does (A nx + B ny, then + C), and where its source lies inside the picture (1 x h x w bools).
    /// </summary>
    private static (string Grid, string Inside) MotionGrid(OnnxGraph g, int width, int height)
    {
        var p = Enumerable.Range(0, 6).Select(i => g.Op("Slice", [Motion, g.Int64s(i), g.Int64s(i + 1), g.Int64s(0)])).ToArray();
        var nx = g.Floats(Enumerable.Range(0, width).Select(i => Pipeline.Motion.Normalised(i, width)).ToArray(), 1, 1, width);
        var ny = g.Floats(Enumerable.Range(0, height).Select(i => Pipeline.Motion.Normalised(i, height)).ToArray(), 1, height, 1);
        var gx = g.Op("Add", [g.Op("Add", [g.Op("Mul", [p[0], nx]), g.Op("Mul", [p[1], ny])]), p[2]]);
        var gy = g.Op("Add", [g.Op("Add", [g.Op("Mul", [p[3], nx]), g.Op("Mul", [p[4], ny])]), p[5]]);
        var grid = g.Op("Concat", [g.Op("Unsqueeze", [gx, g.Int64s(3)]), g.Op("Unsqueeze", [gy, g.Int64s(3)])], Attr.Int("axis", 3));
        string Within(string n, int length)
        {
            // GridSample's source position ((n + 1) length - 1) / 2 within the pixel centres, as AffineWarp tells inside.
            var position = g.Op("Div", [g.Op("Sub", [g.Op("Mul", [g.Op("Add", [n, g.Scalar(1f)]), g.Scalar(length)]), g.Scalar(1f)]), g.Scalar(2f)]);
            return g.Op("And", [g.Op("GreaterOrEqual", [position, g.Scalar(-AffineWarp.InsideTolerance)]),
                g.Op("LessOrEqual", [position, g.Scalar(length - 1 + AffineWarp.InsideTolerance)])]);
        }
        var inside = g.Op("Unsqueeze", [g.Op("And", [Within(gx, width), Within(gy, height)]), g.Int64s(1)]); // 1 x 1 x h x w
        return (grid, inside);
    }

    /// <summary>AffineWarp.Apply: bilinear, border padding, pixel centres (align_corners 0).</summary>
    private static string Warp(OnnxGraph g, string x, string grid) =>
        g.Op("GridSample", [x, grid], Attr.String("mode", "bilinear"), Attr.String("padding_mode", "border"), Attr.Int("align_corners", 0));

    /// <summary>0 when every value of x is finite, NaN otherwise (x - x is 0 for finite x): RequireFinite's test.</summary>
    private static string FiniteCheck(OnnxGraph g, string x) =>
        g.Op("ReduceSum", [g.Op("Sub", [x, x])], Attr.Int("keepdims", 0));

    /// <summary>Bilinear resize of a 1xCxHxW tensor with pixel centres aligned (Resampler's taps); the input when the size is the same.</summary>
    private static string Resize(OnnxGraph g, string x, int channels, int width, int height, int toWidth, int toHeight)
    {
        if (width == toWidth && height == toHeight) return x;
        return g.Op("Resize", [x, "", "", g.Int64s(1, channels, toHeight, toWidth)],
            Attr.String("mode", "linear"), Attr.String("coordinate_transformation_mode", "half_pixel"));
    }

    /// <summary>
    /// TemporalBlender's box average of the change (1x1xHxW) onto a gw x gh grid: source ranges [i*H/gh, (i+1)*H/gh).
    /// An average pool when the cells are all alike; otherwise each grid cell gathers its (up to k) columns, then rows,
    /// with weights 0 for the padding of shorter cells.
    /// </summary>
    private static string Box(OnnxGraph g, string change, int width, int height, int gw, int gh)
    {
        if (gw == width && gh == height) return change;
        if (width % gw == 0 && height % gh == 0)
            return g.Op("AveragePool", [change], Attr.Ints("kernel_shape", height / gh, width / gw), Attr.Ints("strides", height / gh, width / gw));
        var (columns, cx) = CellTaps(g, width, gw);
        var (rows, cy) = CellTaps(g, height, gh);
        var byColumns = SumCells(g, change, columns, axis: 3, [1, 1, height, gw, columns.Span]);
        var byCells = SumCells(g, byColumns, rows, axis: 2, [1, 1, gh, rows.Span, gw]);
        var counts = new float[gh * gw];
        for (int y = 0; y < gh; y++)
            for (int x = 0; x < gw; x++) counts[y * gw + x] = cy[y] * cx[x];
        return g.Op("Div", [byCells, g.Floats(counts, 1, 1, gh, gw)]);
    }

    private readonly record struct Taps(string Index, string Weight, long Span);

    /// <summary>Source indices and 0/1 weights of each cell along one axis (BoxRanges), and the cells' sizes.</summary>
    private static (Taps Taps, int[] Counts) CellTaps(OnnxGraph g, int source, int cells)
    {
        var start = new int[cells];
        var count = new int[cells];
        for (int i = 0; i < cells; i++)
        {
            start[i] = Math.Min((int)((long)i * source / cells), source - 1);
            int end = Math.Clamp((int)((long)(i + 1) * source / cells), start[i] + 1, source);
            count[i] = end - start[i];
        }
        int span = count.Max();
        var index = new long[cells * span];
        var weight = new float[cells * span];
        for (int i = 0; i < cells; i++)
            for (int j = 0; j < span; j++)
            {
                index[i * span + j] = start[i] + Math.Min(j, count[i] - 1);
                weight[i * span + j] = j < count[i] ? 1 : 0;
            }
        return (new Taps(g.Int64s(index, [index.Length]), g.Floats(weight, weight.Length), span), count);
    }

    /// <summary>Gathers each cell's taps along axis, weights them, and sums each cell's span (the axis after the cells).</summary>
    private static string SumCells(OnnxGraph g, string x, Taps taps, int axis, long[] cellShape)
    {
        var gathered = g.Op("Gather", [x, taps.Index], Attr.Int("axis", axis));
        var weightShape = axis == 3 ? new long[] { taps.Span * (cellShape[3]) } : [cellShape[2] * taps.Span, 1];
        var weighted = g.Op("Mul", [gathered, g.Op("Reshape", [taps.Weight, g.Int64s(weightShape)])]);
        var cells = g.Op("Reshape", [weighted, g.Int64s(cellShape)]);
        return g.Op("ReduceSum", [cells, g.Int64s(axis + 1)], Attr.Int("keepdims", 0));
    }

    private static int DivideUp(int a, int b) => (a + b - 1) / b;

    /// <summary>
    /// A host frame (HxWx4) read as float planes 0..255 (PixelConverter.UnpackRow's values): transposed once to 4xHxW, then the
    /// planes each step needs, in RGB order whatever the host's byte order. Float frames are made finite first.
    /// </summary>
    private sealed class FrameReader(OnnxGraph g, string frame, PixelFormat format, int width, int height)
    {
        private string? _planes, _rgb, _alpha, _alphaBytes;

        public string Rgb() => _rgb ??= ToFloat(Take(format == PixelFormat.Bgra8 ? [2, 1, 0] : [0, 1, 2]));
        public string Alpha() => _alpha ??= ToFloat(AlphaPlane());
        /// <summary>The alpha plane of an 8-bit frame as it is (1x1xHxW bytes).</summary>
        public string AlphaBytes() => _alphaBytes ??= AlphaPlane();

        private string AlphaPlane() => Take([3]);

        /// <summary>The channels (in memory order) as 1xCxHxW, of the frame's element type.</summary>
        private string Take(long[] channels)
        {
            _planes ??= g.Op("Transpose", [frame], Attr.Ints("perm", 2, 0, 1));
            var picked = channels is [0, 1, 2] or [3]
                ? g.Op("Slice", [_planes, g.Int64s(channels[0]), g.Int64s(channels[^1] + 1), g.Int64s(0)])
                : g.Op("Gather", [_planes, g.Int64s(channels)], Attr.Int("axis", 0));
            return g.Op("Reshape", [picked, g.Int64s(1, channels.Length, height, width)]);
        }

        /// <summary>0..255 floats; the conversion comes last, so that it writes straight into a graph output.</summary>
        private string ToFloat(string planes) => format == PixelFormat.Rgba32F
            ? g.Op("Mul", [Finite(planes), g.Scalar(255f)])
            : g.Op("Cast", [planes], Attr.Int("to", Float));

        /// <summary>PixelConverter's Finite: NaN and -inf become 0, +inf 1, finite values are clamped to +-65504.</summary>
        private string Finite(string x)
        {
            var positiveInfinity = g.Op("IsInf", [x], Attr.Int("detect_negative", 0));
            var zero = g.Op("Or", [g.Op("IsNaN", [x]), g.Op("IsInf", [x], Attr.Int("detect_positive", 0))]);
            var clamped = g.Op("Clip", [x, g.Scalar(-65504f), g.Scalar(65504f)]);
            return g.Op("Where", [positiveInfinity, g.Scalar(1f), g.Op("Where", [zero, g.Scalar(0f), clamped])]);
        }
    }
}
