using StyleFilter.Pipeline;
using Xunit;

namespace StyleFilter.Tests;

/// <summary>
/// The global motion estimator, the warp and the motion-compensated blend, on pictures defined at every real
/// coordinate (so a sub-pixel pan or a zoom is rendered exactly): known motions must be recovered to a tenth of a
/// pixel, revealed pixels must take the current frame, and a still camera must blend exactly as without compensation.
/// </summary>
public class MotionEstimatorTests
{
    /// <summary>Soft blobs of many sizes at pseudo-random places (no period a search could lock onto by mistake).</summary>
    private static readonly (double X, double Y, double Radius, double R, double G, double B)[] Blobs = MakeBlobs();

    private static (double, double, double, double, double, double)[] MakeBlobs()
    {
        var rng = new Random(42);
        return Enumerable.Range(0, 90).Select(_ => (rng.NextDouble() * 560 - 120, rng.NextDouble() * 400 - 110, 4 + rng.NextDouble() * 26,
            rng.NextDouble() * 140 - 70, rng.NextDouble() * 140 - 70, rng.NextDouble() * 140 - 70)).ToArray();
    }

    /// <summary>A smooth, textured RGB picture (0..255) at any point.</summary>
    private static float Scene(int channel, double u, double v) => Scene(channel, u, v, sharp: false);

    /// <summary>The scene, with sharp 6-pixel blocks of pseudo-random brightness over it when <paramref name="sharp"/> (whole-pixel motions only).</summary>
    private static float Scene(int channel, double u, double v, bool sharp)
    {
        double s = 100 + 0.2 * u + 0.1 * v * (channel - 1);
        if (sharp)
        {
            int bx = (int)Math.Floor(u / 6), by = (int)Math.Floor(v / 6);
            s += ((bx * 73856093) ^ (by * 19349663)) % 61 - 30;
        }
        foreach (var b in Blobs)
        {
            double d2 = (u - b.X) * (u - b.X) + (v - b.Y) * (v - b.Y);
            if (d2 > 9 * b.Radius * b.Radius) continue;
            s += Math.Exp(-d2 / (2 * b.Radius * b.Radius)) * (channel == 0 ? b.R : channel == 1 ? b.G : b.B);
        }
        return (float)s;
    }

    /// <summary>The scene seen through a camera: pixel (x, y) shows the scene at map(centre of the pixel), plus noise.</summary>
    private static PlanarImage Render(int w, int h, Func<double, double, (double, double)> map, float noise = 0, int seed = 1,
        Func<int, double, double, float?>? over = null, bool sharp = false)
    {
        var rng = new Random(seed);
        var image = new PlanarImage();
        image.Resize(w, h, 3);
        for (int c = 0; c < 3; c++)
        {
            var plane = image.PlaneSpan(c);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    var (u, v) = map(x + 0.5, y + 0.5);
                    float value = over?.Invoke(c, x + 0.5, y + 0.5) ?? Scene(c, u, v, sharp);
                    plane[y * w + x] = value + (noise > 0 ? (float)(rng.NextDouble() * 2 - 1) * noise : 0);
                }
        }
        return image;
    }

    private static PlanarImage Still(int w, int h, float noise = 0, int seed = 1) => Render(w, h, (u, v) => (u, v), noise, seed);

    /// <summary>Largest distance, in pixels, between where the two motions say the four corners came from.</summary>
    private static float CornerError(Motion a, Motion b, int w, int h)
    {
        float worst = 0;
        foreach (var (x, y) in new[] { (0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1) })
        {
            var (ax, ay) = a.Source(x, y, w, h);
            var (bx, by) = b.Source(x, y, w, h);
            worst = MathF.Max(worst, MathF.Sqrt((ax - bx) * (ax - bx) + (ay - by) * (ay - by)));
        }
        return worst;
    }

    private static Motion Estimate(PlanarImage previous, PlanarImage current)
    {
        using var tracker = new MotionTracker();
        tracker.Track(previous);
        return tracker.Track(current);
    }

    public static TheoryData<float, float> Shifts => new()
    {
        { 1.4f, 0.0f }, { 3.3f, -1.7f }, { -7.25f, 4.5f }, { 25.4f, 7.2f }, { -38f, -12.6f },
    };

    [Theory]
    [MemberData(nameof(Shifts))]
    public void PansAreRecoveredToATenthOfAPixel(float dx, float dy)
    {
        // 320x180: level 0 is 160x90, the coarse search runs at 40x23; 38 px is 12 % of the width in one frame.
        const int w = 320, h = 180;
        using var previous = Still(w, h, noise: 2, seed: 1);
        using var current = Render(w, h, (u, v) => (u - dx, v - dy), noise: 2, seed: 2);
        var log = new List<string>();
        MotionEstimator.Trace = log.Add;
        var found = Estimate(previous, current);
        MotionEstimator.Trace = null;
        var truth = Motion.Translation(dx, dy, w, h);
        Assert.True(CornerError(found, truth, w, h) < 0.1f, string.Join("\n", log));
        Assert.True(CornerError(found, truth, w, h) < 0.1f, $"pan ({dx}, {dy}): estimated {found}, true {truth}, error {CornerError(found, truth, w, h):F3} px");
    }

    [Theory]
    [InlineData(1.01f, 0f, 0f, 0f)]
    [InlineData(1.04f, 5f, -3f, 0f)]
    [InlineData(0.97f, -2f, 1f, 0f)]
    [InlineData(1f, 2f, 0f, 1.5f)]
    public void ZoomsAndRollsAreRecoveredToATenthOfAPixel(float zoom, float dx, float dy, float degrees)
    {
        const int w = 320, h = 180;
        double angle = degrees * Math.PI / 180, cos = Math.Cos(angle), sin = Math.Sin(angle);
        // The content grows by zoom about the centre, turns by the angle, then moves by (dx, dy).
        (double, double) Map(double u, double v)
        {
            double x = u - dx - w / 2.0, y = v - dy - h / 2.0;
            return ((cos * x + sin * y) / zoom + w / 2.0, (-sin * x + cos * y) / zoom + h / 2.0);
        }
        using var previous = Still(w, h, noise: 2, seed: 3);
        using var current = Render(w, h, Map, noise: 2, seed: 4);
        var found = Estimate(previous, current);
        float worst = 0;
        foreach (var (x, y) in new[] { (0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1), (w / 2, h / 2) })
        {
            var (u, v) = Map(x + 0.5, y + 0.5);
            var (fx, fy) = found.Source(x, y, w, h);
            worst = MathF.Max(worst, (float)Math.Sqrt((fx + 0.5 - u) * (fx + 0.5 - u) + (fy + 0.5 - v) * (fy + 0.5 - v)));
        }
        Assert.True(worst < (degrees == 0 ? 0.1f : 0.15f), $"zoom {zoom}, shift ({dx}, {dy}), {degrees} deg: estimated {found}, worst error {worst:F3} px");
    }

    [Fact]
    public void AStillCameraIsNoMotionExactly()
    {
        using var previous = Still(320, 180, noise: 3, seed: 5);
        using var current = Still(320, 180, noise: 3, seed: 6);
        Assert.Equal(Motion.Identity, Estimate(previous, current));
    }

    [Theory]
    [InlineData(1600, 10)]   // level 0 is 160x1
    [InlineData(10, 1600)]
    [InlineData(2, 2)]
    public void SliversOfFramesAreNoMotionNotAnError(int w, int h)
    {
        using var previous = Render(w, h, (u, v) => (u, v), sharp: true);
        using var current = Render(w, h, (u, v) => (u - 5, v - 1), sharp: true);
        Assert.Equal(Motion.Identity, Estimate(previous, current));
    }

    [Theory]
    [InlineData(FramePath.Managed)]
    [InlineData(FramePath.Graphs)]
    public void AnEngineOnASliverOfAFrameKeepsWorking(FramePath path)
    {
        // The ABI fuzzer's case: a 16384x1 frame, inference 16384x32, a motion pyramid whose level 0 is 160x1.
        using var engine = TestFrames.Engine("zoo_dynamic.onnx", smoothing: StyleEngine.DefaultSmoothing);
        engine.FramePath = path;
        for (int t = 0; t < 3; t++) TestFrames.Run(engine, TestFrames.Rgba(16384, 1, dx: 7 * t, noise: 3, seed: t), 16384, 1);
        Assert.Equal(0, engine.Stats.PassThroughFrames);
    }

    [Fact]
    public void AMovingObjectDoesNotPullTheCameraMotion()
    {
        // The camera pans 6 px right; a flat disc a tenth of the frame wide moves 15 px the other way over it.
        const int w = 320, h = 180;
        float? Disc(int c, double u, double v, double cx) => (u - cx) * (u - cx) + (v - 90) * (v - 90) < 30 * 30 ? 40f + 80 * c : null;
        using var previous = Render(w, h, (u, v) => (u, v), 2, 7, (c, u, v) => Disc(c, u, v, 160));
        using var current = Render(w, h, (u, v) => (u - 6, v), 2, 8, (c, u, v) => Disc(c, u, v, 145));
        var found = Estimate(previous, current);
        var truth = Motion.Translation(6, 0, w, h);
        Assert.True(CornerError(found, truth, w, h) < 0.2f, $"estimated {found}, true {truth}");
    }

    [Fact]
    public void TheWarpMovesPixelsAndMarksWhatCameFromOutside()
    {
        const int w = 37, h = 23;
        using var source = Render(w, h, (u, v) => (u, v));
        using var target = new PlanarImage();
        var warp = new AffineWarp();
        warp.Prepare(Motion.Translation(5, -2, w, h), w, h); // content moved 5 right, 2 up
        warp.Apply(source, target, 3);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                bool inside = x - 5 >= 0 && y + 2 <= h - 1;
                Assert.Equal(inside ? 1 : 0, warp.Inside[y * w + x]);
                int sx = Math.Clamp(x - 5, 0, w - 1), sy = Math.Clamp(y + 2, 0, h - 1);
                for (int c = 0; c < 3; c++)
                    Assert.Equal(source.PlaneSpan(c)[sy * w + sx], target.PlaneSpan(c)[y * w + x], 1e-3f);
            }
        // Half a pixel: the mean of two neighbours.
        warp.Prepare(Motion.Translation(0.5f, 0, w, h), w, h);
        warp.Apply(source, target, 1);
        var s = source.PlaneSpan(0);
        Assert.Equal((s[10 * w + 9] + s[10 * w + 10]) / 2, target.PlaneSpan(0)[10 * w + 10], 1e-3f);
    }

    private static PlanarImage Features(int w, int h, int planes, float offset)
    {
        var f = new PlanarImage();
        f.Resize(w, h, planes);
        for (int p = 0; p < planes; p++)
        {
            var plane = f.PlaneSpan(p);
            for (int i = 0; i < plane.Length; i++) plane[i] = offset + (i % w) * 0.5f + (i / w) * 0.25f + p;
        }
        return f;
    }

    [Fact]
    public void ACompensatedBlendTakesTheHistoryFromWhereThePixelWas()
    {
        // The camera pans 8 px right a frame (2 feature cells of 4 px); features at a quarter of the input's size.
        const int w = 160, h = 96, fw = w / 4, fh = h / 4;
        using var blender = new TemporalBlender { MotionCompensation = true };
        using var input0 = Render(w, h, (u, v) => (u, v), sharp: true);
        using var input1 = Render(w, h, (u, v) => (u - 8, v), sharp: true);
        using var history = Features(fw, fh, 2, 0);
        blender.Blend(history, input0, 1f);
        using var current = Features(fw, fh, 2, 100);
        using var expectedCurrent = Features(fw, fh, 2, 100);
        blender.Blend(current, input1, 1f);
        var motion = blender.LastMotion;
        Assert.True(CornerError(motion, Motion.Translation(8, 0, w, h), w, h) < 0.1f, $"{motion}");
        var f = current.PlaneSpan(1);
        // Far from the revealed strip at the left: the history of the cell 2 to the left, fully (s = 1).
        float At(PlanarImage image, int x, int y) => image.PlaneSpan(1)[y * fw + x];
        Assert.Equal(At(history, 20 - 2, 12), f[12 * fw + 20], 0.05f);
        Assert.Equal(At(history, 35 - 2, 5), f[5 * fw + 35], 0.05f);
        // The revealed strip (8 px) and the margin beside it: the current frame.
        Assert.Equal(At(expectedCurrent, 0, 12), f[12 * fw], 1e-4f);
        Assert.Equal(At(expectedCurrent, 2, 12), f[12 * fw + 2], 1e-4f);
    }

    [Fact]
    public void PixelsFromOutsideThePreviousFrameTakeTheCurrentFrame()
    {
        // The left of the scene is flat, so the revealed strip looks just like the previous frame's border (which a
        // border-clamped warp repeats): only the rule "a source outside the previous frame is a change" frees it.
        const int w = 160, h = 96, fw = w / 4, fh = h / 4;
        float? Flat(int c, double u) => u < 24 ? 90f + 20 * c : null;
        using var blender = new TemporalBlender { MotionCompensation = true, MotionMargin = 0 };
        using var input0 = Render(w, h, (u, v) => (u, v), over: (c, u, v) => Flat(c, u), sharp: true);
        using var input1 = Render(w, h, (u, v) => (u - 8, v), over: (c, u, v) => Flat(c, u - 8), sharp: true);
        using var history = Features(fw, fh, 2, 0);
        blender.Blend(history, input0, 1f);
        using var current = Features(fw, fh, 2, 100);
        using var expected = Features(fw, fh, 2, 100);
        blender.Blend(current, input1, 1f);
        Assert.True(CornerError(blender.LastMotion, Motion.Translation(8, 0, w, h), w, h) < 0.1f, $"{blender.LastMotion}");
        for (int y = 2; y < fh - 2; y++)
            for (int x = 0; x < 2; x++) // the 8 revealed pixels: two feature cells
                Assert.Equal(expected.PlaneSpan(0)[y * fw + x], current.PlaneSpan(0)[y * fw + x], 1e-4f);
        Assert.Equal(history.PlaneSpan(0)[12 * fw + 4 - 2], current.PlaneSpan(0)[12 * fw + 4], 0.05f); // beside it, inside: the history
    }

    [Fact]
    public void WithoutCompensationAPanGetsNoHistory()
    {
        const int w = 160, h = 96, fw = w / 4, fh = h / 4;
        using var blender = new TemporalBlender { MotionCompensation = false };
        using var input0 = Render(w, h, (u, v) => (u, v), sharp: true);
        using var input1 = Render(w, h, (u, v) => (u - 8, v), sharp: true);
        using var history = Features(fw, fh, 2, 0);
        blender.Blend(history, input0, 1f);
        using var current = Features(fw, fh, 2, 100);
        using var expected = Features(fw, fh, 2, 100);
        blender.Blend(current, input1, 1f);
        Assert.Equal(Motion.Identity, blender.LastMotion);
        int held = 0;
        for (int i = 0; i < current.PlaneLength; i++)
            if (MathF.Abs(current.PlaneSpan(1)[i] - expected.PlaneSpan(1)[i]) > 1e-3f) held++;
        Assert.True(held < current.PlaneLength / 10, $"{held} of {current.PlaneLength} cells kept history");
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.75f)]
    public void AStillCameraBlendsExactlyAsWithoutCompensation(float smoothing)
    {
        const int w = 96, h = 64;
        using var on = new TemporalBlender { MotionCompensation = true };
        using var off = new TemporalBlender { MotionCompensation = false };
        for (int t = 0; t < 4; t++)
        {
            using var input = Render(w, h, (u, v) => (u, v), noise: 3, seed: 10 + t, sharp: true);
            using var a = Features(w / 4, h / 4, 3, 10 * t);
            using var b = Features(w / 4, h / 4, 3, 10 * t);
            on.Blend(a, input, smoothing);
            off.Blend(b, input, smoothing);
            Assert.True(a.PlaneSpan(0).SequenceEqual(b.PlaneSpan(0)) && a.PlaneSpan(2).SequenceEqual(b.PlaneSpan(2)), $"frame {t} differs: motion {on.LastMotion}, cost {on.LastMotionCost}");
            Assert.Equal(off.LastMeanChange, on.LastMeanChange);
        }
    }

    [Fact]
    public void ACutStillRestartsTheHistory()
    {
        const int w = 160, h = 96;
        using var blender = new TemporalBlender { MotionCompensation = true };
        using var shot1 = Render(w, h, (u, v) => (u, v));
        using var shot2 = Render(w, h, (u, v) => (u, v), over: (c, u, v) => (float)(127 + 120 * Math.Sign(Math.Sin(u * 0.2) * Math.Cos(v * 0.15 + c))));
        using var f0 = Features(w / 4, h / 4, 2, 0);
        using var f1 = Features(w / 4, h / 4, 2, 100);
        using var expected = Features(w / 4, h / 4, 2, 100);
        blender.Blend(f0, shot1, 1f);
        blender.Blend(f1, shot2, 1f);
        Assert.Equal(1, blender.Resets);
        Assert.True(f1.PlaneSpan(0).SequenceEqual(expected.PlaneSpan(0)));
    }
}
