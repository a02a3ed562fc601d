using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace StyleFilter.Cli;

/// <summary>stylefilter render: styles a video (frame by frame, audio copied) or a still image.</summary>
public static class RenderCommand
{
    private static readonly string[] CopyableAudio = ["aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"];

    public static Command Create()
    {
        var input = new Option<string>("--input", "-i") { Description = "Video or image to style", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the result (.mp4/.mkv/.mov, or .png/.jpg for an image)", Required = true };
        var style = new Option<string>("--style", "-s") { Description = "Bundled style name, or path to an .onnx model / pack folder / .zip", Required = true };
        var alpha = new Option<float>("--alpha") { Description = "Style strength, 0 (original) .. 1 (full style)", DefaultValueFactory = _ => 1f };
        var smoothing = new Option<float?>("--smoothing") { Description = "Temporal smoothing 0..1 (default: the engine's)" };
        var preserve = new Option<bool>("--preserve-colour", "--preserve-color") { Description = "Keep the original colours, take only the style's texture" };
        var scale = new Option<float>("--scale") { Description = "Fraction of the frame size used for inference, (0, 1]", DefaultValueFactory = _ => 1f };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0 = all cores)", DefaultValueFactory = _ => 0 };
        var blend = new Option<TemporalLevel>("--blend") { Description = "Where smoothing blends: Auto (the image with motion compensation, else the features of packs), Output or Features", DefaultValueFactory = _ => TemporalLevel.Auto };

        var compensation = new Option<bool?>("--motion-compensation") { Description = "Warp the smoothing's history along the camera's motion: true or false (default: the engine's, true)" };
        var motion = new Option<float?>("--motion-threshold") { Description = "Input colour change (0..1) at which a pixel counts as moving and is not smoothed (default: the engine's)" };
        var tier = Cli.TierOption();
        var device = Cli.DeviceOption();
        var lossless = new Option<bool>("--lossless") { Description = "Write video losslessly (RGB H.264, .mkv or .mp4) for measuring; alpha is dropped" };
        var command = new Command("render", "Style a video or an image") { input, output, style, alpha, smoothing, preserve, scale, threads, blend, motion, compensation, tier, device, lossless };
        command.SetAction(parse => Cli.Run(parse, () =>
        {
            var settings = new Settings(parse.GetValue(input)!, parse.GetValue(output)!, parse.GetValue(style)!, parse.GetValue(alpha),
                parse.GetValue(smoothing), parse.GetValue(preserve), parse.GetValue(scale), parse.GetValue(threads), parse.GetValue(blend),
                parse.GetValue(motion), parse.GetValue(compensation), parse.GetValue(tier), parse.GetValue(device), parse.GetValue(lossless));
            return Execute(parse, settings);
        }));
        return command;
    }

    private sealed record Settings(string Input, string Output, string Style, float Alpha, float? Smoothing, bool PreserveColour, float Scale, int Threads, TemporalLevel Blend,
        float? MotionThreshold, bool? MotionCompensation, ModelTier Tier, ExecutionDevice Device, bool Lossless);

    private static int Execute(ParseResult parse, Settings s)
    {
        Cli.CheckRange("--alpha", s.Alpha, 0, 1);
        Cli.CheckRange("--smoothing", s.Smoothing, 0, 1);
        Cli.CheckRange("--scale", s.Scale, 0, 1, minExclusive: true);
        Cli.CheckRange("--motion-threshold", s.MotionThreshold, 0.001f, 1);
        if (!File.Exists(s.Input)) throw new CliException($"input '{s.Input}' does not exist", ExitCodes.BadArguments);
        if (Path.GetFullPath(s.Input) == Path.GetFullPath(s.Output)) throw new CliException("--output must differ from --input", ExitCodes.BadArguments);
        var outDir = Path.GetDirectoryName(Path.GetFullPath(s.Output))!;
        if (!Directory.Exists(outDir)) throw new CliException($"output folder '{outDir}' does not exist", ExitCodes.BadArguments);

        var info = Ffmpeg.Probe(s.Input);
        if (info.Width <= 0 || info.Height <= 0) throw new CliException($"'{s.Input}' has no usable picture size", ExitCodes.BadArguments);
        var outputIsImage = MediaInfo.IsImagePath(s.Output);
        if (info.IsImage != outputIsImage)
            throw new CliException(info.IsImage
                ? $"'{s.Input}' is an image: write it to an image file (.png, .jpg), not '{s.Output}'"
                : $"'{s.Input}' is a video: write it to a video file (.mp4, .mkv, .mov), not '{s.Output}'", ExitCodes.BadArguments);

        using var loggers = Cli.CreateLoggerFactory(parse);
        using var engine = Cli.CreateEngine(s.Style, s.Threads, loggers, s.Device, s.Tier);
        engine.Alpha = s.Alpha;
        if (s.Smoothing is { } sm) engine.Smoothing = sm;
        engine.TemporalLevel = s.Blend;
        if (s.MotionThreshold is { } mt) engine.MotionThreshold = mt;
        if (s.MotionCompensation is { } mc) engine.MotionCompensation = mc;
        engine.PreserveColour = s.PreserveColour;
        engine.InferenceScale = s.Scale;

        try
        {
            return info.IsImage ? RenderImage(engine, info, s) : RenderVideo(engine, info, s);
        }
        catch
        {
            // ffmpeg has been stopped by now; a half-written file is of no use to anyone.
            try { File.Delete(s.Output); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    private static int RenderImage(StyleEngine engine, MediaInfo info, Settings s)
    {
        var input = Ffmpeg.DecodeImage(s.Input, info.Width, info.Height);
        var output = new byte[input.Length];
        var clock = Stopwatch.StartNew();
        engine.Process(input, output, info.Width, info.Height, PixelFormat.Rgba8);
        var ms = clock.Elapsed.TotalMilliseconds;
        Ffmpeg.EncodeImage(s.Output, output, info.Width, info.Height, keepAlpha: info.HasAlpha);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"styled {info.Width}x{info.Height} image with '{engine.Style?.Name ?? s.Style}' in {ms:F0} ms ({engine.Stats.ProviderWithFallbacks}) -> {s.Output}"));
        return ExitCodes.Ok;
    }

    private static int RenderVideo(StyleEngine engine, MediaInfo info, Settings s)
    {
        int w = info.Width, h = info.Height;
        var frameBytes = w * h * 4;
        var inFrame = new byte[frameBytes];
        var outFrame = new byte[frameBytes];

        using var decoder = Ffmpeg.OpenDecoder(s.Input, w, h);
        using var encoder = Ffmpeg.OpenEncoder(w, h, info.FrameRate, "rgba", EncoderArgs(info, s.Output, s.Lossless), $"encoding '{s.Output}'");

        var expected = info.FrameCount;
        long frames = 0;
        var clock = Stopwatch.StartNew();
        void Loop(Action<long> progress)
        {
            while (decoder.ReadFrame(inFrame))
            {
                engine.Process(inFrame, outFrame, w, h, PixelFormat.Rgba8);
                encoder.WriteFrame(outFrame);
                frames++;
                progress(frames);
            }
        }

        if (!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
        {
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask(Markup.Escape(Path.GetFileName(s.Input)), maxValue: Math.Max(1, expected));
                    task.IsIndeterminate = expected <= 0;
                    Loop(n => task.Value = Math.Min(n, task.MaxValue));
                    task.Value = task.MaxValue;
                });
        }
        else
        {
            var nextQuarter = 1;
            Loop(n =>
            {
                if (expected <= 0 || n * 4 < nextQuarter * expected) return;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{nextQuarter * 25}% ({n}/{expected} frames, {clock.Elapsed.TotalSeconds:F1} s)"));
                while (nextQuarter <= 4 && n * 4 >= nextQuarter * expected) nextQuarter++;
            });
        }
        decoder.Finish();
        var loopSeconds = clock.Elapsed.TotalSeconds;
        encoder.Finish();

        if (frames == 0) throw new CliException($"'{s.Input}' decoded to no frames", ExitCodes.Failure);
        var stats = engine.Stats;
        var fps = frames / Math.Max(loopSeconds, 1e-9);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rendered {frames} frames ({frames / info.Fps:F2} s of video, {w}x{h}) in {loopSeconds:F2} s: {fps:F1} FPS, " +
            $"engine p50 {stats.P50Ms:F1} ms, p99 {stats.P99Ms:F1} ms ({stats.ProviderWithFallbacks}) -> {s.Output}"));
        return ExitCodes.Ok;
    }

    /// <summary>
    /// Video from stdin, audio (if any) copied from the input. No -shortest (it can drop the last video frames);
    /// instead an input-side -t reads only the video's length (frames / fps) of audio: it can never cut a frame.
    /// </summary>
    private static List<string> EncoderArgs(MediaInfo info, string output, bool lossless)
    {
        var args = new List<string>();
        if (info.HasAudio && info.FrameCount > 0 && info.Fps > 0)
            args.AddRange(["-t", (info.FrameCount / info.Fps).ToString("0.######", CultureInfo.InvariantCulture)]);
        args.AddRange(["-i", info.Path, "-map", "0:v:0"]);
        var ext = Path.GetExtension(output).ToLowerInvariant();
        var webm = ext == ".webm";
        if (info.HasAudio)
        {
            args.AddRange(["-map", "1:a:0?"]);
            var canCopy = ext == ".mkv" || (!webm && CopyableAudio.Contains(info.AudioCodec)) || (webm && info.AudioCodec is "opus" or "vorbis");
            args.AddRange(canCopy ? ["-c:a", "copy"] : webm ? ["-c:a", "libopus"] : ["-c:a", "aac", "-b:a", "192k"]);
        }
        if (lossless)
        {
            if (webm) throw new CliException("--lossless writes RGB H.264: use .mkv or .mp4, not .webm", ExitCodes.BadArguments);
            // Exact RGB frames, so measurements (warping error, comparisons) see the engine's output, not the codec's.
            args.AddRange(["-c:v", "libx264rgb", "-preset", "veryfast", "-qp", "0", "-pix_fmt", "rgb24"]);
        }
        else if (webm)
            args.AddRange(["-c:v", "libvpx-vp9", "-crf", "30", "-b:v", "0", "-pix_fmt", "yuv420p"]);
        else
        {
            // 4:2:0 needs even sides; odd-sized videos keep their size in 4:4:4.
            var chroma = info.Width % 2 == 0 && info.Height % 2 == 0 ? "yuv420p" : "yuv444p";
            args.AddRange(["-c:v", "libx264", "-preset", "medium", "-crf", "18", "-pix_fmt", chroma]);
        }
        if (ext is ".mp4" or ".mov" or ".m4v") args.AddRange(["-movflags", "+faststart"]);
        args.Add(output);
        return args;
    }
}
