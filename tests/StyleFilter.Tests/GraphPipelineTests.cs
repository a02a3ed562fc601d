using Microsoft.ML.OnnxRuntime;
using StyleFilter.Graphs;
using StyleFilter.Ort;
using StyleFilter.Pipeline;
using Xunit;

namespace StyleFilter.Tests;

/// <summary>
/// The graph path (the engine's ONNX graphs around the model, Graphs/) against the C# pipeline (Pipeline/), on the
/// CPU provider with the same frames: every pixel format pair, odd sizes, padded strides, alpha, colour
/// preservation, smoothing, a still scene, a cut. 8-bit outputs agree within 1 level; float outputs within
/// <see cref="FloatTolerance"/>.
/// </summary>
public class GraphPipelineTests
{
    /// <summary>
    /// Float frames (0..1): the two paths do the same float operations but for the bilinear weights (ONNX Runtime's
    /// Resize computes them in float, the C# resampler in double), the order of a few sums (the mean change, the
    /// luma of colour preservation) and the runtime's own reductions. Those differ by a few units in the last place
    /// of values up to 255, which the model can amplify a little (the largest seen here: 3.5e-6); 1e-4 of full scale
    /// (a fortieth of an 8-bit level) leaves room for that and still catches any real difference, a level or more.
    /// </summary>
    private const float FloatTolerance = 1e-4f;

    private static readonly PixelFormat[] Formats = [PixelFormat.Rgba8, PixelFormat.Bgra8, PixelFormat.Rgba32F];

    /// <summary>Two engines alike but for the path; every frame goes through both and the outputs are compared.</summary>
    private sealed class Pair : IDisposable
    {
        public StyleEngine Managed { get; }
        public StyleEngine Graphs { get; }

        public Pair(string model, Action<StyleEngine>? setup = null)
        {
            Managed = TestFrames.Engine(model, smoothing: StyleEngine.DefaultSmoothing);
            Graphs = TestFrames.Engine(model, smoothing: StyleEngine.DefaultSmoothing);
            Managed.FramePath = FramePath.Managed;
            Graphs.FramePath = FramePath.Graphs;
            setup?.Invoke(Managed);
            setup?.Invoke(Graphs);
        }

        public void Set(Action<StyleEngine> change) { change(Managed); change(Graphs); }

        /// <summary>Runs one frame (RGBA bytes, converted to the input format) through both and compares them.</summary>
        public (byte[] Managed, byte[] Graphs) Frame(byte[] rgba, int width, int height, PixelFormat inFormat = PixelFormat.Rgba8,
            PixelFormat outFormat = PixelFormat.Rgba8, int inPad = 0, int outPad = 0)
        {
            var input = HostFrame.From(rgba, width, height, inFormat, inPad);
            var a = HostFrame.Blank(width, height, outFormat, outPad);
            var b = HostFrame.Blank(width, height, outFormat, outPad);
            input.Process(Managed, a);
            input.Process(Graphs, b);
            AssertSame(a, b);
            return (a.Bytes, b.Bytes);
        }

        public void Dispose() { Managed.Dispose(); Graphs.Dispose(); }
    }

    private static void AssertSame(HostFrame managed, HostFrame graphs)
    {
        int row = managed.Width * FrameBuffer.BytesPerPixel(managed.Format);
        for (int y = 0; y < managed.Height; y++)
        {
            var a = managed.Bytes.AsSpan(y * managed.Stride, managed.Stride);
            var b = graphs.Bytes.AsSpan(y * graphs.Stride, graphs.Stride);
            Assert.True(a[row..].SequenceEqual(b[row..]), $"row {y}: the padding changed");
            if (managed.Format == PixelFormat.Rgba32F)
            {
                var fa = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(a[..row]);
                var fb = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(b[..row]);
                for (int i = 0; i < fa.Length; i++)
                    Assert.True(Math.Abs(fa[i] - fb[i]) <= FloatTolerance * Math.Max(1, Math.Abs(fa[i])),
                        $"pixel ({i / 4}, {y}) channel {i % 4}: C# {fa[i]}, graphs {fb[i]}");
            }
            else
                for (int i = 0; i < row; i++)
                    Assert.True(Math.Abs(a[i] - b[i]) <= 1, $"pixel ({i / 4}, {y}) byte {i % 4}: C# {a[i]}, graphs {b[i]}");
        }
    }

    /// <summary>A frame in host memory: any format, rows padded by some bytes (filled with 0xAB, which must stay).</summary>
    private sealed unsafe class HostFrame(byte[] bytes, int width, int height, int stride, PixelFormat format)
    {
        public byte[] Bytes { get; } = bytes;
        public int Width => width;
        public int Height => height;
        public int Stride => stride;
        public PixelFormat Format => format;

        public static HostFrame Blank(int width, int height, PixelFormat format, int pad)
        {
            int stride = width * FrameBuffer.BytesPerPixel(format) + pad;
            return new HostFrame(Enumerable.Repeat((byte)0xAB, stride * height).ToArray(), width, height, stride, format);
        }

        /// <summary>RGBA bytes in the given format; float frames also get over-range, NaN and infinite values in a few pixels.</summary>
        public static HostFrame From(byte[] rgba, int width, int height, PixelFormat format, int pad)
        {
            var f = Blank(width, height, format, pad);
            int bpp = FrameBuffer.BytesPerPixel(format);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    int s = (y * width + x) * 4, d = y * f.Stride + x * bpp;
                    if (format == PixelFormat.Rgba32F)
                    {
                        var px = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(f.Bytes.AsSpan(d, 16));
                        for (int c = 0; c < 4; c++) px[c] = rgba[s + c] / 255f;
                        if ((x + y) % 97 == 5) px[x % 3] = (x % 5) switch { 0 => float.NaN, 1 => float.PositiveInfinity, 2 => float.NegativeInfinity, 3 => 1.7f, _ => -0.2f };
                    }
                    else
                    {
                        bool bgra = format == PixelFormat.Bgra8;
                        f.Bytes[d] = rgba[s + (bgra ? 2 : 0)]; f.Bytes[d + 1] = rgba[s + 1]; f.Bytes[d + 2] = rgba[s + (bgra ? 0 : 2)]; f.Bytes[d + 3] = rgba[s + 3];
                    }
                }
            return f;
        }

        public void Process(StyleEngine engine, HostFrame output)
        {
            fixed (byte* i = Bytes) fixed (byte* o = output.Bytes)
                engine.Process(new FrameBuffer((nint)i, width, height, stride, format),
                    new FrameBuffer((nint)o, output.Width, output.Height, output.Stride, output.Format));
        }
    }

    public static IEnumerable<object[]> FormatPairs() =>
        from model in new[] { "zoo_dynamic.onnx", "pack_basic" }
        from i in Formats
        from o in Formats
        select new object[] { model, i, o };

    // 67x45: not a multiple of 4 (the model runs at 68x44), nor of any vector width; padded rows on both sides.
    [Theory]
    [MemberData(nameof(FormatPairs))]
    public void EveryFormatPairGivesTheSamePicture(string model, PixelFormat inFormat, PixelFormat outFormat)
    {
        using var pair = new Pair(model);
        for (int f = 0; f < 3; f++)
            pair.Frame(TestFrames.Rgba(67, 45, dx: f, noise: 6, seed: f, alpha: (byte)(40 * f + 100)), 67, 45, inFormat, outFormat, inPad: 12, outPad: 20);
    }

    [Theory]
    [InlineData("zoo_dynamic.onnx", 0f, false, 0f, 1f)]
    [InlineData("zoo_dynamic.onnx", 0.5f, true, StyleEngine.DefaultSmoothing, 1f)]
    [InlineData("zoo_dynamic.onnx", 1f, true, 0f, 0.5f)]
    [InlineData("pack_basic", 1f, true, StyleEngine.DefaultSmoothing, 1f)]
    [InlineData("pack_basic", 0.3f, false, StyleEngine.DefaultSmoothing, 0.5f)]
    [InlineData("pack_basic", 0f, true, 0f, 1f)]
    [InlineData("pack_mix", 0.7f, true, StyleEngine.DefaultSmoothing, 1f)]
    [InlineData("identity.onnx", 1f, false, StyleEngine.DefaultSmoothing, 0.5f)]
    [InlineData("fixed64_reshape.onnx", 1f, true, StyleEngine.DefaultSmoothing, 1f)] // fixed 64x64: resized both ways
    public void AlphaColourSmoothingAndScaleGiveTheSamePicture(string model, float alpha, bool preserve, float smoothing, float scale)
    {
        using var pair = new Pair(model, e => { e.Alpha = alpha; e.PreserveColour = preserve; e.Smoothing = smoothing; e.InferenceScale = scale; });
        if (model == "pack_mix") pair.Set(e => e.SetStyleMix([0.3f, 0.7f]));
        foreach (var (w, h) in new[] { (37, 23), (37, 23), (64, 48), (64, 48) })
            pair.Frame(TestFrames.Rgba(w, h, dx: w % 3, noise: 8, seed: w), w, h);
    }

    [Theory]
    [InlineData(TemporalLevel.Output)]
    [InlineData(TemporalLevel.Features)]
    public void BothTemporalLevelsOfASplitPackGiveTheSamePicture(TemporalLevel level)
    {
        using var pair = new Pair("pack_basic", e => e.TemporalLevel = level);
        for (int f = 0; f < 4; f++) pair.Frame(TestFrames.Rgba(60, 40, dx: f / 2, noise: 10, seed: f), 60, 40);
    }

    [Theory]
    [InlineData("zoo_dynamic.onnx")]
    [InlineData("pack_basic")]
    public void AStillSceneSettlesTheSameWay(string model)
    {
        // Camera noise on a still picture: smoothing holds the picture still (both paths alike, frame by frame),
        // where every frame on its own would flicker with the noise.
        using var pair = new Pair(model);
        using var unsmoothed = TestFrames.Engine(model, smoothing: 0);
        unsmoothed.FramePath = FramePath.Graphs;
        byte[]? previous = null, previousUnsmoothed = null;
        double change = 0, changeUnsmoothed = 0;
        for (int f = 0; f < 10; f++)
        {
            var input = TestFrames.Rgba(64, 48, noise: 6, seed: 100 + f);
            var (smoothed, _) = pair.Frame(input, 64, 48);
            var alone = TestFrames.Run(unsmoothed, input, 64, 48);
            if (f >= 4)
            {
                change += TestFrames.MeanAbsDiff(previous!, smoothed);
                changeUnsmoothed += TestFrames.MeanAbsDiff(previousUnsmoothed!, alone);
            }
            (previous, previousUnsmoothed) = (smoothed, alone);
        }
        Assert.True(change < changeUnsmoothed * 0.6, $"smoothing should hold a still scene: change {change / 6:F2} per frame, {changeUnsmoothed / 6:F2} without");
    }

    [Theory]
    [InlineData(TemporalLevel.Features, PixelFormat.Rgba8)]
    [InlineData(TemporalLevel.Output, PixelFormat.Rgba32F)]
    public void APanningCameraIsFollowedTheSameWay(TemporalLevel level, PixelFormat format)
    {
        // The camera pans 3 px a frame across and 1 px down: both paths estimate the same motion, warp the history
        // by it (GridSample against AffineWarp) and give the same picture; without compensation the picture differs.
        const int w = 160, h = 96;
        using var pair = new Pair("pack_basic", e => { e.TemporalLevel = level; e.MotionCompensation = true; });
        using var off = TestFrames.Engine("pack_basic", smoothing: StyleEngine.DefaultSmoothing);
        off.TemporalLevel = level;
        off.MotionCompensation = false;
        double differs = 0;
        for (int f = 0; f < 5; f++)
        {
            var input = TestFrames.Rgba(w, h, dx: 3 * f, dy: f, noise: 2, seed: 30 + f);
            var (managed, _) = pair.Frame(input, w, h, format, format);
            if (f == 0) continue;
            Assert.False(pair.Managed.LastMotion.IsIdentity, $"frame {f}: no motion found");
            Assert.Equal(pair.Managed.LastMotion, pair.Graphs.LastMotion);
            var expected = Motion.Translation(3, 1, w, h);
            Assert.True(Math.Abs(pair.Managed.LastMotion.C - expected.C) * w / 2 < 0.2f && Math.Abs(pair.Managed.LastMotion.F - expected.F) * h / 2 < 0.2f,
                $"frame {f}: {pair.Managed.LastMotion}, expected {expected}");
            if (format == PixelFormat.Rgba8) differs += TestFrames.MeanAbsDiff(managed, TestFrames.Run(off, input, w, h));
        }
        if (format == PixelFormat.Rgba8) Assert.True(differs > 0.5, $"compensation changed the picture by only {differs / 4:F2} levels a frame");
    }

    [Fact]
    public void ACutRestartsTheHistoryOnBothPaths()
    {
        using var pair = new Pair("pack_basic");
        pair.Frame(TestFrames.Rgba(64, 48), 64, 48);
        pair.Frame(TestFrames.Rgba(64, 48, noise: 4), 64, 48);
        pair.Frame(TestFrames.OtherRgba(64, 48), 64, 48); // a cut
        pair.Frame(TestFrames.OtherRgba(64, 48), 64, 48);
        pair.Frame(TestFrames.Rgba(32, 32), 32, 32);       // a new size restarts it too
        Assert.Equal(2, pair.Managed.Stats.HistoryResets);
        Assert.Equal(2, pair.Graphs.Stats.HistoryResets);
        pair.Set(e => e.ResetHistory());                   // and so does the host (a seek): nothing of before is used
        pair.Frame(TestFrames.Rgba(32, 32, dx: 3), 32, 32);
    }

    [Fact]
    public void AlphaZeroAndInPlaceFramesMatch()
    {
        using var pair = new Pair("zoo_dynamic.onnx");
        var input = TestFrames.Rgba(40, 30, noise: 20);
        var managed = (byte[])input.Clone();
        var graphs = (byte[])input.Clone();
        pair.Managed.Process(managed, managed, 40, 30, PixelFormat.Rgba8);
        pair.Graphs.Process(graphs, graphs, 40, 30, PixelFormat.Rgba8);
        Assert.True(TestFrames.MaxAbsDiff(managed, graphs) <= 1);
        pair.Set(e => e.Alpha = 0);
        Assert.Equal(input, pair.Frame(input, 40, 30).Graphs);
    }

    [Fact]
    public void TheGraphPathIsTheOneAskedFor()
    {
        using var engine = TestFrames.Engine("zoo_dynamic.onnx");
        if (Environment.GetEnvironmentVariable("STYLEFILTER_FRAME_PATH") is null) // (set, it chooses for every engine)
        {
            Assert.Equal(FramePath.Auto, engine.FramePath);
            Assert.Equal(FramePath.Managed, engine.ActiveFramePath); // the CPU: the C# pipeline is the faster one there
        }
        engine.FramePath = FramePath.Graphs;
        Assert.Equal(FramePath.Graphs, engine.ActiveFramePath);
        TestFrames.Fails(() => engine.FramePath = (FramePath)9, StatusCode.InvalidArgument);
    }

    [Theory]
    [InlineData(FramePath.Managed)]
    [InlineData(FramePath.Graphs)]
    public void AFrameTheModelTurnsToNaNPassesThroughAndLeavesNothingBehind(FramePath path)
    {
        // A model that is fine on the load's test frame and on dark frames, and gives NaN on bright ones.
        var g = new OnnxGraph("nan_when_bright");
        g.Input("input1", Onnx.DataType.Float, 1, 3, -1, -1);
        var bright = g.Op("Greater", [g.Op("ReduceMean", ["input1"], Attr.Int("keepdims", 0)), g.Scalar(200f)]);
        var output = g.Op("Mul", ["input1", g.Op("Where", [bright, g.Scalar(float.NaN), g.Scalar(0.5f)])]);
        g.Output(output, "output1", Onnx.DataType.Float, 1, 3, -1, -1);
        var file = Path.Combine(Path.GetTempPath(), $"sf-nan-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(file, g.ToModel());
        try
        {
            using var engine = new StyleEngine(new EngineOptions { IntraOpThreads = 1, FramePath = path });
            engine.LoadStyle(file);
            var dark = TestFrames.Rgba(40, 32);
            var halved = TestFrames.Run(engine, dark, 40, 32);
            var white = Enumerable.Repeat((byte)250, dark.Length).ToArray();
            var output1 = new byte[white.Length];
            var e = TestFrames.Fails(() => engine.Process(white, output1, 40, 32, PixelFormat.Rgba8), StatusCode.ModelError);
            Assert.Contains("NaN", e.Message);
            Assert.Equal(white, output1); // passed through
            Assert.Equal(halved, TestFrames.Run(engine, dark, 40, 32)); // the history holds no NaN
            Assert.Equal(1, engine.Stats.PassThroughFrames);
        }
        finally
        {
            File.Delete(file);
        }
    }

    // The blend graph on its own against TemporalBlender, at sizes the engine's models never give: input sides that
    // are not multiples of the 4-pixel motion cell (cells of 3 and 4 pixels: the gathering box), features coarser
    // than the cells, and the average-pool case.
    [Theory]
    [InlineData(37, 23, 3, 37, 23)]
    [InlineData(30, 18, 16, 8, 5)]
    [InlineData(64, 48, 16, 16, 12)]
    public unsafe void TheBlendGraphIsTemporalBlendersFormula(int iw, int ih, int channels, int tw, int th)
    {
        using var blender = new TemporalBlender();
        using var session = OrtSession.FromBytes(FrameGraphs.Blend(new BlendKey(1, channels, th, tw, ih, iw, blender.MotionMargin, CheckFinite: true)),
            "blend", new SessionConfig(1));
        using OrtTensor smoothing = new(), inverse = new(), cut = new(), mean = new(), finite = new();
        smoothing.Span[0] = 0.75f;
        inverse.Span[0] = 1 / blender.MotionThreshold;
        cut.Span[0] = blender.SceneCutThreshold;
        var rng = new Random(7);
        var background = Enumerable.Range(0, 3 * ih * iw).Select(_ => (float)rng.Next(40, 200)).ToArray();
        OrtTensor? previous = null, previousImage = null;
        using var view = new PlanarImage();
        using var imageView = new PlanarImage();
        for (int frame = 0; frame < 4; frame++)
        {
            // Camera noise everywhere, and a bright square moving to the right: m is 1, 0 and in between.
            var image = new OrtTensor(1, 3, ih, iw);
            for (int i = 0; i < image.Length; i++)
            {
                int x = i % iw, y = i / iw % ih;
                bool square = x >= 3 * frame + 2 && x < 3 * frame + 10 && y >= 4 && y < 12;
                image.Span[i] = background[i] + rng.Next(-4, 5) + (square ? 60 : 0);
            }
            using var current = new OrtTensor(1, channels, th, tw);
            for (int i = 0; i < current.Length; i++) current.Span[i] = rng.NextSingle() * 100 - 20;
            var unblended = current.Span.ToArray();
            using var blended = new OrtTensor(1, channels, th, tw);
            var inputs = new OrtValue[session.Inputs.Count];
            inputs[session.InputIndex(FrameGraphs.Current)] = current.Value;
            inputs[session.InputIndex(FrameGraphs.Previous)] = (previous ?? current).Value;
            inputs[session.InputIndex(FrameGraphs.Image)] = image.Value;
            inputs[session.InputIndex(FrameGraphs.PreviousImage)] = (previousImage ?? image).Value;
            inputs[session.InputIndex(FrameGraphs.Smoothing)] = smoothing.Value;
            inputs[session.InputIndex(FrameGraphs.InverseThreshold)] = inverse.Value;
            inputs[session.InputIndex(FrameGraphs.SceneCut)] = cut.Value;
            var outputs = new OrtValue?[session.Outputs.Count];
            outputs[session.OutputIndex(FrameGraphs.Blended)] = blended.Value;
            outputs[session.OutputIndex(FrameGraphs.MeanChange)] = mean.Value;
            outputs[session.OutputIndex(FrameGraphs.Finite)] = finite.Value;
            session.Run(inputs, outputs, TimeSpan.FromSeconds(30));

            view.Wrap(current.Data, tw, th, channels); // the C# blends current in place
            imageView.Wrap(image.Data, iw, ih, 3);
            blender.Blend(view, imageView, 0.75f);
            Assert.Equal(0f, finite.Span[0]);
            if (frame > 0) Assert.Equal(blender.LastMeanChange, mean.Span[0], 1e-5f);
            Assert.Equal(0, blender.Resets); // camera noise and a small square: no cut
            for (int i = 0; i < current.Length; i++)
                Assert.True(Math.Abs(current.Span[i] - blended.Span[i]) <= 1e-4f * Math.Max(1, Math.Abs(current.Span[i])),
                    $"frame {frame}, value {i}: C# {current.Span[i]}, graph {blended.Span[i]}");
            // The history took part: some values moved (still areas), others stayed (around the square).
            int moved = Enumerable.Range(0, unblended.Length).Count(i => Math.Abs(unblended[i] - blended.Span[i]) > 1);
            if (frame > 0) Assert.InRange(moved, 1, unblended.Length - 1);

            previous ??= new OrtTensor(1, channels, th, tw);
            blended.Span.CopyTo(previous.Span);
            previousImage?.Dispose();
            previousImage = image;
        }
        previous?.Dispose(); previousImage?.Dispose();
    }
}
