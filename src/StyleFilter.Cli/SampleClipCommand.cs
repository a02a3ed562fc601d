using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace StyleFilter.Cli;

/// <summary>
/// stylefilter sample-clip: a test clip whose motion is known exactly. Every output pixel (x, y) of frame t shows
/// the photo's canvas at source = (x / zoom_t + offsetX_t, y / zoom_t + offsetY_t), sampled bilinearly (pixel centres
/// at integer coordinates). First half: tubingen.jpg panning and zooming in; then a hard cut to chicago.jpg panning
/// horizontally. A 440 Hz tone rides along for audio pass-through tests. The motion goes to OUT.motion.json.
/// </summary>
public static class SampleClipCommand
{
    /// <summary>The photo is scaled to a canvas this much larger than the frame (at zoom 1) so the window can move.</summary>
    private const double CanvasMargin = 1.25;
    private const double FirstZoomEnd = 1.3;

    public static Command Create()
    {
        var output = new Option<string>("--output", "-o") { Description = "Clip to write (.mp4); the motion goes beside it as .motion.json", Required = true };
        var width = new Option<int>("--width") { Description = "Frame width (even)", DefaultValueFactory = _ => 1024 };
        var height = new Option<int>("--height") { Description = "Frame height (even)", DefaultValueFactory = _ => 576 };
        var fps = new Option<int>("--fps") { Description = "Frames per second", DefaultValueFactory = _ => 30 };
        var seconds = new Option<double>("--seconds") { Description = "Length in seconds", DefaultValueFactory = _ => 4 };

        var command = new Command("sample-clip", "Write a test clip with known motion (pan/zoom, a hard cut, a 440 Hz tone)") { output, width, height, fps, seconds };
        command.SetAction(parse => Cli.Run(parse, () =>
            Execute(parse.GetValue(output)!, parse.GetValue(width), parse.GetValue(height), parse.GetValue(fps), parse.GetValue(seconds))));
        return command;
    }

    public sealed record PhotoSpan(string Name, int FirstFrame, int LastFrame, int CanvasWidth, int CanvasHeight, int SourceWidth, int SourceHeight);
    public sealed record FrameMotion(int Index, string Photo, double Zoom, double OffsetX, double OffsetY);
    public sealed record Motion(
        int Width, int Height, int Fps, int FrameCount, double Seconds, int CutFrame, string Mapping,
        IReadOnlyList<PhotoSpan> Photos, IReadOnlyList<FrameMotion> Frames);

    private static int Execute(string output, int width, int height, int fps, double seconds)
    {
        if (width < 16 || height < 16 || width % 2 != 0 || height % 2 != 0 || width > 8192 || height > 8192)
            throw new CliException($"--width/--height must be even and within 16..8192, got {width}x{height}", ExitCodes.BadArguments);
        if (fps < 1 || fps > 240) throw new CliException($"--fps must be within 1..240, got {fps}", ExitCodes.BadArguments);
        var frameCount = (int)Math.Round(seconds * fps);
        if (double.IsNaN(seconds) || frameCount < 2 || seconds > 600) throw new CliException($"--seconds must give 2 frames or more and at most 600 s, got {seconds}", ExitCodes.BadArguments);
        var outDir = Path.GetDirectoryName(Path.GetFullPath(output))!;
        Directory.CreateDirectory(outDir);

        var cut = frameCount / 2;
        var first = LoadCanvas("tubingen.jpg", width, height);
        var second = LoadCanvas("chicago.jpg", width, height);

        var frames = new List<FrameMotion>(frameCount);
        for (var t = 0; t < frameCount; t++)
        {
            double zoom, ox, oy;
            if (t < cut)
            {
                // Zoom in 1.0 -> 1.3 while the window pans left to right; vertically it stays centred.
                var u = cut > 1 ? t / (double)(cut - 1) : 0;
                zoom = Round(1 + (FirstZoomEnd - 1) * u);
                ox = Round(u * MaxOffset(first.Width, width, zoom));
                oy = Round(0.5 * MaxOffset(first.Height, height, zoom));
            }
            else
            {
                // Fixed zoom, the window pans right to left.
                var v = frameCount - cut > 1 ? (t - cut) / (double)(frameCount - cut - 1) : 0;
                zoom = 1;
                ox = Round((1 - v) * MaxOffset(second.Width, width, zoom));
                oy = Round(0.5 * MaxOffset(second.Height, height, zoom));
            }
            frames.Add(new FrameMotion(t, t < cut ? first.Name : second.Name, zoom, ox, oy));
        }

        var durationText = (frameCount / (double)fps).ToString("0.######", CultureInfo.InvariantCulture);
        var fpsText = fps.ToString(CultureInfo.InvariantCulture);
        string[] encoderArgs =
        [
            "-t", durationText, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-map", "0:v:0", "-map", "1:a:0",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", "-g", fpsText,
            "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", output,
        ];
        var frame = new byte[width * height * 3];
        using (var encoder = Ffmpeg.OpenEncoder(width, height, fpsText, "rgb24", encoderArgs, $"writing '{output}'"))
        {
            foreach (var m in frames)
            {
                Sample(m.Index < cut ? first : second, m, frame, width, height);
                encoder.WriteFrame(frame);
            }
            encoder.Finish();
        }

        var motion = new Motion(width, height, fps, frameCount, frameCount / (double)fps, cut,
            "frame pixel (x, y) shows the photo canvas at (x / zoom + offsetX, y / zoom + offsetY); pixel centres at integer coordinates; bilinear sampling",
            [
                new PhotoSpan(first.Name, 0, cut - 1, first.Width, first.Height, first.SourceWidth, first.SourceHeight),
                new PhotoSpan(second.Name, cut, frameCount - 1, second.Width, second.Height, second.SourceWidth, second.SourceHeight),
            ],
            frames);
        var motionPath = MotionPath(output);
        File.WriteAllText(motionPath, JsonSerializer.Serialize(motion, JsonOptions));

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {output}: {width}x{height}, {fps} fps, {frameCount} frames ({frameCount / (double)fps:F2} s), " +
            $"{first.Name} frames 0-{cut - 1} (zoom 1.0 -> {FirstZoomEnd}, pan), cut at frame {cut} to {second.Name} (pan), 440 Hz tone"));
        Console.WriteLine($"wrote {motionPath}: per-frame zoom and offsets");
        return ExitCodes.Ok;
    }

    /// <summary>clip.mp4 -> clip.motion.json</summary>
    public static string MotionPath(string clip) => Path.ChangeExtension(clip, ".motion.json");

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // "+" stays readable
    };

    private static double Round(double v) => Math.Round(v, 4);

    /// <summary>Largest offset that keeps the last pixel centre, (size - 1) / zoom + offset, inside the canvas.</summary>
    private static double MaxOffset(int canvas, int frame, double zoom) => Math.Max(0, canvas - 1 - (frame - 1) / zoom - 1e-3);

    private sealed record Canvas(string Name, byte[] Rgb, int Width, int Height, int SourceWidth, int SourceHeight);

    private static Canvas LoadCanvas(string name, int width, int height)
    {
        var path = Cli.ContentImage(name);
        var info = Ffmpeg.Probe(path);
        var k = Math.Max(CanvasMargin * width / info.Width, CanvasMargin * height / info.Height);
        int cw = (int)Math.Ceiling(info.Width * k), ch = (int)Math.Ceiling(info.Height * k);
        var rgb = Ffmpeg.DecodeImage(path, cw, ch, "rgb24", $"scale={cw}:{ch}:flags=bicubic");
        return new Canvas(name, rgb, cw, ch, info.Width, info.Height);
    }

    private static void Sample(Canvas c, FrameMotion m, byte[] frame, int width, int height)
    {
        var inv = 1 / m.Zoom;
        // Columns are the same for every row: work out their two source pixels and weight once.
        var xa = new int[width];
        var xb = new int[width];
        var xf = new float[width];
        for (var x = 0; x < width; x++)
        {
            var sx = Math.Clamp(x * inv + m.OffsetX, 0, c.Width - 1);
            var x0 = (int)sx;
            xa[x] = x0 * 3;
            xb[x] = Math.Min(x0 + 1, c.Width - 1) * 3;
            xf[x] = (float)(sx - x0);
        }
        Parallel.For(0, height, y =>
        {
            var sy = Math.Clamp(y * inv + m.OffsetY, 0, c.Height - 1);
            var y0 = (int)sy;
            var fy = (float)(sy - y0);
            var top = c.Rgb.AsSpan(y0 * c.Width * 3, c.Width * 3);
            var bottom = c.Rgb.AsSpan(Math.Min(y0 + 1, c.Height - 1) * c.Width * 3, c.Width * 3);
            var row = frame.AsSpan(y * width * 3, width * 3);
            for (var x = 0; x < width; x++)
            {
                int a = xa[x], b = xb[x];
                var fx = xf[x];
                for (var ch = 0; ch < 3; ch++)
                {
                    var t = top[a + ch] + (top[b + ch] - top[a + ch]) * fx;
                    var d = bottom[a + ch] + (bottom[b + ch] - bottom[a + ch]) * fx;
                    row[x * 3 + ch] = (byte)(t + (d - t) * fy + 0.5f);
                }
            }
        });
    }
}
