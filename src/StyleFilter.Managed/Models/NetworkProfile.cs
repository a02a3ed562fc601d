using System.Text.Json;
using StyleFilter.Ort;

namespace StyleFilter.Models;

/// <summary>
/// What one run of a style's network costs and which kernels ONNX Runtime ran for it, read from ONNX Runtime's own
/// profiler at a given inference size (bench's GFLOP and GFLOPS columns, and the check that an int8 pack runs
/// integer kernels). <see cref="Gflop"/> counts the convolutions' multiply-adds, twice (one multiply, one add), taken
/// from a run of the graphs as written (no graph optimisation: the CPU provider's blocked layout pads channels, which
/// would count work the network does not ask for); <see cref="ConvKernels"/> names the convolution kernels of a run
/// with the engine's optimisations, e.g. QLinearConv for int8, and <see cref="TimeShares"/> where that run's time
/// went, per operator type (one run: a rough picture, not a benchmark).
/// </summary>
public sealed record NetworkProfile(double Gflop, IReadOnlyDictionary<string, int> ConvKernels, IReadOnlyDictionary<string, double> TimeShares)
{
    public string KernelSummary => string.Join(", ", ConvKernels.OrderByDescending(k => k.Value).Select(k => $"{k.Value} {k.Key}"));

    public string TimeSummary(int top = 4) =>
        string.Join(", ", TimeShares.OrderByDescending(t => t.Value).Take(top).Select(t => $"{t.Key} {t.Value:P0}"));

    public static NetworkProfile Measure(string source, int width, int height, int intraOpThreads = 0, ProviderChoice? provider = null)
    {
        var folder = Directory.CreateTempSubdirectory("stylefilter-profile-");
        try
        {
            SessionConfig Profiled(string name, bool optimize) =>
                new(intraOpThreads, provider) { Optimize = optimize, ProfilePrefix = Path.Combine(folder.FullName, name) };
            var asWritten = RunProfiled(source, width, height, Profiled("written", optimize: false));
            var optimised = RunProfiled(source, width, height, Profiled("optimised", optimize: true));
            double flop = asWritten.Where(n => n.Op == "Conv").Sum(ConvFlop);
            var kernels = optimised.Where(n => n.Op.Contains("Conv", StringComparison.Ordinal))
                .GroupBy(n => n.Op).ToDictionary(g => g.Key, g => g.Count());
            double total = Math.Max(1, optimised.Sum(n => n.Microseconds));
            var shares = optimised.GroupBy(n => n.Op).ToDictionary(g => g.Key, g => g.Sum(n => n.Microseconds) / total);
            return new NetworkProfile(flop / 1e9, kernels, shares);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private sealed record Node(string Op, long[][] Inputs, long[][] Outputs, long Microseconds);

    /// <summary>The operators of one run of every graph of the model, with the shapes they saw.</summary>
    private static List<Node> RunProfiled(string source, int width, int height, SessionConfig config)
    {
        using var model = ModelLoader.Load(StyleCatalog.Resolve(source), config);
        model.PrepareInput(width, height);
        for (int run = 0; run < 3; run++) model.RunInferenceOnly();   // the last run counts: warm, its buffers made
        var nodes = new List<Node>();
        foreach (var stage in model.Stages.DistinctBy(s => s.Session))
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(stage.Session.EndProfiling()));
            var events = json.RootElement.EnumerateArray().ToList();
            // Loading may run the model already (the free-size check): only the last run's operators count.
            var lastRun = events.Last(e => e.GetProperty("name").GetString() == "model_run");
            long from = lastRun.GetProperty("ts").GetInt64(), to = from + lastRun.GetProperty("dur").GetInt64();
            foreach (var e in events)
            {
                if (e.GetProperty("cat").GetString() != "Node" || !e.TryGetProperty("args", out var args)
                    || !args.TryGetProperty("op_name", out var op) || !e.GetProperty("name").GetString()!.EndsWith("_kernel_time", StringComparison.Ordinal)
                    || e.GetProperty("ts").GetInt64() is var ts && (ts < from || ts > to))
                    continue;
                nodes.Add(new Node(op.GetString()!, Shapes(args, "input_type_shape"), Shapes(args, "output_type_shape"), e.GetProperty("dur").GetInt64()));
            }
        }
        return nodes;
    }

    /// <summary>[{"float": [1, 16, 90, 160]}, ...] as shapes.</summary>
    private static long[][] Shapes(JsonElement args, string key) =>
        args.TryGetProperty(key, out var list)
            ? [.. list.EnumerateArray().Select(t => t.EnumerateObject().First().Value.EnumerateArray().Select(d => d.GetInt64()).ToArray())]
            : [];

    /// <summary>2 x output elements x (input channels per group x kernel area): weight [out, in/group, kh, kw].</summary>
    private static double ConvFlop(Node n)
    {
        if (n.Inputs.Length < 2 || n.Outputs.Length < 1 || n.Inputs[1].Length < 3) return 0;
        double perOutput = n.Inputs[1].Skip(1).Aggregate(1.0, (a, d) => a * d);
        double outputs = n.Outputs[0].Aggregate(1.0, (a, d) => a * d);
        return 2 * outputs * perOutput;
    }
}
