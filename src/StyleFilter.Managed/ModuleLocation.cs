using System.Runtime.InteropServices;

namespace StyleFilter;

/// <summary>
/// The folder holding the engine's own binary. For the NativeAOT library loaded into a host (OBS, an OFX host)
/// this is the plugin folder, which is where ONNX Runtime and the bundled models are installed beside it.
/// </summary>
public static unsafe class ModuleLocation
{
    public static string? Directory { get; } = Find();

    private static string? Find()
    {
        try
        {
            if (!OperatingSystem.IsLinux()) return null;
            // Any address inside this module works: a static function's native entry point is one.
            DlInfo info;
            delegate* unmanaged<void> self = &Anchor;
            if (dladdr((nint)self, &info) == 0 || info.FileName == 0) return null;
            var path = Marshal.PtrToStringUTF8(info.FileName);
            // For a JIT-hosted assembly the anchor lives in a runtime stub, not in our file: ignore that case.
            return path is null || path.Contains("libcoreclr") || path.Contains("dotnet") ? null : Path.GetDirectoryName(Path.GetFullPath(path));
        }
        catch (Exception)
        {
            return null;
        }
    }

    [UnmanagedCallersOnly]
    private static void Anchor() { }

    [StructLayout(LayoutKind.Sequential)]
    private struct DlInfo { public nint FileName; public nint Base; public nint SymbolName; public nint SymbolAddress; }

    [DllImport("libc", EntryPoint = "dladdr")]
    private static extern int dladdr(nint address, DlInfo* info);
}
