using System.Runtime.Intrinsics;

namespace StyleFilter.Pipeline;

/// <summary>
/// Host frame rows (RGBA8, BGRA8, RGBA32F, any stride) to and from R, G, B, A runs in 0..255. The 8-bit paths move
/// four pixels per step with 128-bit vectors (a byte shuffle transposes RGBA quads into channel runs).
/// </summary>
public static unsafe class PixelConverter
{
    // Transposes four RGBA pixels into RRRR GGGG BBBB AAAA; the same permutation undoes itself.
    private static readonly Vector128<byte> Transpose = Vector128.Create((byte)0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    private static readonly Vector128<byte> TransposeSwapRb = Vector128.Create((byte)2, 6, 10, 14, 1, 5, 9, 13, 0, 4, 8, 12, 3, 7, 11, 15);

    /// <summary>Reads row <paramref name="y"/> of a frame into four channel runs (R, G, B, A), each frame.Width long, 0..255.</summary>
    public static void UnpackRow(in FrameBuffer frame, int y, float* r, float* g, float* b, float* a)
    {
        byte* row = (byte*)frame.Data + (long)y * frame.Stride;
        if (frame.Format == PixelFormat.Rgba32F)
            UnpackFloatRow((float*)row, frame.Width, r, g, b, a);
        else
            UnpackByteRow(row, frame.Width, frame.Format == PixelFormat.Bgra8, r, g, b, a);
    }

    private static void UnpackByteRow(byte* row, int width, bool bgra, float* r, float* g, float* b, float* a)
    {
        int x = 0;
        var shuffle = bgra ? TransposeSwapRb : Transpose;
        for (; x + 4 <= width; x += 4)
        {
            var channels = Vector128.Shuffle(Vector128.Load(row + 4 * x), shuffle);
            var (rg, ba) = Vector128.Widen(channels);
            var (rr, gg) = Vector128.Widen(rg);
            var (bb, aa) = Vector128.Widen(ba);
            Vector128.ConvertToSingle(rr.AsInt32()).Store(r + x);
            Vector128.ConvertToSingle(gg.AsInt32()).Store(g + x);
            Vector128.ConvertToSingle(bb.AsInt32()).Store(b + x);
            Vector128.ConvertToSingle(aa.AsInt32()).Store(a + x);
        }
        int ri = bgra ? 2 : 0, bi = bgra ? 0 : 2;
        for (; x < width; x++)
        {
            byte* p = row + 4 * x;
            r[x] = p[ri]; g[x] = p[1]; b[x] = p[bi]; a[x] = p[3];
        }
    }

    private static void UnpackFloatRow(float* row, int width, float* r, float* g, float* b, float* a)
    {
        for (int x = 0; x < width; x++)
        {
            float* p = row + 4 * x;
            r[x] = Finite(p[0]) * 255f; g[x] = Finite(p[1]) * 255f; b[x] = Finite(p[2]) * 255f; a[x] = Finite(p[3]) * 255f;
        }
    }

    /// <summary>
    /// One NaN or inf pixel would spread through the network to the whole frame and stay in the temporal history,
    /// so they become black (NaN, -inf) or white (+inf); values beyond 0..1 that are finite (HDR) are kept.
    /// </summary>
    private static float Finite(float v) => float.IsFinite(v) ? Math.Clamp(v, -MaxFloatValue, MaxFloatValue) : v > 0 ? 1f : 0f;

    /// <summary>Bounds finite input too: x 255 and the network's sums must not overflow to inf.</summary>
    private const float MaxFloatValue = 65504f; // the largest half float: no real HDR frame goes beyond it

    /// <summary>Writes four channel runs (0..255, each frame.Width long) into row <paramref name="y"/> of a frame.</summary>
    public static void PackRow(in FrameBuffer frame, int y, float* r, float* g, float* b, float* a)
    {
        byte* row = (byte*)frame.Data + (long)y * frame.Stride;
        if (frame.Format == PixelFormat.Rgba32F)
            PackFloatRow((float*)row, frame.Width, r, g, b, a);
        else
            PackByteRow(row, frame.Width, frame.Format == PixelFormat.Bgra8, r, g, b, a);
    }

    private static void PackByteRow(byte* row, int width, bool bgra, float* r, float* g, float* b, float* a)
    {
        int x = 0;
        float* first = bgra ? b : r, third = bgra ? r : b; // channel runs in memory order, then transposed
        for (; x + 4 <= width; x += 4)
        {
            var lo = Vector128.Narrow(ToByteRange(first + x), ToByteRange(g + x));
            var hi = Vector128.Narrow(ToByteRange(third + x), ToByteRange(a + x));
            Vector128.Shuffle(Vector128.Narrow(lo, hi), Transpose).Store(row + 4 * x);
        }
        int ri = bgra ? 2 : 0, bi = bgra ? 0 : 2;
        for (; x < width; x++)
        {
            byte* p = row + 4 * x;
            p[ri] = ToByte(r[x]); p[1] = ToByte(g[x]); p[bi] = ToByte(b[x]); p[3] = ToByte(a[x]);
        }
    }

    private static Vector128<uint> ToByteRange(float* p) =>
        Vector128.ConvertToUInt32(Vector128.Min(Vector128.Max(Vector128.Load(p), Vector128<float>.Zero), Vector128.Create(255f)) + Vector128.Create(0.5f));

    private static byte ToByte(float v) => (byte)(Math.Clamp(v, 0f, 255f) + 0.5f);

    private static void PackFloatRow(float* row, int width, float* r, float* g, float* b, float* a)
    {
        const float scale = 1f / 255f;
        for (int x = 0; x < width; x++)
        {
            float* p = row + 4 * x;
            p[0] = r[x] * scale; p[1] = g[x] * scale; p[2] = b[x] * scale; p[3] = a[x] * scale;
        }
    }

    /// <summary>Copies a frame into another of the same size, converting the format; exact when formats match.</summary>
    public static void Copy(in FrameBuffer from, in FrameBuffer to, PlanarImage scratch)
    {
        if (from.Format == to.Format)
        {
            if (from.Data == to.Data && from.Stride == to.Stride) return;
            long rowBytes = (long)from.Width * FrameBuffer.BytesPerPixel(from.Format);
            for (int y = 0; y < from.Height; y++)
                Buffer.MemoryCopy((byte*)from.Data + (long)y * from.Stride, (byte*)to.Data + (long)y * to.Stride, rowBytes, rowBytes);
            return;
        }
        scratch.Resize(from.Width, 1, 4); // one row, R G B A
        for (int y = 0; y < from.Height; y++)
        {
            UnpackRow(from, y, scratch.Plane(0), scratch.Plane(1), scratch.Plane(2), scratch.Plane(3));
            PackRow(to, y, scratch.Plane(0), scratch.Plane(1), scratch.Plane(2), scratch.Plane(3));
        }
    }
}
