using Xunit;

namespace StyleFilter.Tests;

/// <summary>Deterministic synthetic pictures and pixel helpers for engine tests.</summary>
public static class TestFrames
{
    /// <summary>A colourful gradient with a few blocks, shifted by (dx, dy) pixels, plus optional noise.</summary>
    public static byte[] Rgba(int width, int height, int dx = 0, int dy = 0, int noise = 0, int seed = 1, byte alpha = 255)
    {
        var rng = new Random(seed);
        var data = new byte[width * height * 4];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int sx = x - dx, sy = y - dy;
                bool block = ((sx / 16) + (sy / 16)) % 3 == 0;
                int r = block ? 220 : 40 + sx * 150 / width;
                int g = block ? 60 : 30 + sy * 180 / height;
                int b = block ? 90 : 200 - sx * 100 / width;
                int i = (y * width + x) * 4;
                data[i] = Clamp(r + Noise(rng, noise));
                data[i + 1] = Clamp(g + Noise(rng, noise));
                data[i + 2] = Clamp(b + Noise(rng, noise));
                data[i + 3] = alpha;
            }
        return data;
    }

    /// <summary>A second, unrelated picture (for scene cuts).</summary>
    public static byte[] OtherRgba(int width, int height)
    {
        var data = new byte[width * height * 4];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int i = (y * width + x) * 4;
                bool ring = (int)Math.Sqrt((x - width / 2) * (x - width / 2) + (y - height / 2) * (y - height / 2)) / 6 % 2 == 0;
                data[i] = (byte)(ring ? 250 : 10);
                data[i + 1] = (byte)(ring ? 240 : 20);
                data[i + 2] = (byte)(ring ? 30 : 160);
                data[i + 3] = 255;
            }
        return data;
    }

    private static int Noise(Random rng, int amplitude) => amplitude == 0 ? 0 : rng.Next(-amplitude, amplitude + 1);
    private static byte Clamp(int v) => (byte)Math.Clamp(v, 0, 255);

    public static byte[] SwapRb(byte[] rgba)
    {
        var o = (byte[])rgba.Clone();
        for (int i = 0; i < o.Length; i += 4) (o[i], o[i + 2]) = (o[i + 2], o[i]);
        return o;
    }

    public static float[] ToFloat(byte[] rgba) => rgba.Select(b => b / 255f).ToArray();

    /// <summary>Mean absolute difference over the RGB channels (0..255).</summary>
    public static double MeanAbsDiff(byte[] a, byte[] b)
    {
        double sum = 0; int n = 0;
        for (int i = 0; i < a.Length; i++)
        {
            if (i % 4 == 3) continue;
            sum += Math.Abs(a[i] - b[i]); n++;
        }
        return sum / n;
    }

    public static int MaxAbsDiff(byte[] a, byte[] b)
    {
        int max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }

    /// <summary>Asserts that action throws the engine's error with this code and a message.</summary>
    public static StyleFilterException Fails(Action action, StatusCode code)
    {
        var e = Assert.ThrowsAny<StyleFilterException>(action);
        Assert.Equal(code, e.Code);
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
        return e;
    }

    public static StyleEngine Engine(string model, float smoothing = 0, int threads = 1)
    {
        var engine = new StyleEngine(new EngineOptions { IntraOpThreads = threads });
        engine.LoadStyle(TestPaths.TestModel(model));
        engine.Smoothing = smoothing;
        return engine;
    }

    public static byte[] Run(StyleEngine engine, byte[] input, int width, int height)
    {
        var output = new byte[input.Length];
        engine.Process(input, output, width, height, PixelFormat.Rgba8);
        return output;
    }
}
