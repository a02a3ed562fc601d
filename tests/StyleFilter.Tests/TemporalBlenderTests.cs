using StyleFilter.Pipeline;
using Xunit;

namespace StyleFilter.Tests;

/// <summary>
/// The blend F'_t = F_t + s m (F'_{t-1} - F_t) checked value by value against a reference computed here, on planes
/// whose length is not a multiple of any vector width (37x23).
/// </summary>
public class TemporalBlenderTests
{
    private static PlanarImage Planes(int width, int height, int planes, Func<int, int, int, float> value)
    {
        var image = new PlanarImage();
        image.Resize(width, height, planes);
        for (int p = 0; p < planes; p++)
        {
            var plane = image.PlaneSpan(p);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++) plane[y * width + x] = value(p, x, y);
        }
        return image;
    }

    private static float Previous(int p, int x, int y) => 40 + 3 * x + 5 * y + 30 * p;
    private static float Current(int p, int x, int y) => 200 - 2 * x - y + 11 * p;

    [Theory]
    [InlineData(0f)]
    [InlineData(0.5f)]
    [InlineData(0.9f)]
    [InlineData(1f)]
    public void StillInputBlendsByTheFormulaAtEverySmoothing(float smoothing)
    {
        // A still input gives m = 1 everywhere, so F' = F + s (F_prev - F) exactly; s = 1 holds the previous frame.
        const int w = 37, h = 23;
        using var blender = new TemporalBlender();
        using var input = Planes(w, h, 3, (p, x, y) => 100 + x + p);
        using var first = Planes(w, h, 3, Previous);
        blender.Blend(first, input, smoothing);
        using var second = Planes(w, h, 3, Current);
        blender.Blend(second, input, smoothing);
        for (int p = 0; p < 3; p++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    float f = Current(p, x, y), expected = f + smoothing * (Previous(p, x, y) - f);
                    Assert.InRange(second.PlaneSpan(p)[y * w + x], expected - 1e-3f, expected + 1e-3f);
                }
    }

    [Fact]
    public void MotionStopsTheHistoryWithinTheMarginAroundIt()
    {
        // A 4x4 patch changes; the motion margin (6 px, whole 4-px cells) must also free the pixels just beside it,
        // where a network paints the moving object's outline, while far pixels keep the history.
        const int w = 64, h = 64;
        using var blender = new TemporalBlender();
        using var still = Planes(w, h, 3, (p, x, y) => 120);
        using var moved = Planes(w, h, 3, (p, x, y) => x is >= 30 and < 34 && y is >= 30 and < 34 ? 250 : 120);
        using var first = Planes(w, h, 3, Previous);
        blender.Blend(first, still, 1f);
        using var second = Planes(w, h, 3, Current);
        blender.Blend(second, moved, 1f);
        float At(int x, int y) => second.PlaneSpan(0)[y * w + x];
        Assert.Equal(Current(0, 31, 31), At(31, 31), 1e-3f);    // the patch itself: no history
        Assert.Equal(Current(0, 25, 31), At(25, 31), 1e-3f);    // 5 px beside it: inside the margin
        Assert.Equal(Previous(0, 5, 5), At(5, 5), 1e-3f);       // far away: the history, fully
        Assert.Equal(Previous(0, 31, 55), At(31, 55), 1e-3f);
    }
}
