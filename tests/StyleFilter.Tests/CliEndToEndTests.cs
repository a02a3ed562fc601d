using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Xunit;

namespace StyleFilter.Tests;

/// <summary>
/// Runs the published CLI (out/cli/stylefilter.dll, made by build/build.sh) as a real process, on tiny clips so
/// the whole class stays fast on a 2-core CI machine.
/// </summary>
public sealed class CliEndToEndTests : IDisposable
{
    private readonly string _tmp = Path.Combine(Path.GetTempPath(), "stylefilter-cli-" + Guid.NewGuid().ToString("N")[..8]);

    public CliEndToEndTests() => Directory.CreateDirectory(_tmp);

    public void Dispose()
    {
        try { Directory.Delete(_tmp, recursive: true); }
        catch (IOException) { }
    }

    private static string CliDll => Path.Combine(TestPaths.Out, "cli", "stylefilter.dll");

    [Fact]
    public void Render_SampleClip_KeepsFramesSizeDurationAndAudio()
    {
        var clip = Path.Combine(_tmp, "clip.mp4");
        var made = Cli("sample-clip", "--output", clip, "--width", "320", "--height", "180", "--fps", "30", "--seconds", "1");
        AssertOk(made);
        using (var motion = JsonDocument.Parse(File.ReadAllText(Path.Combine(_tmp, "clip.motion.json"))))
        {
            var root = motion.RootElement;
            Assert.Equal(30, root.GetProperty("frameCount").GetInt32());
            Assert.Equal(15, root.GetProperty("cutFrame").GetInt32());
            Assert.Equal(30, root.GetProperty("frames").GetArrayLength());
            Assert.Equal(1.3, root.GetProperty("frames")[14].GetProperty("zoom").GetDouble(), 3);
        }

        var styled = Path.Combine(_tmp, "styled.mp4");
        var render = Cli("render", "--input", clip, "--output", styled, "--style", TestPaths.TestModel("zoo_dynamic.onnx"));
        AssertOk(render);
        Assert.Contains("FPS", render.StdOut);

        var input = Probe(clip);
        var output = Probe(styled);
        Assert.Equal(30, input.Frames);
        Assert.Equal(input.Frames, output.Frames);
        Assert.Equal((input.Width, input.Height), (output.Width, output.Height));
        Assert.InRange(Math.Abs(output.Duration - input.Duration), 0, 1.0 / 30 + 1e-6);
        Assert.True(output.HasAudio, "the styled clip lost its audio track");
    }

    [Fact]
    public void Render_CorruptModel_ExitsTwoWithOneReadableLine()
    {
        var model = TestPaths.TestModel("corrupt.onnx");
        var r = Cli("render", "--input", TestPaths.Content("chicago.jpg"), "--output", Path.Combine(_tmp, "x.png"), "--style", model);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("error:", r.StdErr);
        Assert.Contains(model, r.StdErr);
        Assert.DoesNotContain("   at ", r.StdErr);
        Assert.DoesNotContain("   at ", r.StdOut);
    }

    [Fact]
    public void Render_UnknownStyle_ExitsTwoAndListsBundledStyles()
    {
        var r = Cli("render", "--input", TestPaths.Content("chicago.jpg"), "--output", Path.Combine(_tmp, "x.png"), "--style", "no_such_style_xyz");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("error:", r.StdErr);
        Assert.Contains("no_such_style_xyz", r.StdErr);
        Assert.Contains("bundled", r.StdErr);
        foreach (var style in StyleCatalog.List([Path.Combine(TestPaths.Out, "cli", "models")]))
            Assert.Contains(style.Name, r.StdErr);
        Assert.DoesNotContain("   at ", r.StdErr);
    }

    [Fact]
    public void Render_MissingInput_FailsWithClearMessage()
    {
        var missing = Path.Combine(_tmp, "does_not_exist.mp4");
        var r = Cli("render", "--input", missing, "--output", Path.Combine(_tmp, "out.mp4"), "--style", TestPaths.TestModel("zoo_dynamic.onnx"));
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("error:", r.StdErr);
        Assert.Contains("does not exist", r.StdErr);
        Assert.Contains(missing, r.StdErr);
        Assert.DoesNotContain("   at ", r.StdErr);
        Assert.False(File.Exists(Path.Combine(_tmp, "out.mp4")));
    }

    [Fact]
    public void Render_StillImage_WritesPngOfTheSameSize()
    {
        var input = TestPaths.Content("chicago.jpg");
        var output = Path.Combine(_tmp, "chicago_styled.png");
        var r = Cli("render", "--input", input, "--output", output, "--style", TestPaths.TestModel("zoo_dynamic.onnx"), "--scale", "0.5");
        AssertOk(r);
        var a = Probe(input);
        var b = Probe(output);
        Assert.Equal((a.Width, a.Height), (b.Width, b.Height));
        Assert.Equal("png", b.Codec);
    }

    [Fact]
    public void Render_Lossless_KeepsTheEngineOutputExactly()
    {
        // The identity model returns its input: a lossless render must give the decoded input back (<= 1 level of
        // rounding), where the default H.264 4:2:0 output cannot.
        var clip = Path.Combine(_tmp, "clip.mp4");
        AssertOk(Cli("sample-clip", "--output", clip, "--width", "160", "--height", "96", "--seconds", "0.2"));
        var input = DecodeRgb(clip);
        int MaxDiff(string output, params string[] extra)
        {
            AssertOk(Cli(["render", "--input", clip, "--output", output, "--style", TestPaths.TestModel("identity.onnx"), "--smoothing", "0", .. extra]));
            var frames = DecodeRgb(output);
            Assert.Equal(input.Length, frames.Length);
            return input.Zip(frames, (a, b) => Math.Abs(a - b)).Max();
        }
        Assert.InRange(MaxDiff(Path.Combine(_tmp, "exact.mkv"), "--lossless"), 0, 1);
        Assert.True(MaxDiff(Path.Combine(_tmp, "lossy.mp4")) > 1, "the default encoder is lossy: the comparison above could not fail");
        Assert.Equal(2, Cli("render", "--input", clip, "--output", Path.Combine(_tmp, "x.webm"), "--style", TestPaths.TestModel("identity.onnx"), "--lossless").ExitCode);
        Assert.Equal(2, Cli("render", "--input", clip, "--output", Path.Combine(_tmp, "x.mkv"), "--style", TestPaths.TestModel("identity.onnx"), "--motion-threshold", "0").ExitCode);
    }

    [Fact]
    public void Bench_PrintsAndWritesTheTableWithTheOrtBaseline()
    {
        var (r, lines) = BenchIdentity("64x36,96x54");
        Assert.Contains("ORT p50", r.StdOut);
        Assert.Contains(lines, l => l.StartsWith("| Style | Path | Resolution |", StringComparison.Ordinal));
        foreach (var size in new[] { "64x36", "96x54" })
        {
            var row = Assert.Single(lines, l => l.Contains($"| {size} |", StringComparison.Ordinal));
            var cells = row.Split('|', StringSplitOptions.TrimEntries);
            Assert.Equal("CPU, C#", cells[2]); // the provider, and the frame path Auto chose on it
            Assert.True(double.Parse(cells[5], CultureInfo.InvariantCulture) > 0, row); // FPS
            Assert.Contains("ms (", cells[10]);                                          // overhead against ORT alone
        }
    }

    [Fact]
    public void Bench_RunsInferenceAtTheGivenHeightAndCountsTheNetworksWork()
    {
        var (r, lines) = BenchIdentity("192x108@36");
        var cells = Assert.Single(lines, l => l.Contains("| 192x108 |", StringComparison.Ordinal)).Split('|', StringSplitOptions.TrimEntries);
        Assert.Equal("64x36", cells[4]);                 // inference at 36 pixels high
        Assert.Equal("compact", cells[11]);              // a plain .onnx is a compact network, run in float
        Assert.Equal((2.0 * 3 * 3 * 64 * 36 / 1e9).ToString("F2", CultureInfo.InvariantCulture), cells[12]); // its 1x1 convolution
        Assert.Contains("1 Conv", r.StdOut);             // the kernel ONNX Runtime ran
        Assert.Equal(2, Cli("bench", "--resolutions", "64x36@").ExitCode);
    }

    [Fact]
    public void Bench_TimesBothFramePathsInOneRun()
    {
        var (_, lines) = BenchIdentity("64x36", "--paths", "managed,graphs");
        var rows = lines.Where(l => l.Contains("| 64x36 |", StringComparison.Ordinal)).ToList();
        Assert.Equal(["CPU, C#", "CPU, graphs"], rows.Select(l => l.Split('|', StringSplitOptions.TrimEntries)[2]));
        Assert.Equal(2, Cli("bench", "--paths", "gpu").ExitCode); // bad arguments
    }

    [Fact]
    public void Styles_ShowsTitlesArtistsYearsAndIdsButNotThePlaceholder()
    {
        var r = Cli("styles");
        AssertOk(r);
        var lines = r.StdOut.Split('\n');
        var bundled = StyleCatalog.List([Path.Combine(TestPaths.Out, "cli", "models")]);
        Assert.NotEmpty(bundled);
        foreach (var style in bundled)
        {
            // One row per style: the title users know it by, next to the id that --style takes.
            var row = Assert.Single(lines, l => l.Contains($" {style.Name} ", StringComparison.Ordinal));
            Assert.Contains(style.Title, row);
            if (style.Artist is not null) Assert.Contains(style.Artist, row);
            if (style.Year is not null) Assert.Contains(style.Year, row);
        }
        var starry = Assert.Single(lines, l => l.Contains(" starry_night ", StringComparison.Ordinal));
        Assert.Contains("The Starry Night", starry);
        Assert.Contains("Vincent van Gogh", starry);
        Assert.Contains("1889", starry);
        Assert.DoesNotContain("placeholder", r.StdOut, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void BadArguments_ExitTwo()
    {
        var r = Cli("render", "--input", TestPaths.Content("chicago.jpg"), "--output", Path.Combine(_tmp, "x.png"), "--style", "x", "--alpha", "3");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--alpha", r.StdErr);
        Assert.Equal(2, Cli("render", "--input", TestPaths.Content("chicago.jpg")).ExitCode); // --output/--style missing
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private sealed record Result(int ExitCode, string StdOut, string StdErr);

    /// <summary>bench on the identity model (2 timed frames, no warm-up, 1 thread) with --markdown: its output and the table's lines.</summary>
    private (Result Output, string[] Lines) BenchIdentity(string resolutions, params string[] extra)
    {
        var md = Path.Combine(_tmp, $"bench-{Guid.NewGuid():N}.md");
        var r = Cli(["bench", "--style", TestPaths.TestModel("identity.onnx"), "--resolutions", resolutions, "--frames", "2", "--warmup", "0",
            "--threads", "1", "--markdown", md, .. extra]);
        AssertOk(r);
        return (r, File.ReadAllLines(md));
    }

    private sealed record MediaFacts(int Width, int Height, long Frames, double Duration, bool HasAudio, string Codec);

    private static void AssertOk(Result r) =>
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\nstdout:\n{r.StdOut}\nstderr:\n{r.StdErr}");

    /// <summary>Every frame of a video as packed RGB bytes, through ffmpeg.</summary>
    private static byte[] DecodeRgb(string path)
    {
        var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardOutput = true, RedirectStandardError = true };
        // passthrough: one output frame per coded frame (Matroska's millisecond timestamps would otherwise get a frame duplicated).
        foreach (var a in new[] { "-v", "error", "-i", path, "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.ErrorDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        using var bytes = new MemoryStream();
        p.StandardOutput.BaseStream.CopyTo(bytes);
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return bytes.ToArray();
    }

    private static Result Cli(params string[] args)
    {
        Assert.True(File.Exists(CliDll), $"{CliDll} is missing: run build/build.sh (or dotnet publish src/StyleFilter.Cli -c Release -o out/cli)");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        return Run(dotnet, [CliDll, .. args], TimeSpan.FromMinutes(3));
    }

    private static Result Run(string exe, IEnumerable<string> args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(exe)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = TestPaths.RepoRoot,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{exe} {string.Join(' ', psi.ArgumentList)} did not finish within {timeout}");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    private static MediaFacts Probe(string path)
    {
        var r = Run("ffprobe", ["-v", "error", "-count_frames", "-show_streams", "-of", "json", path], TimeSpan.FromMinutes(1));
        Assert.True(r.ExitCode == 0, $"ffprobe {path}: {r.StdErr}");
        using var doc = JsonDocument.Parse(r.StdOut);
        var streams = doc.RootElement.GetProperty("streams").EnumerateArray().ToList();
        var video = streams.First(s => s.GetProperty("codec_type").GetString() == "video");
        var frames = video.TryGetProperty("nb_read_frames", out var n) ? long.Parse(n.GetString()!, CultureInfo.InvariantCulture) : 0;
        var duration = video.TryGetProperty("duration", out var d) ? double.Parse(d.GetString()!, CultureInfo.InvariantCulture) : 0;
        return new MediaFacts(video.GetProperty("width").GetInt32(), video.GetProperty("height").GetInt32(), frames, duration,
            streams.Any(s => s.GetProperty("codec_type").GetString() == "audio"), video.GetProperty("codec_name").GetString()!);
    }
}
