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
    public void StatsCarryTheReasonsBetterProvidersWerePassedOver()
    {
        var (engine, _) = Load(ExecutionDevice.Auto);
        using (engine)
        {
            Assert.Equal(engine.Provider.Fallbacks, engine.Stats.Fallbacks);
            Assert.NotEmpty(engine.Stats.Fallbacks); // TensorRT comes first: it is chosen or passed over with a reason
            Assert.StartsWith(engine.Stats.Provider + "; passed over TensorRT: ", engine.Stats.ProviderWithFallbacks);
        }
        Assert.Empty(default(EngineStats).Fallbacks);
    }

    /// <summary>
    /// The CPU build has no CUDA provider library; the GPU build (STYLEFILTER_GPU=1, docs/gpu.md) has it, and on a
    /// machine without NVIDIA's libraries or driver the reason names what is missing, in the loader's words.
    /// </summary>
    [Fact]
    public void CudaSaysWhatIsMissing()
    {
        if (!OperatingSystem.IsLinux()) return; // the library names below are Linux's
        var (engine, _) = Load(ExecutionDevice.Cuda);
        using (engine)
        {
            if (engine.Provider.Provider == "CUDA") return; // a machine where CUDA runs: nothing is missing
            var reason = Assert.Single(engine.Provider.Fallbacks);
            var library = Path.Combine(Path.GetDirectoryName(Ort.OrtRuntime.LoadedFrom)!, "libonnxruntime_providers_cuda.so");
            if (!File.Exists(library))
                Assert.Equal("Cuda: libonnxruntime_providers_cuda.so is not installed beside ONNX Runtime", reason);
            else
                Assert.Matches(@"^Cuda: (libonnxruntime_providers_cuda\.so does not load: lib\S+\.so[.0-9]*: cannot open shared object file|CUDAExecutionProvider found no device)", reason);
        }
    }

    [Theory]
    [InlineData( // RegisterExecutionProviderLibrary (CUDA) on a machine without CUDA 13
        "Failed to load library /opt/sf/libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: cannot open shared object file: No such file or directory",
        "libonnxruntime_providers_cuda.so does not load: libcublasLt.so.13: cannot open shared object file: No such file or directory")]
    [InlineData( // AppendExecutionProvider_Tensorrt: with the source location in front and a line end behind
        "/onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:2043 onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() [ONNXRuntimeError] : 1 : FAIL : Failed to load library /opt/sf/libonnxruntime_providers_tensorrt.so with error: libcublas.so.13: cannot open shared object file: No such file or directory\n",
        "libonnxruntime_providers_tensorrt.so does not load: libcublas.so.13: cannot open shared object file: No such file or directory")]
    [InlineData("CUDA failure 100: no CUDA-capable device is detected", "CUDA failure 100: no CUDA-capable device is detected")]
    public void ReasonsKeepTheLoadersWordsWithoutTheSourceLocation(string error, string reason) =>
        Assert.Equal(reason, Ort.ExecutionProviders.Reason(error));

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
