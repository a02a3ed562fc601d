using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace StyleFilter.Ort;

/// <summary>A float tensor in memory we own (64-byte aligned, never moved), wrapped as an OrtValue.</summary>
public sealed unsafe class OrtTensor : IDisposable
{
    public float* Data { get; private set; }
    public long[] Shape { get; }
    public long Length { get; }
    public OrtValue Value { get; }
    public Span<float> Span => new(Data, checked((int)Length));

    public OrtTensor(params long[] shape)
    {
        Shape = shape;
        Length = shape.Aggregate(1L, (a, d) => a * d);
        if (Length <= 0 || shape.Any(d => d <= 0))
            throw new StyleFilterException(StatusCode.InvalidArgument, $"bad tensor shape [{string.Join(',', shape)}]");
        OrtRuntime.EnsureLoaded();
        long bytes = Length * sizeof(float);
        Data = (float*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        new Span<float>(Data, checked((int)Length)).Clear();
        try
        {
            Value = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, shape, (nint)Data, bytes);
        }
        catch (OnnxRuntimeException e)
        {
            NativeMemory.AlignedFree(Data);
            Data = null;
            throw new OrtException($"making a [{string.Join(',', shape)}] tensor", e);
        }
    }

    public bool HasShape(ReadOnlySpan<long> shape) => shape.SequenceEqual(Shape);

    /// <summary>Shape of a value ONNX Runtime allocated.</summary>
    public static long[] ShapeOf(OrtValue value) => value.GetTensorTypeAndShape().Shape;

    /// <summary>Copies a float tensor ONNX Runtime allocated into a new tensor we own, then disposes the original.</summary>
    public static OrtTensor Adopt(OrtValue value)
    {
        using (value)
        {
            var info = value.GetTensorTypeAndShape();
            if (info.ElementDataType != TensorElementType.Float)
                throw new StyleFilterException(StatusCode.ModelError, $"the model produced a tensor of {info.ElementDataType}; expected float");
            var tensor = new OrtTensor(info.Shape);
            value.GetTensorDataAsSpan<float>().CopyTo(tensor.Span);
            return tensor;
        }
    }

    public void Dispose()
    {
        Value?.Dispose();
        if (Data != null) NativeMemory.AlignedFree(Data);
        Data = null;
    }
}
