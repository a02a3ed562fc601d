using System.Runtime.InteropServices;

namespace StyleFilter.Pipeline;

/// <summary>
/// An RGB(A) picture stored as separate float planes in the 0..255 range: the layout of an NCHW tensor, so
/// the same code resizes host frames and model tensors. Owns its memory unless it wraps a tensor.
/// </summary>
public sealed unsafe class PlanarImage : IDisposable
{
    private float* _owned;
    private long _capacity;

    public float* Data { get; private set; }
    public int Width { get; private set; }
    public int Height { get; private set; }
    public int Planes { get; private set; }
    public int PlaneLength => Width * Height;
    public float* Plane(int index) => Data + (long)index * PlaneLength;

    /// <summary>Sizes the image, reusing its memory when it is large enough (no allocation in steady state).</summary>
    public void Resize(int width, int height, int planes)
    {
        long needed = (long)width * height * planes;
        if (needed > _capacity)
        {
            if (_owned != null) NativeMemory.AlignedFree(_owned);
            _owned = (float*)NativeMemory.AlignedAlloc((nuint)(needed * sizeof(float)), 64);
            _capacity = needed;
        }
        Data = _owned;
        (Width, Height, Planes) = (width, height, planes);
    }

    /// <summary>Points this image at memory someone else owns (a tensor's data); it must not own any itself.</summary>
    public void Wrap(float* data, int width, int height, int planes)
    {
        if (_owned != null) throw new InvalidOperationException("an owning image cannot wrap other memory");
        Data = data; Width = width; Height = height; Planes = planes;
    }

    public Span<float> PlaneSpan(int index) => new(Plane(index), PlaneLength);

    public void CopyPlanesTo(PlanarImage target, int planes)
    {
        for (int p = 0; p < planes; p++) PlaneSpan(p).CopyTo(target.PlaneSpan(p));
    }

    public void Dispose()
    {
        if (_owned != null) NativeMemory.AlignedFree(_owned);
        _owned = null;
        Data = null;
        _capacity = 0;
    }
}
