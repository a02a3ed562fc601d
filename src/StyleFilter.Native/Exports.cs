using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StyleFilter.Ort;

namespace StyleFilter.Native;

/// <summary>
/// The C entry points declared in stylefilter.h. Every export goes through <see cref="Call"/>, which turns
/// any exception into a status code plus an sf_last_error message, so nothing ever unwinds into the host.
/// </summary>
public static unsafe class Exports
{
    private const int SfOk = 0;

    // ---- plumbing -----------------------------------------------------------------------------------------

    /// <summary>Runs body; maps StyleFilterException to its code and anything else to SF_ERR_INTERNAL.</summary>
    private static int Call(string function, Action body)
    {
        try
        {
            LastError.Clear();
            body();
            return SfOk;
        }
        catch (StyleFilterException e)
        {
            var code = e.Code is > StatusCode.Ok and <= StatusCode.Internal ? e.Code : StatusCode.Internal;
            return Fail(function, code, e.Message, e);
        }
        catch (Exception e)
        {
            return Fail(function, StatusCode.Internal, $"internal error: {e.GetType().Name}: {e.Message}", e);
        }
    }

    private static int Fail(string function, StatusCode code, string message, Exception e)
    {
        try
        {
            var text = $"{function}: {message}";
            if (e.InnerException is { } inner && !message.Contains(inner.Message, StringComparison.Ordinal))
                text += $" ({inner.Message})";
            LastError.Set(text);
            if (code == StatusCode.Internal) NativeLogging.Log.LogError(e, "{Message}", text);
            else NativeLogging.Log.LogDebug("{Message} [{Code}]", text, code);
        }
        catch (Exception)
        {
            // Out of memory or similar: the status code still goes back.
        }
        return (int)code;
    }

    /// <summary>Looks the handle up, then runs body. The engine serialises frames and model swaps itself, so
    /// parameter calls never wait for a frame in progress.</summary>
    private static int WithEngine(string function, nint handle, Action<EngineEntry> body) =>
        Call(function, () =>
        {
            var entry = EngineHandles.Get(handle);
            entry.ThrowIfDestroyed();
            body(entry);
        });

    private static StyleFilterException Invalid(string message) => new(StatusCode.InvalidArgument, message);

    private static string? Utf8(nint p) => p == 0 ? null : Marshal.PtrToStringUTF8(p);

    private static void CheckStructSize(uint size, int v1Size, string what)
    {
        if (size < v1Size || size > Abi.MaxStructSize)
            throw Invalid($"{what}.struct_size is {size}; set it to sizeof({what}) ({v1Size} bytes in ABI version {Abi.Version})");
    }

    /// <summary>Copies s as a NUL-terminated UTF-8 string into buffer, or fails without truncating.</summary>
    private static void CopyOut(string s, byte* buffer, nuint size, string what)
    {
        if (buffer == null) throw Invalid($"{what} buffer is NULL");
        if (size == 0) throw Invalid($"{what} buffer size is 0");
        var needed = Encoding.UTF8.GetByteCount(s) + 1;
        if ((ulong)needed > size)
        {
            buffer[0] = 0;
            throw Invalid($"{what} buffer is {size} bytes; {needed} are needed");
        }
        var written = Encoding.UTF8.GetBytes(s, new Span<byte>(buffer, needed));
        buffer[written] = 0;
    }

    // ---- process-wide -------------------------------------------------------------------------------------

    [UnmanagedCallersOnly(EntryPoint = "sf_abi_version")]
    public static uint AbiVersion() => Abi.Version;

    [UnmanagedCallersOnly(EntryPoint = "sf_last_error")]
    public static byte* GetLastError()
    {
        try { return LastError.Pointer; }
        catch (Exception) { return EmptyString; }
    }

    /// <summary>Fallback for sf_last_error when even the thread's buffer cannot be allocated.</summary>
    private static readonly byte* EmptyString = (byte*)NativeMemory.AllocZeroed(1);

    [UnmanagedCallersOnly(EntryPoint = "sf_set_log_callback")]
    public static int SetLogCallback(delegate* unmanaged[Cdecl]<nint, int, byte*, void> fn, nint user, int minLevel) =>
        Call("sf_set_log_callback", () =>
        {
            if (fn != null && minLevel is < Abi.LogError or > Abi.LogDebug)
                throw Invalid($"min_level {minLevel} is not a log level (SF_LOG_ERROR=1 .. SF_LOG_DEBUG=4)");
            NativeLogging.Install(fn, user, minLevel);
        });

    [UnmanagedCallersOnly(EntryPoint = "sf_list_styles")]
    public static int ListStyles(byte* buffer, nuint size, nuint* needed) =>
        Call("sf_list_styles", () =>
        {
            if (buffer == null && needed == null) throw Invalid("buffer and needed are both NULL");
            var text = string.Join('\n', StyleCatalog.List().Select(e => e.Name.Replace('\n', ' ')));
            var bytes = Encoding.UTF8.GetByteCount(text) + 1;
            if (needed != null) *needed = (nuint)bytes;
            if (buffer == null) return;
            if ((ulong)bytes > size)
            {
                if (size > 0) buffer[0] = 0;
                throw Invalid($"buffer is {size} bytes; {bytes} are needed");
            }
            var written = Encoding.UTF8.GetBytes(text, new Span<byte>(buffer, bytes));
            buffer[written] = 0;
        });

    [UnmanagedCallersOnly(EntryPoint = "sf_get_style_info")]
    public static int GetStyleInfo(byte* nameOrPath, SfStyleInfo* result) =>
        Call("sf_get_style_info", () =>
        {
            if (nameOrPath == null) throw Invalid("name_or_path is NULL");
            if (result == null) throw Invalid("style info pointer is NULL");
            CheckStructSize(result->StructSize, sizeof(SfStyleInfo), "sf_style_info");
            var style = StyleCatalog.Describe(Utf8((nint)nameOrPath) ?? "");
            var filled = new SfStyleInfo { StructSize = result->StructSize }; // fields beyond version 1 stay as the caller set them
            Utf8Truncate(style.Name, new Span<byte>(filled.Id, SfStyleInfo.IdBytes - 1));
            Utf8Truncate(style.Title, new Span<byte>(filled.Title, SfStyleInfo.TitleBytes - 1));
            Utf8Truncate(style.Artist ?? "", new Span<byte>(filled.Artist, SfStyleInfo.ArtistBytes - 1));
            Utf8Truncate(style.Year ?? "", new Span<byte>(filled.Year, SfStyleInfo.YearBytes - 1));
            *result = filled;
        });

    [UnmanagedCallersOnly(EntryPoint = "sf_device_status")]
    public static int DeviceStatus(int device, byte* reason, nuint size) =>
        Call("sf_device_status", () =>
        {
            if (reason == null && size != 0) throw Invalid($"reason is NULL but size is {size}");
            var text = reason == null ? default : new Span<byte>(reason, (int)Math.Min(size, 4096));
            text.Clear();
            if (device is < (int)ExecutionDevice.Auto or > (int)ExecutionDevice.DirectML)
                throw Invalid($"device {device} is not an sf_device (SF_DEVICE_AUTO=0 .. SF_DEVICE_DIRECTML=4)");
            if (device is (int)ExecutionDevice.Auto or (int)ExecutionDevice.Cpu) return;
            // The same choice sf_engine_load_style makes; a device that is not there falls back to the CPU with reasons.
            var choice = ExecutionProviders.Select((ExecutionDevice)device, NullLogger.Instance);
            if (choice.Provider != ProviderChoice.Cpu.Provider) return;
            var why = string.Join("; ", choice.Fallbacks.Select(f => f.IndexOf(": ", StringComparison.Ordinal) is var at and >= 0 ? f[(at + 2)..] : f));
            if (why.Length == 0) why = "not available on this machine";
            if (text.Length > 1) Utf8Truncate(why, text[..^1]);
            throw new StyleFilterException(StatusCode.Unsupported, $"{(ExecutionDevice)device} is not available: {why}");
        });

    // ---- engine lifetime ----------------------------------------------------------------------------------

    [UnmanagedCallersOnly(EntryPoint = "sf_engine_create")]
    public static int EngineCreate(SfEngineOptions* options, nint* result) =>
        Call("sf_engine_create", () =>
        {
            if (result == null) throw Invalid("out (sf_engine**) is NULL");
            *result = 0;
            var opts = new EngineOptions();
            if (options != null)
            {
                // Only struct_size is read until it says the whole struct is there: a smaller buffer may end at a page.
                CheckStructSize(options->StructSize, sizeof(SfEngineOptions), "sf_engine_options");
                var o = *options;
                if (o.IntraOpThreads is < 0 or > EngineOptions.MaxIntraOpThreads)
                    throw Invalid($"intra_op_threads {o.IntraOpThreads} is out of range (0 = automatic, up to {EngineOptions.MaxIntraOpThreads})");
                if (o.Device is < (int)ExecutionDevice.Auto or > (int)ExecutionDevice.DirectML)
                    throw Invalid($"device {o.Device} is not an sf_device (SF_DEVICE_AUTO=0 .. SF_DEVICE_DIRECTML=4)");
                opts = new EngineOptions
                {
                    OrtLibraryPath = Utf8(o.OrtLibraryPath),
                    IntraOpThreads = o.IntraOpThreads,
                    Device = (ExecutionDevice)o.Device,
                };
            }
            var engine = new StyleEngine(opts, NativeLogging.Factory);
            try
            {
                var entry = EngineHandles.Add(engine);
                *result = entry.Handle;
                NativeLogging.Log.LogInformation("engine 0x{Handle:x} created (device {Device}, intra-op threads {Threads})",
                    (long)entry.Handle, opts.Device, opts.IntraOpThreads);
            }
            catch
            {
                engine.Dispose();
                throw;
            }
        });

    [UnmanagedCallersOnly(EntryPoint = "sf_engine_destroy")]
    public static int EngineDestroy(nint handle) =>
        Call("sf_engine_destroy", () =>
        {
            var entry = EngineHandles.Remove(handle);
            // Calls that found the entry just before it left the table now fail with SF_ERR_INVALID_HANDLE;
            // Dispose waits for a frame in progress and makes a concurrent load_style drop its new model.
            entry.MarkDestroyed();
            entry.Engine.Dispose();
            NativeLogging.Log.LogInformation("engine 0x{Handle:x} destroyed", (long)handle);
        });

    // ---- styles and parameters ----------------------------------------------------------------------------

    [UnmanagedCallersOnly(EntryPoint = "sf_engine_load_style")]
    public static int EngineLoadStyle(nint handle, byte* nameOrPath) =>
        WithEngine("sf_engine_load_style", handle, entry =>
        {
            if (nameOrPath == null) throw Invalid("name_or_path is NULL");
            var name = Utf8((nint)nameOrPath);
            if (string.IsNullOrWhiteSpace(name)) throw Invalid("name_or_path is empty");
            entry.Engine.LoadStyle(name);
        });

    [UnmanagedCallersOnly(EntryPoint = "sf_engine_get_style_name")]
    public static int EngineGetStyleName(nint handle, byte* buffer, nuint size) =>
        WithEngine("sf_engine_get_style_name", handle, entry => CopyOut(entry.Engine.Style?.Name ?? "", buffer, size, "style name"));

    [UnmanagedCallersOnly(EntryPoint = "sf_engine_get_style_mix_count")]
    public static int EngineGetStyleMixCount(nint handle, int* count) =>
        WithEngine("sf_engine_get_style_mix_count", handle, entry =>
        {
            if (count == null) throw Invalid("count pointer is NULL");
            *count = entry.Engine.Style?.MixableStyles.Count ?? 0;
        });

    [UnmanagedCallersOnly(EntryPoint = "sf_engine_set_style_mix")]
    public static int EngineSetStyleMix(nint handle, float* weights, int count) =>
        WithEngine("sf_engine_set_style_mix", handle, entry =>
        {
            if (weights == null) throw Invalid("weights pointer is NULL");
            if (count is <= 0 or > 1024) throw Invalid($"count {count} is out of range");
            entry.Engine.SetStyleMix(new ReadOnlySpan<float>(weights, count));
        });

    [UnmanagedCallersOnly(EntryPoint = "sf_engine_get_style_mix_name")]
    public static int EngineGetStyleMixName(nint handle, int index, byte* buffer, nuint size) =>
        WithEngine("sf_engine_get_style_mix_name", handle, entry =>
        {
            var styles = entry.Engine.Style?.MixableStyles ?? [];
            if (index < 0 || index >= styles.Count) throw Invalid($"index {index} is outside 0..{styles.Count - 1} (the style mixes {styles.Count} styles)");
            CopyOut(styles[index], buffer, size, "style mix name");
        });

    [UnmanagedCallersOnly(EntryPoint = "sf_engine_set_param")]
    public static int EngineSetParam(nint handle, int param, double value) =>
        WithEngine("sf_engine_set_param", handle, entry =>
        {
            var name = ParamName(param);
            if (!double.IsFinite(value)) throw Invalid($"{name} value {value} is not a finite number");
            var engine = entry.Engine;
            // Ranges are checked on the double the host passed: rounding to float first would accept
            // 1.0000000001 as 1 and -1e-300 as -0, and turn a tiny positive scale into 0.
            switch (param)
            {
                case Abi.ParamAlpha:
                    engine.Alpha = (float)InRange(value, 0, 1, name);
                    break;
                case Abi.ParamSmoothing:
                    engine.Smoothing = (float)InRange(value, 0, 1, name);
                    break;
                case Abi.ParamPreserveColour:
                    if (value is not (0 or 1)) throw Invalid($"{name} {value} must be 0 or 1");
                    engine.PreserveColour = value == 1;
                    break;
                case Abi.ParamMotionCompensation:
                    if (value is not (0 or 1)) throw Invalid($"{name} {value} must be 0 or 1");
                    engine.MotionCompensation = value == 1;
                    break;
                case Abi.ParamInferenceScale:
                    if (value is <= 0 or > 1) throw Invalid($"{name} {value} must be in (0, 1]");
                    // Any positive scale is valid (inference never goes below StyleModel.MinInferenceSide).
                    engine.InferenceScale = Math.Max((float)value, StyleEngine.MinInferenceScale);
                    break;
                case Abi.ParamDevice:
                    if (value != Math.Floor(value) || value is < (int)ExecutionDevice.Auto or > (int)ExecutionDevice.DirectML)
                        throw Invalid($"{name} {value} is not an sf_device (SF_DEVICE_AUTO=0 .. SF_DEVICE_DIRECTML=4)");
                    engine.Device = (ExecutionDevice)(int)value;
                    NativeLogging.Log.LogInformation(
                        "engine 0x{Handle:x}: device set to {Device}; the change takes effect on the next sf_engine_load_style",
                        (long)handle, engine.Device);
                    break;
                case Abi.ParamNetworkTier:
                    if (value != Math.Floor(value) || value is < (int)ModelTier.Auto or > (int)ModelTier.Full)
                        throw Invalid($"{name} {value} is not an sf_tier (SF_TIER_AUTO=0 .. SF_TIER_FULL=3)");
                    engine.Tier = (ModelTier)(int)value;
                    NativeLogging.Log.LogInformation(
                        "engine 0x{Handle:x}: network tier set to {Tier}; the change takes effect on the next sf_engine_load_style",
                        (long)handle, engine.Tier);
                    break;
            }
        });

    [UnmanagedCallersOnly(EntryPoint = "sf_engine_get_param")]
    public static int EngineGetParam(nint handle, int param, double* value) =>
        WithEngine("sf_engine_get_param", handle, entry =>
        {
            var name = ParamName(param);
            if (value == null) throw Invalid("value pointer is NULL");
            var engine = entry.Engine;
            *value = param switch
            {
                Abi.ParamAlpha => engine.Alpha,
                Abi.ParamSmoothing => engine.Smoothing,
                Abi.ParamPreserveColour => engine.PreserveColour ? 1 : 0,
                Abi.ParamInferenceScale => engine.InferenceScale,
                Abi.ParamDevice => (int)engine.Device,
                Abi.ParamMotionCompensation => engine.MotionCompensation ? 1 : 0,
                Abi.ParamNetworkTier => (int)engine.Tier,
                _ => throw Invalid($"unknown parameter id {param}"),
            };
        });

    private static double InRange(double value, double min, double max, string name) =>
        value >= min && value <= max ? value : throw Invalid($"{name} {value} must be in [{min}, {max}]");

    private static string ParamName(int param) => param switch
    {
        Abi.ParamAlpha => "SF_PARAM_ALPHA",
        Abi.ParamSmoothing => "SF_PARAM_SMOOTHING",
        Abi.ParamPreserveColour => "SF_PARAM_PRESERVE_COLOUR",
        Abi.ParamInferenceScale => "SF_PARAM_INFERENCE_SCALE",
        Abi.ParamDevice => "SF_PARAM_DEVICE",
        Abi.ParamMotionCompensation => "SF_PARAM_MOTION_COMPENSATION",
        Abi.ParamNetworkTier => "SF_PARAM_NETWORK_TIER",
        _ => throw Invalid($"unknown parameter id {param} (SF_PARAM_ALPHA=1 .. SF_PARAM_NETWORK_TIER=7)"),
    };

    // ---- processing ---------------------------------------------------------------------------------------

    [UnmanagedCallersOnly(EntryPoint = "sf_engine_process_cpu")]
    public static int EngineProcessCpu(nint handle, SfFrame* input, SfFrame* output) =>
        WithEngine("sf_engine_process_cpu", handle, entry =>
        {
            if (input == null) throw Invalid("input frame pointer is NULL");
            if (output == null) throw Invalid("output frame pointer is NULL");
            var src = ToFrameBuffer(*input, "input");
            var dst = ToFrameBuffer(*output, "output");
            if (src.Width != dst.Width || src.Height != dst.Height)
                throw Invalid($"input is {src.Width}x{src.Height} but output is {dst.Width}x{dst.Height}; sizes must match");

            // The engine reads the whole input before it writes the output, so in-place (same memory and
            // stride) is safe as is; buffers that overlap any other way get a private copy of the input.
            if (Overlaps(src, dst) && !(src.Data == dst.Data && src.Stride == dst.Stride))
            {
                var bytes = (nuint)src.SpanBytes;
                var copy = NativeMemory.Alloc(bytes);
                try
                {
                    Buffer.MemoryCopy((void*)src.Data, copy, bytes, bytes);
                    entry.Engine.Process(src with { Data = (nint)copy }, dst);
                }
                finally
                {
                    NativeMemory.Free(copy);
                }
                return;
            }
            entry.Engine.Process(src, dst);
        });

    private static FrameBuffer ToFrameBuffer(in SfFrame f, string role)
    {
        if (f.Format is < (int)PixelFormat.Rgba8 or > (int)PixelFormat.Rgba32F)
            throw Invalid($"{role} frame format {f.Format} is not an sf_pixel_format (SF_FORMAT_RGBA8=1 .. SF_FORMAT_RGBA32F=3)");
        var frame = new FrameBuffer(f.Data, f.Width, f.Height, f.Stride, (PixelFormat)f.Format);
        frame.Validate(role);
        return frame;
    }

    private static bool Overlaps(in FrameBuffer a, in FrameBuffer b)
    {
        var a0 = (ulong)a.Data; var a1 = a0 + (ulong)a.SpanBytes;
        var b0 = (ulong)b.Data; var b1 = b0 + (ulong)b.SpanBytes;
        return a0 < b1 && b0 < a1;
    }

    [UnmanagedCallersOnly(EntryPoint = "sf_engine_process_texture")]
    public static int EngineProcessTexture(nint handle, SfTexture* input, SfTexture* output) =>
        WithEngine("sf_engine_process_texture", handle, _ =>
        {
            if (input == null || output == null) throw Invalid("texture pointer is NULL");
            throw new StyleFilterException(StatusCode.Unsupported,
                "GPU texture processing is not implemented yet; read the texture back and use sf_engine_process_cpu");
        });

    [UnmanagedCallersOnly(EntryPoint = "sf_engine_reset_history")]
    public static int EngineResetHistory(nint handle) =>
        WithEngine("sf_engine_reset_history", handle, entry => entry.Engine.ResetHistory());

    [UnmanagedCallersOnly(EntryPoint = "sf_engine_get_stats")]
    public static int EngineGetStats(nint handle, SfStats* result) =>
        WithEngine("sf_engine_get_stats", handle, entry =>
        {
            if (result == null) throw Invalid("stats pointer is NULL");
            CheckStructSize(result->StructSize, sizeof(SfStats), "sf_stats");
            var s = entry.Engine.Stats;
            var filled = new SfStats
            {
                StructSize = (uint)sizeof(SfStats),
                Frames = (ulong)Math.Max(0, s.Frames),
                MeanMs = s.MeanMs,
                P50Ms = s.P50Ms,
                P99Ms = s.P99Ms,
                HistoryResets = (ulong)Math.Max(0, s.HistoryResets),
                PassThroughFrames = (ulong)Math.Max(0, s.PassThroughFrames),
            };
            var provider = new Span<byte>(filled.Provider, SfStats.ProviderBytes - 1);
            Utf8Truncate(s.Provider ?? "", provider);
            // struct_size keeps the caller's value: fields beyond version 1 are left as the caller set them.
            filled.StructSize = result->StructSize;
            *result = filled;
        });

    /// <summary>Writes as much of s as fits without splitting a UTF-8 sequence (the rest of dest stays zero).</summary>
    private static void Utf8Truncate(string s, Span<byte> dest)
    {
        var encoder = Encoding.UTF8.GetEncoder();
        encoder.Convert(s.AsSpan(), dest, flush: true, out _, out _, out _);
    }
}
