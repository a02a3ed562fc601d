namespace StyleFilter.Pipeline;

/// <summary>The last 1024 frame times, for mean and percentiles without growing memory.</summary>
public sealed class LatencyRecorder
{
    private readonly double[] _samples = new double[1024];
    private long _count;

    public void Add(double ms) => _samples[_count++ % _samples.Length] = ms;

    public (double Mean, double P50, double P99) Summary()
    {
        int n = (int)Math.Min(_count, _samples.Length);
        if (n == 0) return (0, 0, 0);
        var sorted = _samples[..n];
        Array.Sort(sorted);
        return (sorted.Average(), Percentile(sorted, 0.50), Percentile(sorted, 0.99));
    }

    /// <summary>Nearest-rank percentile of sorted samples.</summary>
    public static double Percentile(double[] sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
