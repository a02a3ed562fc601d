using System.Runtime.InteropServices;

namespace StyleFilter.Native;

// Blittable mirrors of the structs in stylefilter.h. Field order and types must match the header exactly;
// tests/abi/test_abi.c exercises every one of them through the real library.

/// <summary>sf_engine_options (version 1 layout: 24 bytes on 64-bit).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SfEngineOptions
{
    public uint StructSize;
    public nint OrtLibraryPath; // const char*, UTF-8
    public int IntraOpThreads;
    public int Device;
}

/// <summary>sf_frame.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SfFrame
{
    public nint Data;
    public int Width;
    public int Height;
    public int Stride;
    public int Format;
}

/// <summary>sf_texture.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SfTexture
{
    public int Api;
    public ulong Handle;
    public int Width;
    public int Height;
    public int Format;
    public nint CudaStream;
}

/// <summary>sf_stats (version 1 layout: 88 bytes on 64-bit).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct SfStats
{
    public const int ProviderBytes = 32;
    public uint StructSize;
    public ulong Frames;
    public double MeanMs;
    public double P50Ms;
    public double P99Ms;
    public ulong HistoryResets;
    public ulong PassThroughFrames;
    public fixed byte Provider[ProviderBytes];
}

/// <summary>sf_style_info (version 1 layout: 676 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct SfStyleInfo
{
    public const int IdBytes = 256, TitleBytes = 256, ArtistBytes = 128, YearBytes = 32;
    public uint StructSize;
    public fixed byte Id[IdBytes];
    public fixed byte Title[TitleBytes];
    public fixed byte Artist[ArtistBytes];
    public fixed byte Year[YearBytes];
}

/// <summary>Numbers from stylefilter.h that only the ABI layer uses.</summary>
internal static class Abi
{
    public const uint Version = 1;

    public const int ParamAlpha = 1, ParamSmoothing = 2, ParamPreserveColour = 3, ParamInferenceScale = 4, ParamDevice = 5, ParamMotionCompensation = 6, ParamNetworkTier = 7;
    public const int LogError = 1, LogWarning = 2, LogInfo = 3, LogDebug = 4;
    public const int TextureOpenGl = 1, TextureD3D11 = 2, TextureCuda = 3;

    /// <summary>A struct_size above this is a garbage value, not a future version of the struct.</summary>
    public const uint MaxStructSize = 4096;
}
