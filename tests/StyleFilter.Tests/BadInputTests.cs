using Xunit;

namespace StyleFilter.Tests;

/// <summary>Every argument the engine refuses, with the error it gives; and pass-through where a frame exists.</summary>
public class BadInputTests
{
    private static StyleFilterException Fails(Action action, StatusCode code) => TestFrames.Fails(action, code);

    [Fact]
    public unsafe void BadFrameDescriptionsAreInvalidArguments()
    {
        using var engine = TestFrames.Engine("identity.onnx");
        var buffer = new byte[64 * 64 * 16];
        fixed (byte* p = buffer)
        {
            var good = new FrameBuffer((nint)p, 16, 16, 64, PixelFormat.Rgba8);
            Fails(() => engine.Process(good with { Data = 0 }, good), StatusCode.InvalidArgument);
            Fails(() => engine.Process(good, good with { Data = 0 }), StatusCode.InvalidArgument);
            Fails(() => engine.Process(good with { Width = 0 }, good with { Width = 0 }), StatusCode.InvalidArgument);
            Fails(() => engine.Process(good with { Height = -4 }, good with { Height = -4 }), StatusCode.InvalidArgument);
            Fails(() => engine.Process(good with { Width = 100000 }, good with { Width = 100000 }), StatusCode.InvalidArgument);
            Fails(() => engine.Process(good with { Stride = 63 }, good), StatusCode.InvalidArgument);
            Fails(() => engine.Process(good with { Format = (PixelFormat)99 }, good), StatusCode.InvalidArgument);
            Fails(() => engine.Process(good, good with { Width = 8 }), StatusCode.InvalidArgument);
            Fails(() => engine.Process(good with { Format = PixelFormat.Rgba32F, Stride = 16 * 16 + 2 }, good), StatusCode.InvalidArgument);
        }
        Fails(() => engine.Process(new byte[10], new byte[10], 16, 16, PixelFormat.Rgba8), StatusCode.InvalidArgument);
    }

    [Fact]
    public void BadParametersAreRefused()
    {
        using var engine = new StyleEngine();
        Fails(() => engine.Alpha = 1.5f, StatusCode.InvalidArgument);
        Fails(() => engine.Alpha = float.NaN, StatusCode.InvalidArgument);
        Fails(() => engine.Smoothing = -0.1f, StatusCode.InvalidArgument);
        Fails(() => engine.InferenceScale = 0, StatusCode.InvalidArgument);
        Fails(() => engine.InferenceScale = float.PositiveInfinity, StatusCode.InvalidArgument);
        Fails(() => engine.LoadStyle(""), StatusCode.InvalidArgument);
        Fails(() => new StyleEngine(new EngineOptions { IntraOpThreads = -1 }), StatusCode.InvalidArgument);
        Fails(() => new StyleEngine(new EngineOptions { Device = (ExecutionDevice)42 }), StatusCode.InvalidArgument);
    }

    [Fact]
    public void NoStyleMeansPassThrough()
    {
        using var engine = new StyleEngine();
        var input = TestFrames.Rgba(20, 10);
        var output = new byte[input.Length];
        Fails(() => engine.Process(input, output, 20, 10, PixelFormat.Rgba8), StatusCode.NoStyle);
        Assert.Equal(input, output);
        Assert.Equal(1, engine.Stats.PassThroughFrames);
    }

    [Fact]
    public void CallsAfterDisposeAreInvalidHandle()
    {
        var engine = TestFrames.Engine("identity.onnx");
        engine.Dispose();
        var input = TestFrames.Rgba(8, 8);
        Fails(() => engine.Process(input, new byte[input.Length], 8, 8, PixelFormat.Rgba8), StatusCode.InvalidHandle);
        Fails(() => engine.LoadStyle(TestPaths.TestModel("identity.onnx")), StatusCode.InvalidHandle);
        Fails(() => engine.ResetHistory(), StatusCode.InvalidHandle);
        engine.Dispose(); // twice is harmless
    }

    [Fact]
    public void ModelFailingAtRunTimeGivesPassThrough()
    {
        // runtime_fail.onnx loads, but reshapes to 1x3x64x64 and so fails on any other size.
        using var engine = TestFrames.Engine("runtime_fail.onnx");
        var ok = TestFrames.Rgba(64, 64);
        TestFrames.Run(engine, ok, 64, 64);
        var input = TestFrames.Rgba(40, 32);
        var output = new byte[input.Length];
        var e = Fails(() => engine.Process(input, output, 40, 32, PixelFormat.Rgba8), StatusCode.RuntimeError);
        Assert.Contains("runtime_fail", e.Message);
        Assert.Equal(input, output);
        Assert.Equal(1, engine.Stats.PassThroughFrames);
        Assert.Equal(2, engine.Stats.Frames);
    }

    [Fact]
    public void LoadingInTheBackgroundWhileProcessingIsSafe()
    {
        using var engine = TestFrames.Engine("zoo_dynamic.onnx");
        var input = TestFrames.Rgba(64, 48);
        var output = new byte[input.Length];
        var loader = Task.Run(() =>
        {
            for (int i = 0; i < 4; i++) engine.LoadStyle(TestPaths.TestModel(i % 2 == 0 ? "pack_basic" : "zoo_dynamic.onnx"));
        });
        while (!loader.IsCompleted) engine.Process(input, output, 64, 48, PixelFormat.Rgba8);
        loader.GetAwaiter().GetResult();
        Assert.Equal("zoo_dynamic", engine.Style!.Name);
    }
}
