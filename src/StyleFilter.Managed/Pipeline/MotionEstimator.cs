namespace StyleFilter.Pipeline;

/// <summary>
/// Estimates the global motion (<see cref="Motion"/>, a similarity: pan, zoom, roll) between two frames from their <see cref="LumaPyramid"/>s:
/// an exhaustive search of whole-pixel shifts on the coarsest level (so a large pan, up to <see cref="SearchRadius"/>
/// coarse pixels or about a sixth of the frame, is found without a good first guess), then Gauss-Newton
/// (Lucas-Kanade, forward additive) on a similarity's four parameters (zoom, roll, pan across and down) from the coarsest level to the finest, with Tukey's
/// robust weights on the luma residual r (scale from the median residual of the step before, at least
/// <see cref="MinimumScale"/>), so that moving people and objects, whose residuals lie far outside the camera
/// noise's, do not pull on the camera's motion. A result that does not explain the frames better than no motion, or that no camera
/// makes (a zoom beyond 25 % or a jump of half the frame in one frame), is no motion; so is one under
/// <see cref="SnapPixels"/> anywhere in the frame (a still camera then blends exactly as without compensation).
/// Local motion is left to the blend's photometric check, which gives the current frame wherever the warped previous
/// frame does not match.
/// </summary>
public sealed class MotionEstimator
{
    /// <summary>Whole-pixel search radius on the coarsest level (6 at 40 pixels wide: +-15 % of the frame per frame).</summary>
    public const int SearchRadius = 6;
    /// <summary>Luma residual (0..255) at which a pixel's weight halves in the final cost.</summary>
    public const float RobustScale = 10f;
    /// <summary>Smallest Tukey cut-off (luma levels): residuals beyond the cut-off get no weight.</summary>
    public const float MinimumScale = 8f;
    private const float FirstScale = 60f;
    /// <summary>Motions whose largest displacement is under this many source pixels count as none.</summary>
    public const float SnapPixels = 0.1f;
    /// <summary>A motion must lower the robust cost of no motion by this fraction to count (noise fits a little of anything).</summary>
    public const float BetterBy = 0.03f;
    /// <summary>... and by at least this much: on a flat, noisy picture every small motion fits about as well as none.</summary>
    public const float MinimumGain = 0.002f;
    private const int CoarseIterations = 10, FineIterations = 5;
    /// <summary>Smallest side of level 0 the estimator works on (bilinear taps need two rows and columns; a search, more).</summary>
    public const int MinimumSide = 8;
    /// <summary>Zoom, roll, pan across, pan down: a similarity, the motions a camera makes (an affine's shear is noise).</summary>
    private const int Parameters = 4;
    internal static Action<string>? Trace;

    /// <summary>Robust mean residual of the last estimate at level 0 (0 = perfect, 1 = nothing matches).</summary>
    public float LastCost { get; private set; }

    /// <summary>How <paramref name="current"/>'s pixels map into <paramref name="previous"/>; identity when the pyramids do not match in size.</summary>
    public Motion Estimate(LumaPyramid previous, LumaPyramid current)
    {
        LastCost = 0;
        if (previous.Count == 0 || previous.Count != current.Count || previous.SourceWidth != current.SourceWidth
            || previous.SourceHeight != current.SourceHeight)
            return Motion.Identity;
        // A sliver of a frame (16384x32 has a 160x1 level 0) has too few rows or columns to tell a motion from.
        if (Math.Min(current.Levels[0].Width, current.Levels[0].Height) < MinimumSide) return Motion.Identity;
        int coarsest = current.Count - 1;
        var motion = CoarseSearch(previous.Levels[coarsest], current.Levels[coarsest]);
        float scale = FirstScale;
        Trace?.Invoke($"coarse {motion} at {current.Levels[coarsest].Width}x{current.Levels[coarsest].Height}");
        for (int level = coarsest; level >= 0; level--)
        {
            motion = Refine(previous.Levels[level], current.Levels[level], motion, level == coarsest ? CoarseIterations : FineIterations, ref scale);
            Trace?.Invoke($"level {level} {motion}");
        }

        var p0 = previous.Levels[0];
        var c0 = current.Levels[0];
        float cost = Cost(p0, c0, motion), still = Cost(p0, c0, Motion.Identity);
        LastCost = MathF.Min(cost, still);
        Trace?.Invoke($"cost {cost} still {still}");
        if (!(cost < still * (1 - BetterBy) && still - cost > MinimumGain) || !Plausible(motion) || motion.LargestShift(current.SourceWidth, current.SourceHeight) < SnapPixels)
        {
            LastCost = still;
            return Motion.Identity;
        }
        return motion;
    }

    private static bool Plausible(Motion m) =>
        float.IsFinite(m.A + m.B + m.C + m.D + m.E + m.F) && MathF.Abs(m.A - 1) <= 0.25f && MathF.Abs(m.E - 1) <= 0.25f
        && MathF.Abs(m.B) <= 0.25f && MathF.Abs(m.D) <= 0.25f && MathF.Abs(m.C) <= 0.5f && MathF.Abs(m.F) <= 0.5f;

    /// <summary>The whole-pixel shift of the coarsest level with the smallest mean truncated difference (ties: the smaller shift).</summary>
    private static Motion CoarseSearch(LumaPyramid.Level previous, LumaPyramid.Level current)
    {
        int w = current.Width, h = current.Height;
        ReadOnlySpan<float> prev = previous.Image.PlaneSpan(0), cur = current.Image.PlaneSpan(0);
        float best = float.MaxValue;
        int bestX = 0, bestY = 0;
        // Nearest shifts first, so a tie keeps the smaller one.
        for (int radius = 0; radius <= SearchRadius; radius++)
            for (int dy = -radius; dy <= radius; dy++)
                for (int dx = -radius; dx <= radius; dx++)
                {
                    if (Math.Max(Math.Abs(dx), Math.Abs(dy)) != radius) continue;
                    int x0 = Math.Max(0, -dx), x1 = Math.Min(w, w - dx), y0 = Math.Max(0, -dy), y1 = Math.Min(h, h - dy);
                    if ((x1 - x0) * 2 < w || (y1 - y0) * 2 < h) continue;
                    float sum = 0;
                    for (int y = y0; y < y1; y++)
                    {
                        var c = cur.Slice(y * w + x0, x1 - x0);
                        var p = prev.Slice((y + dy) * w + x0 + dx, x1 - x0);
                        for (int x = 0; x < c.Length; x++) sum += MathF.Min(MathF.Abs(p[x] - c[x]), 4 * RobustScale);
                    }
                    float mean = sum / ((x1 - x0) * (y1 - y0));
                    if (mean < best * 0.999f) (best, bestX, bestY) = (mean, dx, dy);
                }
        return new Motion(1, 0, 2f * bestX / w, 0, 1, 2f * bestY / h);
    }

    /// <summary>Gauss-Newton steps on the affine parameters at one level, stopping when a step moves no pixel by 0.01.</summary>
    private Motion Refine(LumaPyramid.Level previous, LumaPyramid.Level current, Motion motion, int iterations, ref float scale)
    {
        int w = current.Width, h = current.Height;
        ReadOnlySpan<float> prev = previous.Image.PlaneSpan(0), gradX = previous.GradX.PlaneSpan(0), gradY = previous.GradY.PlaneSpan(0);
        ReadOnlySpan<float> cur = current.Image.PlaneSpan(0);
        const int n = Parameters;
        Span<double> hessian = stackalloc double[n * n];
        Span<double> gradient = stackalloc double[n];
        Span<double> j = stackalloc double[n];
        Span<double> step = stackalloc double[n];
        float halfW = w / 2f, halfH = h / 2f;
        // Similarity in pixels (zoom and roll the same in x and y) seen in normalised coordinates: a rotation's
        // off-diagonal terms scale by the aspect ratio.
        float aspect = (float)h / w;
        Span<int> histogram = _histogram;
        for (int it = 0; it < iterations; it++)
        {
            hessian.Clear();
            gradient.Clear();
            histogram.Clear();
            float inverseCut2 = 1f / (scale * scale);
            int used = 0;
            for (int y = 0; y < h; y++)
            {
                float ny = Motion.Normalised(y, h);
                for (int x = 0; x < w; x++)
                {
                    float nx = Motion.Normalised(x, w);
                    var (sx, sy) = motion.Source(x, y, w, h);
                    if (!(sx >= 0 && sy >= 0 && sx <= w - 1 && sy <= h - 1)) continue;
                    int x0 = Math.Min((int)sx, w - 2), y0 = Math.Min((int)sy, h - 2);
                    float fx = sx - x0, fy = sy - y0;
                    int i = y0 * w + x0;
                    float value = Bilinear(prev, i, w, fx, fy), gx = Bilinear(gradX, i, w, fx, fy), gy = Bilinear(gradY, i, w, fx, fy);
                    float r = value - cur[y * w + x];
                    histogram[Math.Min((int)(MathF.Abs(r) * BinsPerLevel), histogram.Length - 1)]++;
                    used++;
                    float u = 1 - r * r * inverseCut2;
                    if (u <= 0) continue;
                    double weight = u * u; // Tukey's biweight
                    double jx = gx * halfW, jy = gy * halfH;
                    j[0] = jx * nx + jy * ny;                          // zoom
                    j[1] = -jx * ny * aspect + jy * nx / aspect;       // roll
                    j[2] = jx;                                         // pan across
                    j[3] = jy;                                         // pan down
                    for (int a = 0; a < n; a++)
                    {
                        double wa = weight * j[a];
                        gradient[a] += wa * r;
                        for (int b = a; b < n; b++) hessian[a * n + b] += wa * j[b];
                    }
                }
            }
            if (used < 12) break;
            scale = NextScale(histogram, used);
            for (int a = 0; a < n; a++)
                for (int b = 0; b < a; b++) hessian[a * n + b] = hessian[b * n + a];
            double trace = 0;
            for (int a = 0; a < n; a++) trace += hessian[a * (n + 1)];
            for (int a = 0; a < n; a++) hessian[a * (n + 1)] += 1e-6 * trace + 1e-9; // a flat picture leaves some directions unknown
            if (!SolveCholesky(hessian, gradient, step, n)) break;
            float zoom = (float)step[0], roll = (float)step[1];
            motion = new Motion(motion.A - zoom, motion.B + roll * aspect, motion.C - (float)step[2],
                motion.D - roll / aspect, motion.E - zoom, motion.F - (float)step[3]);
            double moved = Math.Max((Math.Abs(step[0]) + Math.Abs(step[1]) * aspect + Math.Abs(step[2])) * halfW,
                (Math.Abs(step[0]) + Math.Abs(step[1]) / aspect + Math.Abs(step[3])) * halfH);
            if (moved < 0.01) break;
        }
        return motion;
    }

    private const int BinsPerLevel = 2;
    private readonly int[] _histogram = new int[256 * BinsPerLevel];

    /// <summary>Tukey's cut-off 4.685 sigma, sigma = 1.4826 x the median absolute residual (from the histogram), at least MinimumScale.</summary>
    private static float NextScale(ReadOnlySpan<int> histogram, int count)
    {
        int half = count / 2, seen = 0, bin = 0;
        for (; bin < histogram.Length - 1; bin++)
        {
            seen += histogram[bin];
            if (seen > half) break;
        }
        float median = (bin + 0.5f) / BinsPerLevel;
        return MathF.Max(MinimumScale, 4.685f * 1.4826f * median);
    }

    private static float Bilinear(ReadOnlySpan<float> image, int i, int w, float fx, float fy)
    {
        float top = image[i] + (image[i + 1] - image[i]) * fx;
        float bottom = image[i + w] + (image[i + w + 1] - image[i + w]) * fx;
        return top + (bottom - top) * fy;
    }

    /// <summary>Mean robust cost r^2 / (c^2 + r^2) of the previous level warped by motion against the current one (in-frame pixels).</summary>
    private static float Cost(LumaPyramid.Level previous, LumaPyramid.Level current, Motion motion)
    {
        int w = current.Width, h = current.Height;
        ReadOnlySpan<float> prev = previous.Image.PlaneSpan(0), cur = current.Image.PlaneSpan(0);
        double sum = 0;
        int used = 0;
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                var (sx, sy) = motion.Source(x, y, w, h);
                if (!(sx >= 0 && sy >= 0 && sx <= w - 1 && sy <= h - 1)) continue;
                int x0 = Math.Min((int)sx, w - 2), y0 = Math.Min((int)sy, h - 2);
                float r = Bilinear(prev, y0 * w + x0, w, sx - x0, sy - y0) - cur[y * w + x];
                sum += r * r / (RobustScale * RobustScale + r * r);
                used++;
            }
        }
        return used * 4 < w * h ? 1 : (float)(sum / used); // a motion that keeps under a quarter of the frame explains nothing
    }

    /// <summary>Solves the symmetric positive definite n x n system a x = b (a is overwritten); false when it is not positive definite.</summary>
    private static bool SolveCholesky(Span<double> a, ReadOnlySpan<double> b, Span<double> x, int n)
    {
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k <= i; k++)
            {
                double sum = a[i * n + k];
                for (int m = 0; m < k; m++) sum -= a[i * n + m] * a[k * n + m];
                if (i == k)
                {
                    if (sum <= 0) return false;
                    a[i * n + i] = Math.Sqrt(sum);
                }
                else a[i * n + k] = sum / a[k * n + k];
            }
        }
        for (int i = 0; i < n; i++)
        {
            double sum = b[i];
            for (int m = 0; m < i; m++) sum -= a[i * n + m] * x[m];
            x[i] = sum / a[i * n + i];
        }
        for (int i = n - 1; i >= 0; i--)
        {
            double sum = x[i];
            for (int m = i + 1; m < n; m++) sum -= a[m * n + i] * x[m];
            x[i] = sum / a[i * n + i];
        }
        return true;
    }
}
