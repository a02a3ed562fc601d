namespace StyleFilter.Gpu;
public static class GpuProbe { }
