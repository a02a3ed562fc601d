using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using StyleFilter.Pipeline;

namespace StyleFilter.Cli;

/// <summary>
/// stylefilter bench: times Process on a real photo at several resolutions, and in the same run the model's graphs
/// alone through ONNX Runtime at the same inference size, so the engine's own cost (conversion, resizing, blending)
/// shows as the difference of the two. With --paths, one engine per frame path (the C# pipeline, the graphs) is
/// timed in the same alternation. Each row also gives the network's size and precision, its convolution GFLOP per
/// frame at that inference size and the rate the bare network achieved (GFLOP / ORT p50), from ONNX Runtime's profiler.
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var style = new Option<string?>("--style", "-s") { Description = "Style names or paths, comma-separated (default: the first bundled style)" };
        var resolutions = new Option<string>("--resolutions", "-r") { Description = "Comma-separated WxH list; WxH@N runs inference N pixels high at that size (e.g. 1920x1080@360), whatever --scale says", DefaultValueFactory = _ => "640x360,1024x576,1280x720,1920x1080" };
        var frames = new Option<int>("--frames", "-n") { Description = "Timed Process calls per resolution", DefaultValueFactory = _ => 30 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed calls before timing", DefaultValueFactory = _ => 3 };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0 = all cores)", DefaultValueFactory = _ => 0 };
        var scale = new Option<float>("--scale") { Description = "Fraction of the frame size used for inference, (0, 1]", DefaultValueFactory = _ => 1f };
        var image = new Option<string?>("--image") { Description = "Picture to use as the input frame (default: assets/content/tubingen.jpg)" };
        var device = Cli.DeviceOption();
        var tier = Cli.TierOption();
        var markdown = new Option<string?>("--markdown") { Description = "Also append the table to this Markdown file" };
        var paths = new Option<string>("--paths") { Description = "Frame paths to time alternately, comma-separated: auto, managed, graphs", DefaultValueFactory = _ => "auto" };
        var motion = new Option<string>("--motion-compensation") { Description = "Motion compensation of the smoothing: on, off, or both (one engine each, timed alternately)", DefaultValueFactory = _ => "on" };
        var shake = new Option<int>("--shake") { Description = "Alternate the photo with itself moved this many pixels across and a quarter of it down (a shaking camera: the motion compensation estimates and warps every frame)", DefaultValueFactory = _ => 0 };

        var command = new Command("bench", "Measure frames per second and latency at several resolutions") { style, resolutions, frames, warmup, threads, scale, image, device, tier, markdown, paths, motion, shake };
        command.SetAction(parse => Cli.Run(parse, () => Execute(parse, new Settings(parse.GetValue(style), parse.GetValue(resolutions)!, parse.GetValue(frames),
            parse.GetValue(warmup), parse.GetValue(threads), parse.GetValue(scale), parse.GetValue(image), parse.GetValue(device), parse.GetValue(tier), parse.GetValue(markdown),
            parse.GetValue(paths)!, parse.GetValue(motion)!, parse.GetValue(shake)))));
        return command;
    }

    private sealed record Settings(string? Styles, string Resolutions, int Frames, int Warmup, int Threads, float Scale, string? Image,
        ExecutionDevice Device, ModelTier Tier, string? Markdown, string Paths, string Motion, int Shake);

    private static readonly string[] Columns = ["Style", "Path", "Resolution", "Inference", "FPS", "Mean ms", "p50 ms", "p99 ms", "ORT p50 ms", "Overhead", "Network", "GFLOP", "GFLOPS"];

    private static int Execute(ParseResult parse, Settings s)
    {
        var (styleList, frames, warmup, threads, scale, image) = (s.Styles, s.Frames, s.Warmup, s.Threads, s.Scale, s.Image);
        if (frames < 1) throw new CliException("--frames must be at least 1", ExitCodes.BadArguments);
        if (warmup < 0) throw new CliException("--warmup must be 0 or more", ExitCodes.BadArguments);
        Cli.CheckRange("--scale", scale, 0, 1, minExclusive: true);
        var sizes = ParseResolutions(s.Resolutions);
        image ??= Cli.ContentImage("tubingen.jpg");
        if (!File.Exists(image)) throw new CliException($"image '{image}' does not exist", ExitCodes.BadArguments);
        styleList ??= StyleCatalog.List().FirstOrDefault()?.Name
            ?? throw new CliException("no bundled styles found: pass --style NAME|PATH", ExitCodes.BadArguments);

        var framePaths = ParsePaths(s.Paths);
        bool[] compensations = s.Motion.ToLowerInvariant() switch
        {
            "on" => [true],
            "off" => [false],
            "both" => [false, true],
            _ => throw new CliException($"--motion-compensation '{s.Motion}' is not on, off or both", ExitCodes.BadArguments),
        };
        if (s.Shake is < 0 or > 256) throw new CliException("--shake must be 0 .. 256 pixels", ExitCodes.BadArguments);
        using var loggers = Cli.CreateLoggerFactory(parse);
        var rows = new List<string[]>();
        var kernels = new List<string>();
        var passedOver = new SortedSet<string>(StringComparer.Ordinal); // why better providers were not used, once each
        foreach (var style in styleList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var engines = new List<StyleEngine>();
            try
            {
                foreach (var path in framePaths)
                    foreach (var compensation in compensations)
                    {
                        var engine = Cli.CreateEngine(style, threads, loggers, s.Device, s.Tier);
                        engines.Add(engine);
                        engine.FramePath = path;
                        engine.MotionCompensation = compensation;
                    }
                using var raw = new Models.RawInference(engines[0].Style!.Source, threads, engines[0].Provider);   // the network the engine chose
                foreach (var e in engines)
                    if (e.Stats.Fallbacks.Count > 0) passedOver.Add(e.Stats.ProviderWithFallbacks);
                foreach (var (w, h, inferenceHeight) in sizes)
                {
                    float rowScale = inferenceHeight is { } n ? Math.Min(1f, (float)n / h) : scale;
                    foreach (var e in engines) e.InferenceScale = rowScale;
                    // Fill the frame with the photo (scaled to cover, centre-cropped), like a real camera frame.
                    string Crop(int x, int y) =>
                        $"scale={w + s.Shake}:{h + s.Shake / 4}:force_original_aspect_ratio=increase:flags=bicubic,crop={w}:{h}:{x}:{y}";
                    var input = s.Shake == 0
                        ? Ffmpeg.DecodeImage(image, w, h, "rgba", $"scale={w}:{h}:force_original_aspect_ratio=increase:flags=bicubic,crop={w}:{h}")
                        : Ffmpeg.DecodeImage(image, w, h, "rgba", Crop(0, 0));
                    var moved = s.Shake > 0 ? Ffmpeg.DecodeImage(image, w, h, "rgba", Crop(s.Shake, s.Shake / 4)) : input;
                    var output = new byte[input.Length];
                    foreach (var e in engines) e.ResetHistory();
                    var (iw, ih) = raw.InferenceSize(w, h, rowScale);
                    var profile = Models.NetworkProfile.Measure(engines[0].Style!.Source, iw, ih, threads, engines[0].Provider);
                    kernels.Add($"{Path.GetFileName(engines[0].Style!.Source.TrimEnd('/'))} at {iw}x{ih}: {(profile.ConvKernels.Count == 0 ? "no convolutions" : profile.KernelSummary)} (time: {profile.TimeSummary()})");
                    var counts = new int[engines.Count];
                    var timings = TimeInterleaved(frames, warmup, [.. engines.Select((e, i) => (Action)(() =>
                        e.Process(counts[i]++ % 2 == 0 ? input : moved, output, w, h, PixelFormat.Rgba8)))],
                        () => raw.Run(iw, ih));
                    for (int i = 0; i < engines.Count; i++)
                    {
                        var (ms, ort, overhead, seconds) = timings[i];
                        double p50 = LatencyRecorder.Percentile(ms, 0.50), ortP50 = LatencyRecorder.Percentile(ort, 0.50);
                        var path = (engines[i].ActiveFramePath == FramePath.Graphs ? "graphs" : "C#") + (compensations.Length > 1 ? engines[i].MotionCompensation ? ", motion on" : ", motion off" : "");
                        rows.Add([engines[i].Style?.Name ?? style, $"{engines[i].Stats.Provider}, {path}", $"{w}x{h}", $"{iw}x{ih}", F(frames / seconds), F(ms.Average()),
                            F(p50), F(LatencyRecorder.Percentile(ms, 0.99)), F(ortP50), $"{F(overhead)} ms ({overhead / p50:P0})",
                            Network(engines[i], profile), profile.Gflop.ToString("F2", CultureInfo.InvariantCulture), profile.Gflop > 0 ? F(profile.Gflop / (ortP50 / 1000)) : "-"]);
                    }
                }
            }
            finally
            {
                foreach (var e in engines) e.Dispose();
            }
        }

        var heading =
            $"ONNX Runtime {(string.IsNullOrEmpty(Ort.OrtRuntime.Version) ? "(unknown version)" : Ort.OrtRuntime.Version)}, {Environment.ProcessorCount} cores, " +
            $"threads {(threads == 0 ? "auto" : threads.ToString(CultureInfo.InvariantCulture))}, inference scale {scale.ToString(CultureInfo.InvariantCulture)}, " +
            $"{frames} timed frames after {warmup} warm-up; ORT = the model's graphs alone at the same inference size, timed alternately " +
            "with the engine; Overhead = median of the per-frame differences";
        AnsiConsole.MarkupLine(Markup.Escape(heading));
        var table = new Table();
        foreach (var c in Columns) table.AddColumn(new TableColumn(c) { Alignment = c.EndsWith("ms", StringComparison.Ordinal) || c is "FPS" or "Overhead" ? Justify.Right : Justify.Left });
        foreach (var r in rows) table.AddRow(r.Select(Markup.Escape).ToArray());
        AnsiConsole.Write(table);
        var kernelNote = "Convolution kernels ONNX Runtime ran, and where one run's time went (its profiler): " + string.Join("; ", kernels.Distinct());
        AnsiConsole.WriteLine(kernelNote);
        foreach (var line in passedOver) AnsiConsole.MarkupLine(Markup.Escape("provider: " + line));
        if (s.Markdown is { } md) File.AppendAllText(md, MarkdownTable(heading, rows) + kernelNote + "\n\n");
        return ExitCodes.Ok;
    }

    private static string MarkdownTable(string heading, List<string[]> rows)
    {
        var sb = new System.Text.StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{heading}\n\n| {string.Join(" | ", Columns)} |\n|{string.Concat(Columns.Select(_ => "---|"))}\n");
        foreach (var r in rows) sb.Append(CultureInfo.InvariantCulture, $"| {string.Join(" | ", r)} |\n");
        return sb.Append('\n').ToString();
    }

    /// <summary>
    /// Times the engines and the bare model alternately, call by call, so all see the same machine (on a shared
    /// machine, two separate runs can differ by more than the engine's own cost). Returns per engine the sorted
    /// per-call milliseconds of it and of the bare model, the median of the per-call differences (the engine's
    /// overhead) and the engine's total seconds.
    /// </summary>
    private static (double[] Engine, double[] Ort, double Overhead, double Seconds)[] TimeInterleaved(int frames, int warmup, Action[] engines, Action ort)
    {
        for (var i = 0; i < warmup; i++)
        {
            foreach (var engine in engines) engine();
            ort();
        }
        var e = engines.Select(_ => new double[frames]).ToArray();
        var d = engines.Select(_ => new double[frames]).ToArray();
        var o = new double[frames];
        for (var i = 0; i < frames; i++)
        {
            for (int n = 0; n < engines.Length; n++)
            {
                int k = i % 2 == 0 ? n : engines.Length - 1 - n; // every other round in reverse: none always runs first
                var t = Stopwatch.GetTimestamp();
                engines[k]();
                e[k][i] = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
            }
            var t0 = Stopwatch.GetTimestamp();
            ort();
            o[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            for (int k = 0; k < engines.Length; k++) d[k][i] = e[k][i] - o[i];
        }
        Array.Sort(o);
        return [.. engines.Select((_, k) =>
        {
            double seconds = e[k].Sum() / 1000;
            Array.Sort(e[k]);
            Array.Sort(d[k]);
            return (e[k], o, LatencyRecorder.Percentile(d[k], 0.5), seconds);
        })];
    }

    private static List<FramePath> ParsePaths(string list)
    {
        var result = new List<FramePath>();
        foreach (var item in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            result.Add(item.ToLowerInvariant() switch
            {
                "auto" => FramePath.Auto,
                "managed" or "c#" => FramePath.Managed,
                "graphs" => FramePath.Graphs,
                _ => throw new CliException($"bad frame path '{item}' (expected auto, managed or graphs)", ExitCodes.BadArguments),
            });
        if (result.Count == 0) throw new CliException("--paths is empty", ExitCodes.BadArguments);
        return result;
    }

    /// <summary>The network's size and, where its convolutions ran as integer kernels, "int8".</summary>
    private static string Network(StyleEngine engine, Models.NetworkProfile profile) =>
        engine.LoadedTier.ToString().ToLowerInvariant() +
        (profile.ConvKernels.Keys.Any(k => k is "QLinearConv" or "ConvInteger") ? " int8" : "");

    private static string F(double v) => v.ToString("F1", CultureInfo.InvariantCulture);

    /// <summary>"1280x720,1920x1080@360": frame sizes, each with an optional inference height.</summary>
    public static List<(int W, int H, int? InferenceHeight)> ParseResolutions(string list)
    {
        var result = new List<(int, int, int?)>();
        foreach (var item in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var at = item.Split('@');
            var parts = at[0].ToLowerInvariant().Split('x');
            int? inference = null;
            if (at.Length == 2 && int.TryParse(at[1], out var n) && n >= 1) inference = n;
            if (at.Length > 2 || (at.Length == 2 && inference is null) || parts.Length != 2 || !int.TryParse(parts[0], out var w) || !int.TryParse(parts[1], out var h)
                || w < 1 || h < 1 || w > FrameBuffer.MaxSide || h > FrameBuffer.MaxSide)
                throw new CliException($"bad resolution '{item}' (expected WxH or WxH@INFERENCE_HEIGHT, e.g. 1280x720 or 1920x1080@360)", ExitCodes.BadArguments);
            result.Add((w, h, inference));
        }
        if (result.Count == 0) throw new CliException("--resolutions is empty", ExitCodes.BadArguments);
        return result;
    }
}
