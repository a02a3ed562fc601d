using System.Numerics;

namespace StyleFilter.Pipeline;

/// <summary>Per-pixel maths on RGB channel runs in 0..255, vectorised with System.Numerics.Vector.</summary>
public static class ColourOps
{
    // BT.601 luma weights: the same ones the temporal mask and colour preservation use.
    public const float Kr = 0.299f, Kg = 0.587f, Kb = 0.114f;

    /// <summary>
    /// Colour preservation on one row: keep the input's chroma and take the stylised luminance. With
    /// Y = Kr R + Kg G + Kb B, out = input + (Y_stylised - Y_input) on each channel leaves R - Y and B - Y (the
    /// chroma) unchanged. The stylised runs are overwritten.
    /// </summary>
    public static void PreserveColour(Span<float> sr, Span<float> sg, Span<float> sb, ReadOnlySpan<float> ir, ReadOnlySpan<float> ig, ReadOnlySpan<float> ib)
    {
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

    /// <summary>Style strength on one channel run: s = i + alpha (s - i), where s is the stylised run and i the input's.</summary>
    public static void Lerp(Span<float> s, ReadOnlySpan<float> i, float alpha)
    {
        var a = new Vector<float>(alpha);
        int x = 0;
        for (; x + Vector<float>.Count <= s.Length; x += Vector<float>.Count)
        {
            var vi = new Vector<float>(i[x..]);
            (vi + (new Vector<float>(s[x..]) - vi) * a).CopyTo(s[x..]);
        }
        for (; x < s.Length; x++) s[x] = i[x] + (s[x] - i[x]) * alpha;
    }
}
