using System.Runtime.InteropServices;
using static StyleFilter.Ort.OrtApi;

namespace StyleFilter.Ort;

/// <summary>A float tensor in memory we own (64-byte aligned, never moved), wrapped as an OrtValue.</summary>
public sealed unsafe class OrtTensor : IDisposable
{
    private static readonly Lazy<nint> CpuMemory = new(() =>
    {
        nint info;
        Check(((delegate* unmanaged[Cdecl]<int, int, nint*, nint>)Fn(Slot.CreateCpuMemoryInfo))(0 /* device allocator */, 0 /* default mem */, &info), "CreateCpuMemoryInfo");
        return info;
    });

    public float* Data { get; private set; }
    public long[] Shape { get; }
    public long Length { get; }
    public nint Value { get; private set; }
    public Span<float> Span => new(Data, checked((int)Length));

    public OrtTensor(params long[] shape)
    {
        EnsureLoaded();
        Shape = shape;
        Length = shape.Aggregate(1L, (a, d) => a * d);
        if (Length <= 0) throw new StyleFilterException(StatusCode.InvalidArgument, $"bad tensor shape [{string.Join(',', shape)}]");
        Data = (float*)NativeMemory.AlignedAlloc((nuint)(Length * sizeof(float)), 64);
        new Span<float>(Data, checked((int)Length)).Clear();
        nint value;
        fixed (long* s = shape)
            Check(((delegate* unmanaged[Cdecl]<nint, void*, nuint, long*, nuint, int, nint*, nint>)Fn(Slot.CreateTensorWithDataAsOrtValue))(
                CpuMemory.Value, Data, (nuint)(Length * sizeof(float)), s, (nuint)shape.Length, TensorInfo.Float, &value), "CreateTensorWithDataAsOrtValue");
        Value = value;
    }

    public bool HasShape(ReadOnlySpan<long> shape) => shape.SequenceEqual(Shape);

    /// <summary>Shape of a value ONNX Runtime allocated.</summary>
    public static long[] ShapeOf(nint value)
    {
        nint info;
        Check(((delegate* unmanaged[Cdecl]<nint, nint*, nint>)Fn(Slot.GetTensorTypeAndShape))(value, &info), "GetTensorTypeAndShape");
        try { return OrtSession.Dimensions(info); }
        finally { Release(Slot.ReleaseTensorTypeAndShapeInfo, info); }
    }

    /// <summary>Copies a value ONNX Runtime allocated into a new tensor we own, then releases the original.</summary>
    public static OrtTensor Adopt(nint value)
    {
        try
        {
            var tensor = new OrtTensor(ShapeOf(value));
            void* src;
            Check(((delegate* unmanaged[Cdecl]<nint, void**, nint>)Fn(Slot.GetTensorMutableData))(value, &src), "GetTensorMutableData");
            new Span<float>(src, checked((int)tensor.Length)).CopyTo(tensor.Span);
            return tensor;
        }
        finally { Release(Slot.ReleaseValue, value); }
    }

    public void Dispose()
    {
        Release(Slot.ReleaseValue, Value);
        Value = 0;
        if (Data != null) NativeMemory.AlignedFree(Data);
        Data = null;
    }
}
