using Microsoft.ML.OnnxRuntime;
using StyleFilter.Ort;
using Xunit;

namespace StyleFilter.Tests;

/// <summary>The engine's thin layer over the official ONNX Runtime C# API, against the real CPU library.</summary>
public class OrtBindingTests
{
    public OrtBindingTests() => OrtRuntime.EnsureLoaded();

    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [Fact]
    public void ReportsVersionLibraryAndCpuProvider()
    {
        Assert.Equal("1.31.1", OrtRuntime.Version);
        Assert.EndsWith("libonnxruntime.so", OrtRuntime.LoadedFrom);
        Assert.Contains("CPUExecutionProvider", OrtRuntime.Env.GetAvailableProviders());
    }

    [Fact]
    public void ReadsZooSignature()
    {
        using var session = OrtSession.FromFile(TestPaths.TestModel("zoo_dynamic.onnx"), new SessionConfig(1));
        var input = Assert.Single(session.Inputs);
        Assert.Equal("input1", input.Name);
        Assert.True(input.IsFloat);
        Assert.Equal(new long[] { 1, 3, -1, -1 }, input.Shape);
        Assert.Equal("output1", Assert.Single(session.Outputs).Name);
    }

    [Fact]
    public void ReadsFixedShape()
    {
        using var session = OrtSession.FromFile(TestPaths.TestModel("zoo_fixed64.onnx"), new SessionConfig(1));
        Assert.Equal(new long[] { 1, 3, 64, 64 }, session.Inputs[0].Shape);
    }

    [Fact]
    public void RunsIdentityIntoOwnOutputAndSeesInPlaceWrites()
    {
        using var session = OrtSession.FromFile(TestPaths.TestModel("identity.onnx"), new SessionConfig(1));
        using var input = new OrtTensor(1, 3, 4, 8);
        for (int i = 0; i < input.Length; i++) input.Span[i] = i * 0.5f;
        // First run: ONNX Runtime allocates the output.
        var outputs = new OrtValue?[1];
        session.Run([input.Value], outputs, Limit);
        using var adopted = OrtTensor.Adopt(outputs[0]!);
        Assert.Equal(new long[] { 1, 3, 4, 8 }, adopted.Shape);
        Assert.True(adopted.Span.SequenceEqual(input.Span));
        // Then it writes into a tensor we own, and reads the input where we wrote it (bound once, not copied).
        using var own = new OrtTensor(1, 3, 4, 8);
        for (int frame = 1; frame <= 3; frame++)
        {
            input.Span.Fill(frame);
            session.Run([input.Value], [own.Value], Limit);
            Assert.True(own.Span.SequenceEqual(input.Span), $"frame {frame}");
        }
    }

    [Fact]
    public void WrongInputShapeIsAnError()
    {
        using var session = OrtSession.FromFile(TestPaths.TestModel("zoo_fixed64.onnx"), new SessionConfig(1));
        using var input = new OrtTensor(1, 3, 32, 32);
        var e = Assert.ThrowsAny<StyleFilterException>(() => session.Run([input.Value], new OrtValue?[1], Limit));
        Assert.Equal(StatusCode.RuntimeError, e.Code);
        Assert.Contains("zoo_fixed64", e.Message);
        Assert.DoesNotContain("[ErrorCode:", e.Message);
    }

    [Fact]
    public void CorruptAndMissingModelsAreModelErrors()
    {
        var corrupt = Assert.ThrowsAny<StyleFilterException>(() => OrtSession.FromFile(TestPaths.TestModel("corrupt.onnx"), new SessionConfig()));
        Assert.Equal(StatusCode.ModelError, corrupt.Code);
        Assert.Contains("corrupt.onnx", corrupt.Message);
        var missing = Assert.ThrowsAny<StyleFilterException>(() => OrtSession.FromFile("/nonexistent/model.onnx", new SessionConfig()));
        Assert.Equal(StatusCode.ModelError, missing.Code);
        var garbage = Assert.ThrowsAny<StyleFilterException>(() => OrtSession.FromBytes([1, 2, 3, 4], "bytes", new SessionConfig()));
        Assert.Equal(StatusCode.ModelError, garbage.Code);
    }

    [Fact]
    public void BadTensorShapeIsRejected()
    {
        Assert.Throws<StyleFilterException>(() => new OrtTensor(1, 0, 4));
        Assert.Throws<StyleFilterException>(() => new OrtTensor(1, -3, 4));
    }

    [Fact]
    public void CpuArenaCapIsHalfTheMemoryWithinItsBounds()
    {
        long half = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2;
        Assert.Equal(Math.Clamp(half, 2L << 30, uint.MaxValue), OrtSession.CpuMemoryLimitBytes);
    }
}
