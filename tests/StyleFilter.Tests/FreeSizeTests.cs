using Microsoft.Extensions.Logging;
using Xunit;

namespace StyleFilter.Tests;

/// <summary>
/// Single graphs declared with a fixed input size (the ONNX model zoo's 1x3x224x224) run at the frame's inference
/// size when their graph allows it, and keep the declared size, with a warning, when it does not.
/// </summary>
public class FreeSizeTests
{
    private static (StyleEngine Engine, LogCapture Log) Load(string model)
    {
        var log = new LogCapture();
        var engine = new StyleEngine(new EngineOptions { IntraOpThreads = 1 }, log.Factory());
        engine.LoadStyle(TestPaths.TestModel(model));
        engine.Smoothing = 0;
        return (engine, log);
    }

    [Fact]
    public void AFullyConvolutionalFixedSizeModelRunsAtTheFramesSize()
    {
        // zoo_fixed64 is zoo_dynamic (same weights) declared as 1x3x64x64: at the frame's size both give the same picture,
        // where a 64x64 inference blown up to 100x60 would be a blur of it.
        var (engine, log) = Load("zoo_fixed64.onnx");
        using (engine)
        using (var dynamic = TestFrames.Engine("zoo_dynamic.onnx"))
        {
            Assert.Equal("input1[1x3x?x?]", engine.Style!.InputShape);
            Assert.Contains(log.Lines, l => l.Level == LogLevel.Information && l.Text.Contains("declares a 64x64 input, but its graph runs at any size"));
            var input = TestFrames.Rgba(100, 60, noise: 10);
            Assert.Equal(TestFrames.Run(dynamic, input, 100, 60), TestFrames.Run(engine, input, 100, 60));
        }
    }

    [Theory]
    [InlineData("fixed64_reshape.onnx", "failed on a 96x48 test frame")]   // a Reshape to 1x3x4096
    [InlineData("fixed64_output.onnx", "a 96x48 test frame came out 64x64")] // a Resize to a fixed 64x64
    public void AGraphThatHoldsToItsSizeKeepsItWithAWarning(string model, string reason)
    {
        var (engine, log) = Load(model);
        using (engine)
        {
            Assert.Equal("input1[1x3x64x64]", engine.Style!.InputShape);
            Assert.Contains(log.Lines, l => l.Level == LogLevel.Warning && l.Text.Contains("keeps its declared 64x64 input") && l.Text.Contains(reason));
            // Both halve the picture at 64x64: resized to 64x64 and back, the frame comes out about half as bright.
            var input = TestFrames.Rgba(100, 60);
            var output = TestFrames.Run(engine, input, 100, 60);
            double ratio = Mean(output) / Mean(input);
            Assert.InRange(ratio, 0.45, 0.55);
        }
    }

    private static double Mean(byte[] rgba)
    {
        double sum = 0;
        for (int i = 0; i < rgba.Length; i++) if (i % 4 != 3) sum += rgba[i];
        return sum / (rgba.Length * 3 / 4);
    }
}
