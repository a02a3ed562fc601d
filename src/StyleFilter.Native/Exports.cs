using System.Runtime.InteropServices;
namespace StyleFilter.Native;
public static class Exports
{
    [UnmanagedCallersOnly(EntryPoint = "sf_version")]
    public static int Version() => 1;
}
