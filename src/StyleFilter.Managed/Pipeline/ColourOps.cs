using System.Numerics;

namespace StyleFilter.Pipeline;

/// <summary>Per-pixel maths on RGB planes in 0..255, vectorised with System.Numerics.Vector.</summary>
public static class ColourOps
{
    // BT.601 luma weights: the same ones the temporal mask and colour preservation use.
    public const float Kr = 0.299f, Kg = 0.587f, Kb = 0.114f;

    /// <summary>
    /// Colour preservation: keep the input's chroma and take the stylised luminance. With Y = Kr R + Kg G + Kb B,
    /// out = input + (Y_stylised - Y_input) on each channel leaves R - Y and B - Y (the chroma) unchanged.
    /// </summary>
    public static void PreserveColour(PlanarImage stylised, PlanarImage input)
    {
        Span<float> sr = stylised.PlaneSpan(0), sg = stylised.PlaneSpan(1), sb = stylised.PlaneSpan(2);
        ReadOnlySpan<float> ir = input.PlaneSpan(0), ig = input.PlaneSpan(1), ib = input.PlaneSpan(2);
        var kr = new Vector<float>(Kr); var kg = new Vector<float>(Kg); var kb = new Vector<float>(Kb);
        int n = sr.Length, x = 0;
        for (; x + Vector<float>.Count <= n; x += Vector<float>.Count)
        {
            var r = new Vector<float>(ir[x..]); var g = new Vector<float>(ig[x..]); var b = new Vector<float>(ib[x..]);
            var dy = kr * new Vector<float>(sr[x..]) + kg * new Vector<float>(sg[x..]) + kb * new Vector<float>(sb[x..]) - (kr * r + kg * g + kb * b);
            (r + dy).CopyTo(sr[x..]); (g + dy).CopyTo(sg[x..]); (b + dy).CopyTo(sb[x..]);
        }
        for (; x < n; x++)
        {
            float dy = Kr * sr[x] + Kg * sg[x] + Kb * sb[x] - (Kr * ir[x] + Kg * ig[x] + Kb * ib[x]);
            sr[x] = ir[x] + dy; sg[x] = ig[x] + dy; sb[x] = ib[x] + dy;
        }
    }

    /// <summary>Style strength: out = input + alpha (stylised - input), written into <paramref name="stylised"/>.</summary>
    public static void Lerp(PlanarImage stylised, PlanarImage input, float alpha)
    {
        var a = new Vector<float>(alpha);
        for (int p = 0; p < 3; p++)
        {
            Span<float> s = stylised.PlaneSpan(p);
            ReadOnlySpan<float> i = input.PlaneSpan(p);
            int x = 0;
            for (; x + Vector<float>.Count <= s.Length; x += Vector<float>.Count)
            {
                var vi = new Vector<float>(i[x..]);
                (vi + (new Vector<float>(s[x..]) - vi) * a).CopyTo(s[x..]);
            }
            for (; x < s.Length; x++) s[x] = i[x] + (s[x] - i[x]) * alpha;
        }
    }

    public static float Luma(float r, float g, float b) => Kr * r + Kg * g + Kb * b;
}
