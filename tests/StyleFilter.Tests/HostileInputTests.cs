using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace StyleFilter.Tests;

/// <summary>
/// Issue 12: inputs, model files and settings a careless user or a hostile file can produce. Each test names the
/// failure it guards against; all of them failed before the fixes (crash, NaN frames, hang, or a wrong success).
/// The ABI-level cases (options struct at a page end, double parameters) are in tests/abi/fuzz_abi.c, and every
/// broken model of build/make_broken_models.py goes through the ABI and the CLI in tests/abi/.
/// </summary>
public class HostileInputTests
{
    private static StyleFilterException Fails(Action action, StatusCode code) => TestFrames.Fails(action, code);

    private static float[] FloatFrame(int width, int height, int seed)
    {
        var rgba = TestFrames.ToFloat(TestFrames.Rgba(width, height, seed: seed));
        return rgba;
    }

    private static unsafe float[] Process(StyleEngine engine, float[] input, int width, int height)
    {
        var output = new float[input.Length];
        fixed (float* i = input)
        fixed (float* o = output)
            engine.Process(new FrameBuffer((nint)i, width, height, width * 16, PixelFormat.Rgba32F),
                           new FrameBuffer((nint)o, width, height, width * 16, PixelFormat.Rgba32F));
        return output;
    }

    [Theory]
    [InlineData("zoo_dynamic.onnx")]
    [InlineData("pack_basic")]
    public void NonFiniteInputPixelsNeverPoisonTheStream(string model)
    {
        // Before: one NaN pixel made the whole output NaN with SF_OK, and every later clean frame stayed NaN.
        using var engine = TestFrames.Engine(model, smoothing: 0.9f);
        var clean = FloatFrame(64, 48, 1);
        Process(engine, clean, 64, 48);
        foreach (var bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue })
        {
            var poisoned = (float[])clean.Clone();
            poisoned[4 * (20 * 64 + 30)] = bad;
            poisoned[4 * (5 * 64 + 3) + 2] = bad;
            Assert.All(Process(engine, poisoned, 64, 48), v => Assert.True(float.IsFinite(v)));
            Assert.All(Process(engine, clean, 64, 48), v => Assert.True(float.IsFinite(v)));
        }
        Assert.Equal(0, engine.Stats.PassThroughFrames);
    }

    [Theory]
    [InlineData(1, 1, 1f)]
    [InlineData(2, 2, 1f)]
    [InlineData(5, 5, 1f)]
    [InlineData(9, 9, 0.5f)]
    [InlineData(20, 20, 0.25f)]
    [InlineData(641, 1, 1f)]
    [InlineData(1, 300, 1f)]
    [InlineData(16384, 1, 0.25f)]
    [InlineData(33, 7, 1e-6f)]
    public void TinyAndThinFramesAreStylised(int width, int height, float scale)
    {
        // Before: a side that rounded to 4 px or less failed the network's reflection padding (pass-through).
        foreach (var model in new[] { "zoo_dynamic.onnx", "pack_basic" })
        {
            using var engine = TestFrames.Engine(model);
            engine.InferenceScale = scale;
            var input = TestFrames.Rgba(width, height);
            var output = TestFrames.Run(engine, input, width, height);
            Assert.Equal(0, engine.Stats.PassThroughFrames);
            Assert.NotEqual(input, output);
        }
    }

    [Fact]
    public void ThreadCountsBeyondTheCoresAreLoweredAndOutOfRangeOnesRefused()
    {
        // Before: 1024 intra-op threads made 2,049 threads and a 64x64 frame took 95 s.
        var clock = Stopwatch.StartNew();
        using (var engine = new StyleEngine(new EngineOptions { IntraOpThreads = EngineOptions.MaxIntraOpThreads }))
        {
            engine.LoadStyle(TestPaths.TestModel("zoo_dynamic.onnx"));
            TestFrames.Run(engine, TestFrames.Rgba(64, 64), 64, 64);
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        Fails(() => new StyleEngine(new EngineOptions { IntraOpThreads = EngineOptions.MaxIntraOpThreads + 1 }), StatusCode.InvalidArgument);
    }

    [Fact]
    public void StyleMixWeightsNearFloatMaxAreNormalisedNotZeroed()
    {
        // Before: the float sum overflowed to inf and every weight became 0 (with OK).
        using var engine = TestFrames.Engine("pack_mix");
        var input = TestFrames.Rgba(32, 32);
        engine.SetStyleMix([1, 1]);
        var half = TestFrames.Run(engine, input, 32, 32);
        engine.SetStyleMix([3e38f, 3e38f]);
        Assert.Equal(half, TestFrames.Run(engine, input, 32, 32));
    }

    [Fact]
    public void AFifoAsModelFailsAtOnce()
    {
        // Before: opening it blocked sf_engine_load_style (and the CLI) forever.
        var dir = TempDir();
        var fifo = Path.Combine(dir, "style.onnx");
        Assert.Equal(0, Mkfifo(fifo));
        var pack = Path.Combine(dir, "pack");
        Directory.CreateDirectory(pack);
        WriteManifest(pack, encoder: "encoder.onnx");
        Assert.Equal(0, Mkfifo(Path.Combine(pack, "encoder.onnx")));
        File.Copy(TestPaths.TestModel("pack_basic/decoder.onnx"), Path.Combine(pack, "decoder.onnx"));
        using var engine = TestFrames.Engine("identity.onnx");
        foreach (var path in new[] { fifo, pack, "/dev/zero" })
        {
            var load = Task.Run(() => Fails(() => engine.LoadStyle(path), StatusCode.ModelError));
            Assert.True(load.Wait(TimeSpan.FromSeconds(20)), $"loading {path} hangs");
            Assert.Contains(path == pack ? "encoder.onnx" : path, load.Result.Message);
        }
        Assert.Equal("identity", engine.Style!.Name);
    }

    [Theory]
    [InlineData("../outside/encoder.onnx")]
    [InlineData("/etc/passwd")]
    [InlineData("sub/encoder.onnx")]
    [InlineData("link.onnx")]
    public void PacksCannotNameFilesOutsideThemselves(string encoder)
    {
        // Before: "../../other/encoder.onnx" or an absolute path loaded and ran, and /etc/passwd was opened.
        var dir = TempDir();
        var outside = Path.Combine(dir, "outside");
        Directory.CreateDirectory(outside);
        File.Copy(TestPaths.TestModel("pack_basic/encoder.onnx"), Path.Combine(outside, "encoder.onnx"));
        var pack = Path.Combine(dir, "pack");
        Directory.CreateDirectory(Path.Combine(pack, "sub"));
        File.Copy(TestPaths.TestModel("pack_basic/encoder.onnx"), Path.Combine(pack, "sub", "encoder.onnx"));
        File.CreateSymbolicLink(Path.Combine(pack, "link.onnx"), Path.Combine(outside, "encoder.onnx"));
        File.Copy(TestPaths.TestModel("pack_basic/decoder.onnx"), Path.Combine(pack, "decoder.onnx"));
        WriteManifest(pack, encoder);
        using var engine = TestFrames.Engine("identity.onnx");
        var e = Fails(() => engine.LoadStyle(pack), StatusCode.ModelError);
        Assert.Contains(pack, e.Message);
        Assert.Contains(encoder == "link.onnx" ? "outside the pack" : encoder, e.Message);
    }

    [Fact]
    public void ALinkToAFileOfThePackItselfIsFine()
    {
        var pack = Path.Combine(TempDir(), "pack");
        Directory.CreateDirectory(pack);
        File.Copy(TestPaths.TestModel("pack_basic/encoder.onnx"), Path.Combine(pack, "real.onnx"));
        File.CreateSymbolicLink(Path.Combine(pack, "encoder.onnx"), "real.onnx");
        File.Copy(TestPaths.TestModel("pack_basic/decoder.onnx"), Path.Combine(pack, "decoder.onnx"));
        WriteManifest(pack, "encoder.onnx");
        using var engine = TestFrames.Engine("identity.onnx");
        engine.LoadStyle(pack);
    }

    [Theory]
    [InlineData("[1, 2]", "a list")]
    [InlineData("\"text\"", "the text")]
    [InlineData("null", "null")]
    [InlineData("{\"format\": \"stylefilter.pack\", \"version\": \"1\"}", "version")]
    [InlineData("{\"format\": \"stylefilter.pack\", \"version\": 1, \"multiple\": \"4\"}", "multiple")]
    [InlineData("{\"format\": \"stylefilter.pack\", \"version\": 1, \"styles\": 3}", "styles")]
    [InlineData("{\"format\": \"stylefilter.pack\", \"version\": 1, \"styles\": [1, 2], \"style_input\": \"s\"}", "styles")]
    public void MalformedManifestsAreModelErrorsThatNameThePack(string manifest, string mentioned)
    {
        // Before: SF_ERR_INTERNAL with .NET exception text and no file name.
        var pack = Path.Combine(TempDir(), "pack");
        Directory.CreateDirectory(pack);
        File.WriteAllText(Path.Combine(pack, "manifest.json"), manifest);
        using var engine = TestFrames.Engine("identity.onnx");
        var e = Fails(() => engine.LoadStyle(pack), StatusCode.ModelError);
        Assert.Contains(pack, e.Message);
        Assert.Contains(mentioned, e.Message);
    }

    [Fact]
    public void ASymlinkLoopIsAModelErrorNamingThePath()
    {
        var dir = TempDir();
        var loop = Path.Combine(dir, "loop.onnx");
        File.CreateSymbolicLink(loop, loop);
        using var engine = TestFrames.Engine("identity.onnx");
        Assert.Contains(loop, Fails(() => engine.LoadStyle(loop), StatusCode.ModelError).Message);
    }

    [Fact]
    public void AModelAskingForMoreMemoryThanTheCapFailsAtOnce()
    {
        // Before: an Expand to gigabytes was allocated (7.5 GB for a 96x64 frame); one bigger than the machine's free
        // memory ends in the out-of-memory killer, host and all. Now ONNX Runtime's arena is capped at half the memory (at most 4 GiB).
        var corpus = Path.Combine(TestPaths.Out, "broken-models");
        var generate = System.Diagnostics.Process.Start("/usr/bin/python3", [Path.Combine(TestPaths.RepoRoot, "build", "make_broken_models.py"), "--out", corpus])!;
        generate.WaitForExit();
        Assert.Equal(0, generate.ExitCode);
        var clock = Stopwatch.StartNew();
        using var engine = TestFrames.Engine("identity.onnx");
        var e = Fails(() => engine.LoadStyle(Path.Combine(corpus, "expand_over_memory_cap.onnx")), StatusCode.ModelError);
        Assert.Contains("expand_over_memory_cap", e.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.True(PeakResidentBytes() < Ort.OrtSession.CpuMemoryLimitBytes, $"peak {PeakResidentBytes() >> 20} MiB");
    }

    private static long PeakResidentBytes() =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:"))[6..].Trim().Split(' ')[0]) * 1024;

    private static void WriteManifest(string pack, string encoder) =>
        File.WriteAllText(Path.Combine(pack, "manifest.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["format"] = "stylefilter.pack", ["version"] = 1, ["name"] = "hostile", ["encoder"] = encoder,
            ["decoder"] = "decoder.onnx", ["input"] = "image", ["features"] = "features", ["output"] = "image", ["multiple"] = 4,
        }));

    private static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "sf-hostile-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int Mkfifo(string path, uint mode = 0x180 /* 0600 */);
}

/// <summary>
/// ONNX Runtime's environment is process-wide, so its messages go to the most recently created engine's logger:
/// this test runs alone, so that no other test's engine takes them.
/// </summary>
[Collection(nameof(OrtLogTests))]
[CollectionDefinition(nameof(OrtLogTests), DisableParallelization = true)]
public class OrtLogTests
{
    [Fact]
    public void OnnxRuntimesOwnMessagesGoToTheEnginesLogger()
    {
        // Before: "[E:onnxruntime:...]" lines went to stderr even with a log callback installed.
        var logger = new LogCapture();
        using var factory = logger.Factory();
        using var engine = new StyleEngine(new EngineOptions { IntraOpThreads = 1 }, factory);
        engine.LoadStyle(TestPaths.TestModel("runtime_fail.onnx"));
        var input = TestFrames.Rgba(40, 32);
        TestFrames.Fails(() => engine.Process(input, new byte[input.Length], 40, 32, PixelFormat.Rgba8), StatusCode.RuntimeError);
        Assert.Contains(logger.Lines, l => l.Text.StartsWith("ONNX Runtime: ", StringComparison.Ordinal) && l.Text.Contains("Reshape"));
    }
}
