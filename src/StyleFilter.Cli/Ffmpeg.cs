using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace StyleFilter.Cli;

/// <summary>What ffprobe says about a media file (its first video stream).</summary>
public sealed record MediaInfo(
    string Path, int Width, int Height, string FrameRate, double Fps, long FrameCount, double Duration,
    string VideoCodec, string PixelFormat, string FormatName, bool HasAudio, string? AudioCodec)
{
    private static readonly string[] ImageCodecs = ["png", "mjpeg", "bmp", "tiff", "webp", "jpegls", "jpeg2000", "ppm", "pgm", "targa"];
    private static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"];

    /// <summary>A still image: an image codec in an image container (a single frame), or an image file name.</summary>
    public bool IsImage =>
        IsImagePath(Path) ||
        (ImageCodecs.Contains(VideoCodec) && (FormatName == "image2" || FormatName.EndsWith("_pipe", StringComparison.Ordinal)) && FrameCount <= 1);

    public bool HasAlpha => AlphaFormats.Any(a => PixelFormat.StartsWith(a, StringComparison.Ordinal));
    private static readonly string[] AlphaFormats = ["rgba", "bgra", "argb", "abgr", "ya8", "ya16", "yuva", "gbrap", "pal8"];

    public static bool IsImagePath(string path) =>
        ImageExtensions.Contains(System.IO.Path.GetExtension(path).ToLowerInvariant());
}

/// <summary>Every ffmpeg / ffprobe process the CLI starts. stderr is always drained in the background so pipes never block.</summary>
public static class Ffmpeg
{
    public static string FfmpegPath => Environment.GetEnvironmentVariable("STYLEFILTER_FFMPEG") ?? "ffmpeg";
    public static string FfprobePath => Environment.GetEnvironmentVariable("STYLEFILTER_FFPROBE") ?? "ffprobe";

    public static MediaInfo Probe(string path)
    {
        if (!File.Exists(path)) throw new CliException($"input '{path}' does not exist", ExitCodes.BadArguments);
        using var p = FfProcess.Start(FfprobePath, ["-v", "error", "-show_streams", "-show_format", "-of", "json", path], stdin: false, stdout: true);
        var json = p.Process.StandardOutput.ReadToEnd();
        p.WaitOrThrow($"ffprobe on '{path}'", ExitCodes.BadArguments);

        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        JsonElement? video = null;
        string? audioCodec = null;
        var hasAudio = false;
        if (root.TryGetProperty("streams", out var streams))
            foreach (var s in streams.EnumerateArray())
            {
                var type = Str(s, "codec_type");
                if (type == "video" && video is null && !IsAttachedPicture(s)) video = s;
                if (type == "audio" && !hasAudio) { hasAudio = true; audioCodec = Str(s, "codec_name"); }
            }
        if (video is not { } v) throw new CliException($"'{path}' has no video stream", ExitCodes.BadArguments);

        var formatName = root.TryGetProperty("format", out var format) ? Str(format, "format_name") ?? "" : "";
        var rate = ValidRate(Str(v, "avg_frame_rate")) ?? ValidRate(Str(v, "r_frame_rate")) ?? "25/1";
        var fps = ParseRate(rate);
        var duration = Num(v, "duration") ?? (root.TryGetProperty("format", out var f2) ? Num(f2, "duration") : null) ?? 0;
        var frames = (long?)Num(v, "nb_frames") ?? (duration > 0 ? (long)Math.Round(duration * fps) : 0);
        int width = (int)(Num(v, "width") ?? 0), height = (int)(Num(v, "height") ?? 0);
        if (Math.Abs(Rotation(v)) % 180 == 90) (width, height) = (height, width); // ffmpeg decodes it upright
        return new MediaInfo(path, width, height, rate, fps, frames, duration,
            Str(v, "codec_name") ?? "", Str(v, "pix_fmt") ?? "", formatName, hasAudio, audioCodec);
    }

    /// <summary>Decodes a file's first video stream as tightly packed frames (rgba or rgb24), one frame per read.</summary>
    public static RawDecoder OpenDecoder(string input, int width, int height, string pixFmt = "rgba", string? filter = null, int? maxFrames = null)
    {
        var args = new List<string> { "-hide_banner", "-nostdin", "-v", "error", "-i", input, "-map", "0:v:0" };
        if (filter is not null) args.AddRange(["-vf", filter]);
        if (maxFrames is { } n) args.AddRange(["-frames:v", n.ToString(CultureInfo.InvariantCulture)]);
        // passthrough: every decoded frame once, never duplicated or dropped to fit a constant rate.
        args.AddRange(["-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", pixFmt, "-"]);
        var p = FfProcess.Start(FfmpegPath, args, stdin: false, stdout: true);
        return new RawDecoder(p, width * height * BytesPerPixel(pixFmt), $"decoding '{input}'");
    }

    /// <summary>
    /// Encodes tightly packed frames written to stdin. <paramref name="outputArgs"/> holds everything after the raw
    /// input (extra inputs, maps, codecs, the output path).
    /// </summary>
    public static RawEncoder OpenEncoder(int width, int height, string frameRate, string pixFmt, IEnumerable<string> outputArgs, string what)
    {
        var args = new List<string>
        {
            "-hide_banner", "-v", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", pixFmt, "-s", $"{width}x{height}", "-r", frameRate, "-i", "-",
        };
        args.AddRange(outputArgs);
        var p = FfProcess.Start(FfmpegPath, args, stdin: true, stdout: false);
        return new RawEncoder(p, width * height * BytesPerPixel(pixFmt), what);
    }

    /// <summary>Decodes one picture (optionally through a filter) into a new buffer.</summary>
    public static byte[] DecodeImage(string path, int width, int height, string pixFmt = "rgba", string? filter = null)
    {
        using var dec = OpenDecoder(path, width, height, pixFmt, filter, maxFrames: 1);
        var buffer = new byte[dec.FrameBytes];
        if (!dec.ReadFrame(buffer)) throw new CliException($"ffmpeg produced no picture for '{path}'{dec.ErrorTail()}", ExitCodes.Failure);
        dec.Finish();
        return buffer;
    }

    /// <summary>Writes one rgba picture; the format follows the output's extension (png keeps alpha when asked).</summary>
    public static void EncodeImage(string output, ReadOnlySpan<byte> rgba, int width, int height, bool keepAlpha)
    {
        var ext = Path.GetExtension(output).ToLowerInvariant();
        var outArgs = new List<string> { "-frames:v", "1", "-update", "1" };
        if (ext is ".jpg" or ".jpeg") outArgs.AddRange(["-q:v", "2", "-pix_fmt", "yuvj444p"]);
        else if (ext == ".png") outArgs.AddRange(["-pix_fmt", keepAlpha ? "rgba" : "rgb24"]);
        outArgs.Add(output);
        using var enc = OpenEncoder(width, height, "1", "rgba", outArgs, $"writing '{output}'");
        enc.WriteFrame(rgba);
        enc.Finish();
    }

    public static int BytesPerPixel(string pixFmt) => pixFmt switch
    {
        "rgba" or "bgra" => 4,
        "rgb24" or "bgr24" => 3,
        _ => throw new ArgumentException($"unsupported raw pixel format {pixFmt}"),
    };

    public static double ParseRate(string rate)
    {
        var parts = rate.Split('/');
        var num = double.Parse(parts[0], CultureInfo.InvariantCulture);
        var den = parts.Length > 1 ? double.Parse(parts[1], CultureInfo.InvariantCulture) : 1;
        return den == 0 ? 0 : num / den;
    }

    private static string? ValidRate(string? rate)
    {
        if (string.IsNullOrEmpty(rate)) return null;
        try { return ParseRate(rate) is > 0 and < 1000 ? rate : null; }
        catch (FormatException) { return null; }
    }

    /// <summary>Display rotation in degrees (phone videos): the "rotate" tag or the display matrix side data.</summary>
    private static int Rotation(JsonElement s)
    {
        if (s.TryGetProperty("tags", out var tags) && Num(tags, "rotate") is { } tag) return (int)tag;
        if (s.TryGetProperty("side_data_list", out var side) && side.ValueKind == JsonValueKind.Array)
            foreach (var d in side.EnumerateArray())
                if (Num(d, "rotation") is { } r) return (int)r;
        return 0;
    }

    private static bool IsAttachedPicture(JsonElement s) =>
        s.TryGetProperty("disposition", out var d) && d.TryGetProperty("attached_pic", out var a) && a.ValueKind == JsonValueKind.Number && a.GetInt32() == 1;

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.ToString() : null;

    private static double? Num(JsonElement e, string name) =>
        Str(e, name) is { } s && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;
}

/// <summary>A started ffmpeg/ffprobe process whose stderr is collected (last lines kept) without ever blocking it.</summary>
public sealed class FfProcess : IDisposable
{
    private const int KeptLines = 12;
    private readonly Queue<string> _stderr = new();
    private readonly string _commandLine;
    public Process Process { get; }

    private FfProcess(Process process, string commandLine)
    {
        Process = process;
        _commandLine = commandLine;
    }

    public static FfProcess Start(string exe, IEnumerable<string> args, bool stdin, bool stdout)
    {
        var psi = new ProcessStartInfo(exe)
        {
            UseShellExecute = false,
            RedirectStandardInput = true, // never let ffmpeg read the user's terminal
            RedirectStandardOutput = stdout,
            RedirectStandardError = true,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var process = new Process { StartInfo = psi };
        var ff = new FfProcess(process, exe + " " + string.Join(' ', psi.ArgumentList.Select(a => a.Contains(' ') ? $"\"{a}\"" : a)));
        process.ErrorDataReceived += (_, e) =>
        {
            if (string.IsNullOrWhiteSpace(e.Data)) return;
            lock (ff._stderr)
            {
                ff._stderr.Enqueue(e.Data.Trim());
                while (ff._stderr.Count > KeptLines) ff._stderr.Dequeue();
            }
        };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new CliException($"cannot start {exe} ({ex.Message}); is ffmpeg installed and on PATH?", ExitCodes.Failure);
        }
        process.BeginErrorReadLine();
        if (!stdin) process.StandardInput.Close();
        return ff;
    }

    public string CommandLine => _commandLine;

    /// <summary>The last lines ffmpeg wrote to stderr, formatted to append to an error message ("" when none).</summary>
    public string ErrorTail()
    {
        lock (_stderr)
            return _stderr.Count == 0 ? "" : ": " + string.Join(" | ", _stderr);
    }

    /// <summary>Waits for a normal exit; a non-zero exit code becomes a CliException carrying ffmpeg's last words.</summary>
    public void WaitOrThrow(string what, int exitCode = ExitCodes.Failure)
    {
        Process.WaitForExit(); // also waits for the stderr reader to reach end of stream
        if (Process.ExitCode != 0)
            throw new CliException($"{what} failed (exit {Process.ExitCode}){ErrorTail()}", exitCode);
    }

    public void Dispose()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException) { }
        Process.Dispose();
    }
}

/// <summary>Reads fixed-size raw frames from an ffmpeg decoder's stdout.</summary>
public sealed class RawDecoder(FfProcess process, int frameBytes, string what) : IDisposable
{
    private readonly Stream _stdout = process.Process.StandardOutput.BaseStream;
    public int FrameBytes { get; } = frameBytes;
    public long FramesRead { get; private set; }

    /// <summary>Fills <paramref name="frame"/> with the next frame; false at the end of the stream.</summary>
    public bool ReadFrame(Span<byte> frame)
    {
        if (frame.Length < FrameBytes) throw new ArgumentException("frame buffer too small");
        var filled = 0;
        while (filled < FrameBytes)
        {
            var n = _stdout.Read(frame.Slice(filled, FrameBytes - filled));
            if (n == 0) break;
            filled += n;
        }
        if (filled == 0) return false;
        if (filled < FrameBytes)
        {
            Finish();
            throw new CliException($"{what}: stream ended inside frame {FramesRead} ({filled} of {FrameBytes} bytes){process.ErrorTail()}", ExitCodes.Failure);
        }
        FramesRead++;
        return true;
    }

    /// <summary>Waits for ffmpeg to exit and throws if it failed.</summary>
    public void Finish()
    {
        _stdout.CopyTo(Stream.Null); // drain whatever is left (e.g. after -frames:v 1) so ffmpeg can exit
        process.WaitOrThrow(what);
    }

    public string ErrorTail() => process.ErrorTail();
    public void Dispose() => process.Dispose();
}

/// <summary>Writes fixed-size raw frames into an ffmpeg encoder's stdin.</summary>
public sealed class RawEncoder(FfProcess process, int frameBytes, string what) : IDisposable
{
    private readonly Stream _stdin = process.Process.StandardInput.BaseStream;
    public int FrameBytes { get; } = frameBytes;
    public long FramesWritten { get; private set; }

    public void WriteFrame(ReadOnlySpan<byte> frame)
    {
        try
        {
            _stdin.Write(frame[..FrameBytes]);
            FramesWritten++;
        }
        catch (IOException)
        {
            // ffmpeg went away (bad output path, unsupported codec...): its stderr says why.
            process.Process.WaitForExit(5000);
            throw new CliException($"{what} failed after {FramesWritten} frames{process.ErrorTail()}", ExitCodes.Failure);
        }
    }

    /// <summary>Closes stdin (end of stream) and waits for ffmpeg to finish the file.</summary>
    public void Finish()
    {
        try { _stdin.Close(); }
        catch (IOException) { }
        process.WaitOrThrow(what);
    }

    public void Dispose() => process.Dispose();
}
