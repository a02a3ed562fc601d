namespace StyleFilter.Pipeline;

/// <summary>
/// A global motion between two frames as the affine map from a pixel of the current frame to where it was in the
/// previous one: x_prev = A x + B y + C, y_prev = D x + E y + F, in normalised coordinates where -1 and 1 are the
/// outer edges of the frame (ONNX GridSample with align_corners = 0). Being normalised, the same map applies at any
/// resolution of the same picture: the model input, the encoder's features, the estimator's pyramid.
/// Covers pan, zoom, rotation and the perspective-free part of a tilt.
/// </summary>
public readonly record struct Motion(float A, float B, float C, float D, float E, float F)
{
    public static readonly Motion Identity = new(1, 0, 0, 0, 1, 0);

    public bool IsIdentity => this == Identity;

    /// <summary>Normalised coordinate of the centre of pixel <paramref name="i"/> of <paramref name="length"/>.</summary>
    public static float Normalised(int i, int length) => (2 * i + 1) / (float)length - 1;

    /// <summary>The previous frame's pixel position (pixel-centre index, unclamped) of pixel (x, y) of a width x height picture.</summary>
    public (float X, float Y) Source(int x, int y, int width, int height)
    {
        float nx = Normalised(x, width), ny = Normalised(y, height);
        float gx = A * nx + B * ny + C, gy = D * nx + E * ny + F;
        return (((gx + 1) * width - 1) / 2, ((gy + 1) * height - 1) / 2); // GridSample's denormalisation
    }

    /// <summary>The largest displacement, in pixels of a width x height picture, over its four corners.</summary>
    public float LargestShift(int width, int height)
    {
        float largest = 0;
        for (int corner = 0; corner < 4; corner++)
        {
            float nx = corner % 2 == 0 ? -1 : 1, ny = corner < 2 ? -1 : 1;
            float dx = (A * nx + B * ny + C - nx) * width / 2, dy = (D * nx + E * ny + F - ny) * height / 2;
            largest = MathF.Max(largest, MathF.Sqrt(dx * dx + dy * dy));
        }
        return largest;
    }

    /// <summary>The content moved by (dx, dy) pixels of a width x height picture: each pixel was (dx, dy) back in the previous frame.</summary>
    public static Motion Translation(float dx, float dy, int width, int height) => new(1, 0, -2 * dx / width, 0, 1, -2 * dy / height);

    /// <summary>The content grew by <paramref name="zoom"/> about the centre, and then moved by (dx, dy) pixels.</summary>
    public static Motion Zoom(float zoom, int width, int height, float dx = 0, float dy = 0) =>
        new(1 / zoom, 0, -2 * dx / width / zoom, 0, 1 / zoom, -2 * dy / height / zoom);

    public override string ToString() => $"[{A:F5} {B:F5} {C:F5}; {D:F5} {E:F5} {F:F5}]";
}
