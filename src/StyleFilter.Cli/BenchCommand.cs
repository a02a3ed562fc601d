using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using StyleFilter.Pipeline;

namespace StyleFilter.Cli;

/// <summary>stylefilter bench: times Process on a real photo at several resolutions.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var style = new Option<string?>("--style", "-s") { Description = "Style names or paths, comma-separated (default: the first bundled style)" };
        var resolutions = new Option<string>("--resolutions", "-r") { Description = "Comma-separated WxH list", DefaultValueFactory = _ => "640x360,1024x576" };
        var frames = new Option<int>("--frames", "-n") { Description = "Timed Process calls per resolution", DefaultValueFactory = _ => 30 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed calls before timing", DefaultValueFactory = _ => 3 };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0 = all cores)", DefaultValueFactory = _ => 0 };
        var scale = new Option<float>("--scale") { Description = "Fraction of the frame size used for inference, (0, 1]", DefaultValueFactory = _ => 1f };
        var image = new Option<string?>("--image") { Description = "Picture to use as the input frame (default: assets/content/tubingen.jpg)" };

        var command = new Command("bench", "Measure frames per second at several resolutions") { style, resolutions, frames, warmup, threads, scale, image };
        command.SetAction(parse => Cli.Run(parse, () => Execute(parse, parse.GetValue(style), parse.GetValue(resolutions)!, parse.GetValue(frames),
            parse.GetValue(warmup), parse.GetValue(threads), parse.GetValue(scale), parse.GetValue(image))));
        return command;
    }

    private static int Execute(ParseResult parse, string? styleList, string resolutionList, int frames, int warmup, int threads, float scale, string? image)
    {
        if (frames < 1) throw new CliException("--frames must be at least 1", ExitCodes.BadArguments);
        if (warmup < 0) throw new CliException("--warmup must be 0 or more", ExitCodes.BadArguments);
        Cli.CheckRange("--scale", scale, 0, 1, minExclusive: true);
        var sizes = ParseResolutions(resolutionList);
        image ??= Cli.ContentImage("tubingen.jpg");
        if (!File.Exists(image)) throw new CliException($"image '{image}' does not exist", ExitCodes.BadArguments);
        styleList ??= StyleCatalog.List().FirstOrDefault()?.Name
            ?? throw new CliException("no bundled styles found: pass --style NAME|PATH", ExitCodes.BadArguments);

        using var loggers = Cli.CreateLoggerFactory(parse);
        var table = new Table()
            .AddColumn("Style").AddColumn("Resolution").AddColumn("Inference")
            .AddColumn(new TableColumn("FPS").RightAligned()).AddColumn(new TableColumn("Mean ms").RightAligned())
            .AddColumn(new TableColumn("p50 ms").RightAligned()).AddColumn(new TableColumn("p99 ms").RightAligned())
            .AddColumn(new TableColumn("ORT p50 ms").RightAligned()).AddColumn(new TableColumn("Overhead").RightAligned());
        string provider = "";
        foreach (var style in styleList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            using var engine = Cli.CreateEngine(style, threads, loggers);
            engine.InferenceScale = scale;
            using var raw = new Models.RawInference(style, threads, engine.Provider);
            provider = engine.Stats.Provider;
            foreach (var (w, h) in sizes)
            {
                // Fill the frame with the photo (scaled to cover, centre-cropped), like a real camera frame.
                var input = Ffmpeg.DecodeImage(image, w, h, "rgba",
                    $"scale={w}:{h}:force_original_aspect_ratio=increase:flags=bicubic,crop={w}:{h}");
                var output = new byte[input.Length];
                engine.ResetHistory();
                var (iw, ih) = raw.InferenceSize(w, h, scale);
                var ms = Time(frames, warmup, () => engine.Process(input, output, w, h, PixelFormat.Rgba8), out var seconds);
                var ort = Time(frames, warmup, () => raw.Run(iw, ih), out _);
                double p50 = LatencyRecorder.Percentile(ms, 0.50), ortP50 = LatencyRecorder.Percentile(ort, 0.50);
                table.AddRow(Markup.Escape(engine.Style?.Name ?? style), $"{w}x{h}", $"{iw}x{ih}", F(frames / seconds), F(ms.Average()),
                    F(p50), F(LatencyRecorder.Percentile(ms, 0.99)), F(ortP50), $"{F(p50 - ortP50)} ms ({(p50 - ortP50) / p50:P0})");
            }
        }

        AnsiConsole.MarkupLine(Markup.Escape(
            $"ONNX Runtime {(string.IsNullOrEmpty(Ort.OrtApi.Version) ? "(unknown version)" : Ort.OrtApi.Version)}, provider {provider}, " +
            $"threads {(threads == 0 ? "auto" : threads.ToString(CultureInfo.InvariantCulture))}, inference scale {scale.ToString(CultureInfo.InvariantCulture)}, " +
            $"{frames} timed frames after {warmup} warm-up; ORT = the model's graphs alone at the same inference size"));
        AnsiConsole.Write(table);
        return ExitCodes.Ok;
    }

    /// <summary>Per-call milliseconds (sorted) of <paramref name="frames"/> calls after <paramref name="warmup"/> untimed ones.</summary>
    private static double[] Time(int frames, int warmup, Action call, out double seconds)
    {
        for (var i = 0; i < warmup; i++) call();
        var ms = new double[frames];
        var total = Stopwatch.StartNew();
        for (var i = 0; i < frames; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            call();
            ms[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        seconds = total.Elapsed.TotalSeconds;
        Array.Sort(ms);
        return ms;
    }

    private static string F(double v) => v.ToString("F1", CultureInfo.InvariantCulture);

    public static List<(int W, int H)> ParseResolutions(string list)
    {
        var result = new List<(int, int)>();
        foreach (var item in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = item.ToLowerInvariant().Split('x');
            if (parts.Length != 2 || !int.TryParse(parts[0], out var w) || !int.TryParse(parts[1], out var h) || w < 1 || h < 1 || w > FrameBuffer.MaxSide || h > FrameBuffer.MaxSide)
                throw new CliException($"bad resolution '{item}' (expected WxH, e.g. 1280x720)", ExitCodes.BadArguments);
            result.Add((w, h));
        }
        if (result.Count == 0) throw new CliException("--resolutions is empty", ExitCodes.BadArguments);
        return result;
    }
}
