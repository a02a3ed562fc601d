using Xunit;

namespace StyleFilter.Tests;

/// <summary>Alpha, colour preservation, resizing and the pixel formats, checked against known models.</summary>
public class PipelineTests
{
    private const int W = 67, H = 45; // odd sizes on purpose: tails of vector loops, non-multiple-of-4 frames

    [Theory]
    [InlineData(PixelFormat.Rgba8)]
    [InlineData(PixelFormat.Bgra8)]
    public void AlphaZeroReturnsTheInputExactly(PixelFormat format)
    {
        using var engine = TestFrames.Engine("zoo_dynamic.onnx");
        engine.Alpha = 0;
        var input = TestFrames.Rgba(W, H, noise: 30, alpha: 77);
        var output = new byte[input.Length];
        engine.Process(input, output, W, H, format);
        Assert.Equal(input, output);
    }

    [Fact]
    public unsafe void AlphaZeroReturnsFloatInputExactly()
    {
        using var engine = TestFrames.Engine("zoo_dynamic.onnx");
        engine.Alpha = 0;
        var input = TestFrames.ToFloat(TestFrames.Rgba(W, H, noise: 30));
        input[5] = 1.7f; // over-range float values survive too
        var output = new float[input.Length];
        fixed (float* i = input) fixed (float* o = output)
            engine.Process(new FrameBuffer((nint)i, W, H, W * 16, PixelFormat.Rgba32F), new FrameBuffer((nint)o, W, H, W * 16, PixelFormat.Rgba32F));
        Assert.Equal(input, output);
    }

    [Fact]
    public void IdentityModelRoundTripsThePicture()
    {
        using var engine = TestFrames.Engine("identity.onnx");
        var input = TestFrames.Rgba(W, H);
        // At scale 1 the model sees a 68x44 picture (multiple of 4), so edges are resampled: allow a small error.
        Assert.True(TestFrames.MeanAbsDiff(input, TestFrames.Run(engine, input, W, H)) < 3);
        var exact = TestFrames.Rgba(64, 48, noise: 20);
        Assert.Equal(exact, TestFrames.Run(engine, exact, 64, 48));
    }

    // 37x23 has 851 pixels: not a multiple of any vector width, so the scalar tails after the vector loops count.
    [Theory]
    [InlineData(64, 48, 0.5f)]
    [InlineData(37, 23, 0.5f)]
    [InlineData(37, 23, 0.2f)]
    public void AlphaIsTheLinearMixOfInputAndStyle(int width, int height, float alpha)
    {
        using var engine = TestFrames.Engine("zoo_dynamic.onnx");
        var input = TestFrames.Rgba(width, height);
        var full = TestFrames.Run(engine, input, width, height);
        engine.Alpha = alpha;
        var mixed = TestFrames.Run(engine, input, width, height);
        for (int i = 0; i < input.Length; i++)
        {
            double expected = input[i] + alpha * (full[i] - input[i]);
            Assert.InRange(mixed[i], expected - 1, expected + 1);
        }
    }

    [Theory]
    [InlineData(64, 48)]
    [InlineData(37, 23)]
    public void ColourPreservationKeepsChromaAndTakesStyledLuma(int width, int height)
    {
        using var engine = TestFrames.Engine("zoo_dynamic.onnx");
        var input = TestFrames.Rgba(width, height);
        var styled = TestFrames.Run(engine, input, width, height);
        engine.PreserveColour = true;
        var kept = TestFrames.Run(engine, input, width, height);
        int checkedPixels = 0;
        for (int i = 0; i < input.Length; i += 4)
        {
            if (kept.AsSpan(i, 3).IndexOfAny((byte)0, (byte)255) >= 0) continue; // clamped pixels cannot keep chroma
            var (yi, cbi, cri) = YCbCr(input, i);
            var (yk, cbk, crk) = YCbCr(kept, i);
            var (ys, _, _) = YCbCr(styled, i);
            Assert.InRange(cbk - cbi, -1.5, 1.5);
            Assert.InRange(crk - cri, -1.5, 1.5);
            Assert.InRange(yk - ys, -1.5, 1.5);
            checkedPixels++;
        }
        Assert.True(checkedPixels > input.Length / 8, $"only {checkedPixels} unclamped pixels");
    }

    [Fact]
    public void ColourPreservationWithAGreyStyleGivesBackTheInput()
    {
        using var engine = TestFrames.Engine("grey.onnx");
        engine.PreserveColour = true;
        var input = TestFrames.Rgba(64, 48);
        Assert.True(TestFrames.MaxAbsDiff(input, TestFrames.Run(engine, input, 64, 48)) <= 2);
    }

    private static (double Y, double Cb, double Cr) YCbCr(byte[] p, int i)
    {
        double y = 0.299 * p[i] + 0.587 * p[i + 1] + 0.114 * p[i + 2];
        return (y, p[i + 2] - y, p[i] - y);
    }

    [Fact]
    public void BgraAndRgbaGiveTheSamePicture()
    {
        using var engine = TestFrames.Engine("zoo_dynamic.onnx");
        var rgba = TestFrames.Rgba(W, H);
        var fromRgba = TestFrames.Run(engine, rgba, W, H);
        var bgraOut = new byte[rgba.Length];
        engine.Process(TestFrames.SwapRb(rgba), bgraOut, W, H, PixelFormat.Bgra8);
        Assert.Equal(fromRgba, TestFrames.SwapRb(bgraOut));
    }

    [Fact]
    public unsafe void FloatFramesMatchByteFrames()
    {
        using var engine = TestFrames.Engine("zoo_dynamic.onnx");
        var rgba = TestFrames.Rgba(W, H);
        var bytesOut = TestFrames.Run(engine, rgba, W, H);
        var input = TestFrames.ToFloat(rgba);
        var output = new float[input.Length];
        fixed (float* i = input) fixed (float* o = output)
            engine.Process(new FrameBuffer((nint)i, W, H, W * 16, PixelFormat.Rgba32F), new FrameBuffer((nint)o, W, H, W * 16, PixelFormat.Rgba32F));
        for (int k = 0; k < output.Length; k++) Assert.InRange(output[k] * 255 - bytesOut[k], -0.51, 0.51);
    }

    [Fact]
    public unsafe void PaddedStridesAreHonouredAndPaddingIsUntouched()
    {
        using var engine = TestFrames.Engine("zoo_dynamic.onnx");
        var packed = TestFrames.Rgba(W, H);
        var expected = TestFrames.Run(engine, packed, W, H);
        int inStride = W * 4 + 12, outStride = W * 4 + 36;
        var input = new byte[inStride * H];
        var output = Enumerable.Repeat((byte)0xAB, outStride * H).ToArray();
        for (int y = 0; y < H; y++) packed.AsSpan(y * W * 4, W * 4).CopyTo(input.AsSpan(y * inStride));
        fixed (byte* i = input) fixed (byte* o = output)
            engine.Process(new FrameBuffer((nint)i, W, H, inStride, PixelFormat.Rgba8), new FrameBuffer((nint)o, W, H, outStride, PixelFormat.Rgba8));
        for (int y = 0; y < H; y++)
        {
            Assert.Equal(expected.AsSpan(y * W * 4, W * 4).ToArray(), output.AsSpan(y * outStride, W * 4).ToArray());
            Assert.All(output.AsSpan(y * outStride + W * 4, 36).ToArray(), b => Assert.Equal(0xAB, b));
        }
    }

    [Fact]
    public void InPlaceProcessingWorks()
    {
        using var engine = TestFrames.Engine("zoo_dynamic.onnx");
        var input = TestFrames.Rgba(W, H);
        var expected = TestFrames.Run(engine, input, W, H);
        var buffer = (byte[])input.Clone();
        engine.Process(buffer, buffer, W, H, PixelFormat.Rgba8);
        Assert.Equal(expected, buffer);
    }

    [Fact]
    public void InferenceScaleChangesTheModelSizeNotTheFrameSize()
    {
        using var engine = TestFrames.Engine("identity.onnx");
        engine.InferenceScale = 0.5f;
        var input = TestFrames.Rgba(128, 96);
        var output = TestFrames.Run(engine, input, 128, 96);
        // Identity at half size is a blur of the input: close on average, not exact.
        double diff = TestFrames.MeanAbsDiff(input, output);
        Assert.InRange(diff, 0.1, 12);
    }

    [Theory]
    [InlineData(FramePath.Managed, false)]
    [InlineData(FramePath.Graphs, false)] // the history's two pairs of tensors stay bound, each in a binding of its own
    [InlineData(FramePath.Managed, true)] // a shaking camera: motion estimated and the history warped every frame
    [InlineData(FramePath.Graphs, true)]
    public void SteadyStateAllocatesNothing(FramePath path, bool shaking)
    {
        using var engine = TestFrames.Engine("pack_basic", smoothing: 0.5f);
        engine.FramePath = path;
        engine.PreserveColour = true;
        engine.Alpha = 0.7f;
        var frames = new[] { TestFrames.Rgba(96, 64), TestFrames.Rgba(96, 64, dx: shaking ? 5 : 0) };
        var input = new byte[frames[0].Length]; // one host buffer, as a host reuses its frame (the graph path binds it once)
        var output = new byte[input.Length];
        void Frame(int i)
        {
            frames[i % 2].CopyTo(input, 0);
            engine.Process(input, output, 96, 64, PixelFormat.Rgba8);
        }
        for (int i = 0; i < 10; i++) Frame(i);
        Assert.Equal(shaking, !engine.LastMotion.IsIdentity);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) Frame(i);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{allocated} bytes allocated over 20 frames");
    }
}
