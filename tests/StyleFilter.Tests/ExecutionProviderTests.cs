using Microsoft.Extensions.Logging;
using Xunit;

namespace StyleFilter.Tests;

/// <summary>Provider choice and its fallbacks. On a machine without NVIDIA libraries (CI) every GPU request
/// lands on the CPU with a reason; where the CUDA provider is installed the same tests check it is chosen.</summary>
public class ExecutionProviderTests
{
    private static (StyleEngine Engine, LogCapture Log) Load(ExecutionDevice device)
    {
        var capture = new LogCapture();
        var engine = new StyleEngine(new EngineOptions { Device = device, IntraOpThreads = 1 }, capture.Factory());
        engine.LoadStyle(TestPaths.TestModel("zoo_dynamic.onnx"));
        return (engine, capture);
    }

    [Fact]
    public void CpuAsksForNothingElse()
    {
        var (engine, _) = Load(ExecutionDevice.Cpu);
        using (engine)
        {
            Assert.Equal("CPU", engine.Provider.Provider);
            Assert.Empty(engine.Provider.Fallbacks);
            Assert.Equal("CPU", engine.Stats.Provider);
        }
    }

    [Fact]
    public void AutoExplainsEveryProviderItPassedOver()
    {
        var (engine, log) = Load(ExecutionDevice.Auto);
        using (engine)
        {
            var choice = engine.Provider;
            Assert.Contains(choice.Fallbacks, f => f.StartsWith("TensorRT:") || choice.Provider == "TensorRT");
            if (choice.Provider == "CPU")
            {
                Assert.Contains(choice.Fallbacks, f => f.StartsWith("Cuda:") && f.Length > "Cuda: ".Length);
                Assert.Contains(choice.Fallbacks, f => f.StartsWith("DirectML:"));
            }
            Assert.Contains(log.Lines, l => l.Text.Contains("execution provider: " + choice.Provider));
            Assert.Equal(choice.Provider, engine.Stats.Provider);
            // Whatever runs it, the style works.
            var input = TestFrames.Rgba(32, 32);
            Assert.True(TestFrames.MeanAbsDiff(input, TestFrames.Run(engine, input, 32, 32)) > 5);
        }
    }

    [Fact]
    public void UnavailableGpuFallsBackToCpuWithAWarning()
    {
        var (engine, log) = Load(ExecutionDevice.Cuda);
        using (engine)
        {
            if (engine.Provider.Provider == "CUDA") return; // a machine with the CUDA provider: nothing to fall back from
            Assert.Equal("CPU", engine.Provider.Provider);
            Assert.Contains(log.Lines, l => l.Level == LogLevel.Warning && l.Text.Contains("Cuda is not available"));
        }
    }

    [Fact]
    public void DirectMlOffWindowsFallsBack()
    {
        if (OperatingSystem.IsWindows()) return;
        var (engine, _) = Load(ExecutionDevice.DirectML);
        using (engine)
        {
            Assert.Equal("CPU", engine.Provider.Provider);
            Assert.Contains(engine.Provider.Fallbacks, f => f.Contains("Windows"));
        }
    }
}
