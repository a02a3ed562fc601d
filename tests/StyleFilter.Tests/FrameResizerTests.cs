using System.Runtime.InteropServices;
using StyleFilter.Pipeline;
using Xunit;

namespace StyleFilter.Tests;

/// <summary>
/// FrameResizer works row by row on two threads; its pixels must equal the whole-plane pipeline it replaced
/// (unpack the frame, Resampler.Resize, ColourOps over whole planes, pack), bit for bit, on every
/// format, odd sizes (vector tails), both directions of resizing, one and two threads, and in place.
/// </summary>
public unsafe class FrameResizerTests
{
    public static TheoryData<PixelFormat, int, int, int, int, int> Cases() => new()
    {
        { PixelFormat.Rgba8, 1, 97, 61, 40, 23 },     // down, odd sizes
        { PixelFormat.Bgra8, 2, 97, 61, 40, 23 },
        { PixelFormat.Rgba32F, 2, 97, 61, 40, 23 },
        { PixelFormat.Bgra8, 2, 33, 70, 80, 150 },    // up
        { PixelFormat.Rgba8, 2, 96, 64, 96, 64 },     // the same size: no resampling
        { PixelFormat.Rgba8, 1, 96, 64, 96, 64 },
        { PixelFormat.Rgba8, 2, 1920, 1080, 640, 360 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void FromFrame_equals_unpacking_then_resizing_the_planes(PixelFormat format, int cores, int width, int height, int w, int h)
    {
        using var frame = HostFrame.Make(width, height, format, seed: 1);
        using var expected = new PlanarImage();
        using var planes = new PlanarImage();
        UnpackPlanes(frame.Buffer, planes);
        expected.Resize(w, h, 3);
        using (var resampler = new Resampler()) resampler.Resize(planes, expected, 3);

        using var actual = new PlanarImage();
        actual.Resize(w, h, 3);
        using var resizer = new FrameResizer(cores);
        resizer.FromFrame(frame.Buffer, actual);
        for (int p = 0; p < 3; p++) Assert.True(expected.PlaneSpan(p).SequenceEqual(actual.PlaneSpan(p)), $"plane {p} differs");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ToFrame_equals_resizing_mixing_and_packing_the_planes(PixelFormat format, int cores, int width, int height, int w, int h)
    {
        using var input = HostFrame.Make(width, height, format, seed: 2);
        using var stylised = Stylised(w, h);
        using var resizer = new FrameResizer(cores);
        foreach (var (alpha, preserve) in new[] { (1f, false), (0.6f, false), (1f, true), (0.35f, true) })
        {
            using var expected = HostFrame.Make(width, height, format, seed: 3);
            Reference(stylised, input.Buffer, expected.Buffer, alpha, preserve);
            using var actual = HostFrame.Make(width, height, format, seed: 3);
            resizer.ToFrame(stylised, input.Buffer, actual.Buffer, alpha, preserve);
            Assert.True(expected.Bytes.SequenceEqual(actual.Bytes), $"alpha {alpha}, preserve colour {preserve}: the frames differ");

            // A host may hand the same buffer as input and output.
            using var inPlace = HostFrame.Make(width, height, format, seed: 2);
            resizer.ToFrame(stylised, inPlace.Buffer, inPlace.Buffer, alpha, preserve);
            Assert.True(expected.Bytes.SequenceEqual(inPlace.Bytes), $"alpha {alpha}, preserve colour {preserve}: in place differs");
        }
    }

    [Fact]
    public void A_second_frame_of_another_size_does_not_reuse_the_first_frames_rows()
    {
        using var resizer = new FrameResizer(2);
        using var image = new PlanarImage();
        foreach (var (width, height) in new[] { (200, 120), (150, 90), (200, 120) })
        {
            using var frame = HostFrame.Make(width, height, PixelFormat.Rgba8, seed: width);
            using var planes = new PlanarImage();
            using var expected = new PlanarImage();
            UnpackPlanes(frame.Buffer, planes);
            expected.Resize(64, 40, 3);
            using (var resampler = new Resampler()) resampler.Resize(planes, expected, 3);
            image.Resize(64, 40, 3);
            resizer.FromFrame(frame.Buffer, image);
            Assert.True(expected.PlaneSpan(1).SequenceEqual(image.PlaneSpan(1)), $"{width}x{height}");
        }
    }

    [Fact]
    public void Each_frame_reads_its_rows_afresh_even_where_the_last_frame_ended_on_the_same_row()
    {
        // A one-row picture stretched over the frame: every output row reads source row 0, the row the previous
        // call ended on; its cached copy belongs to the previous picture.
        using var resizer = new FrameResizer(1);
        using var input = HostFrame.Make(40, 8, PixelFormat.Rgba8, seed: 4);
        foreach (float level in new[] { 30f, 200f })
        {
            using var stylised = new PlanarImage();
            stylised.Resize(16, 1, 3);
            for (int p = 0; p < 3; p++) stylised.PlaneSpan(p).Fill(level);
            using var expected = HostFrame.Make(40, 8, PixelFormat.Rgba8, seed: 5);
            using var actual = HostFrame.Make(40, 8, PixelFormat.Rgba8, seed: 5);
            Reference(stylised, input.Buffer, expected.Buffer, 1f, false);
            resizer.ToFrame(stylised, input.Buffer, actual.Buffer, 1f, false);
            Assert.True(expected.Bytes.SequenceEqual(actual.Bytes), $"level {level}");
        }
    }

    [Fact]
    public void Copy_converts_between_formats_row_by_row()
    {
        using var rgba = HostFrame.Make(37, 23, PixelFormat.Rgba8, seed: 6);
        using var bgra = HostFrame.Make(37, 23, PixelFormat.Bgra8, seed: 9);
        using var floats = HostFrame.Make(37, 23, PixelFormat.Rgba32F, seed: 6);
        using var back = HostFrame.Make(37, 23, PixelFormat.Rgba8, seed: 9);
        using var scratch = new PlanarImage();
        PixelConverter.Copy(rgba.Buffer, bgra.Buffer, scratch);
        PixelConverter.Copy(floats.Buffer, back.Buffer, scratch);
        for (int y = 0; y < 23; y++)
            for (int x = 0; x < 37; x++)
            {
                var i = rgba.Pixel(x, y);
                var b = bgra.Pixel(x, y);
                Assert.Equal((i[0], i[1], i[2], i[3]), (b[2], b[1], b[0], b[3]));
                // The float frame holds v / 255 * 1.1 - 0.05: back in bytes, clamped and rounded.
                var f = back.Pixel(x, y);
                for (int c = 0; c < 4; c++)
                    Assert.InRange(f[c] - (int)(Math.Clamp(i[c] * 1.1f - 0.05f * 255f, 0f, 255f) + 0.5f), -1, 1); // float rounding
            }
    }

    /// <summary>The whole-plane pipeline the engine ran before FrameResizer.</summary>
    private static void Reference(PlanarImage stylised, in FrameBuffer input, in FrameBuffer output, float alpha, bool preserve)
    {
        using var inputPlanes = new PlanarImage();
        using var mixed = new PlanarImage();
        UnpackPlanes(input, inputPlanes);
        mixed.Resize(input.Width, input.Height, 3);
        using (var resampler = new Resampler()) resampler.Resize(stylised, mixed, 3, 0f, 255f);
        if (preserve)
            ColourOps.PreserveColour(mixed.PlaneSpan(0), mixed.PlaneSpan(1), mixed.PlaneSpan(2), inputPlanes.PlaneSpan(0), inputPlanes.PlaneSpan(1), inputPlanes.PlaneSpan(2));
        if (alpha < 1)
            for (int p = 0; p < 3; p++) ColourOps.Lerp(mixed.PlaneSpan(p), inputPlanes.PlaneSpan(p), alpha);
        PackPlanes(mixed, inputPlanes, output);
    }

    /// <summary>A whole frame as four planes, R, G, B, A.</summary>
    private static void UnpackPlanes(in FrameBuffer frame, PlanarImage planes)
    {
        planes.Resize(frame.Width, frame.Height, 4);
        for (int y = 0; y < frame.Height; y++)
        {
            long o = (long)y * frame.Width;
            PixelConverter.UnpackRow(frame, y, planes.Plane(0) + o, planes.Plane(1) + o, planes.Plane(2) + o, planes.Plane(3) + o);
        }
    }

    /// <summary>Three RGB planes and the alpha plane of another image, into a frame.</summary>
    private static void PackPlanes(PlanarImage rgb, PlanarImage alphaSource, in FrameBuffer frame)
    {
        for (int y = 0; y < frame.Height; y++)
        {
            long o = (long)y * frame.Width;
            PixelConverter.PackRow(frame, y, rgb.Plane(0) + o, rgb.Plane(1) + o, rgb.Plane(2) + o, alphaSource.Plane(3) + o);
        }
    }

    /// <summary>A network's output: smooth, with values outside 0..255 that the clamp must catch.</summary>
    private static PlanarImage Stylised(int w, int h)
    {
        var image = new PlanarImage();
        image.Resize(w, h, 3);
        var rng = new Random(7);
        for (int p = 0; p < 3; p++)
        {
            var plane = image.PlaneSpan(p);
            for (int i = 0; i < plane.Length; i++) plane[i] = -20f + 300f * (i % w) / w + (float)rng.NextDouble() * 8f;
        }
        return image;
    }

    /// <summary>A host frame in native memory with a padded stride, as hosts hand them over.</summary>
    private sealed class HostFrame : IDisposable
    {
        private readonly byte* _data;
        private readonly int _length;
        public FrameBuffer Buffer { get; }
        public ReadOnlySpan<byte> Bytes => new(_data, _length);

        private HostFrame(int width, int height, PixelFormat format)
        {
            int stride = width * FrameBuffer.BytesPerPixel(format) + 64;
            _length = stride * height;
            _data = (byte*)NativeMemory.AllocZeroed((nuint)_length);
            Buffer = new FrameBuffer((nint)_data, width, height, stride, format);
        }

        /// <summary>Pixel (x, y) of an 8-bit frame.</summary>
        public byte[] Pixel(int x, int y) => Bytes.Slice(y * Buffer.Stride + 4 * x, 4).ToArray();

        public static HostFrame Make(int width, int height, PixelFormat format, int seed)
        {
            var frame = new HostFrame(width, height, format);
            var rgba = TestFrames.Rgba(width, height, noise: 30, seed: seed, alpha: (byte)(100 + seed));
            for (int y = 0; y < height; y++)
            {
                byte* row = frame._data + (long)y * frame.Buffer.Stride;
                for (int x = 0; x < width * 4; x++)
                {
                    byte v = rgba[y * width * 4 + x];
                    if (format == PixelFormat.Rgba32F) ((float*)row)[x] = v / 255f * 1.1f - 0.05f; // a little beyond 0..1, as HDR frames are
                    else row[x] = v;
                }
            }
            return frame;
        }

        public void Dispose() => NativeMemory.Free(_data);
    }
}
