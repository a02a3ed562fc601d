using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace StyleFilter.Ort;

/// <summary>Name, element type and shape of a model input or output; -1 marks a dynamic dimension.</summary>
public sealed record TensorInfo(string Name, int ElementType, long[] Shape)
{
    public const int Float = (int)TensorElementType.Float;
    public bool IsFloat => ElementType == Float;
    public override string ToString() => $"{Name}[{string.Join('x', Shape.Select(d => d < 0 ? "?" : d.ToString()))}]";
}

/// <summary>A run stopped at its time limit (<see cref="OrtSession.Run"/>).</summary>
public sealed class InferenceTimeoutException(string message) : StyleFilterException(StatusCode.RuntimeError, message);

/// <summary>How a session is created: threads and the execution provider.</summary>
public sealed record SessionConfig(int IntraOpThreads = 0, ProviderChoice? Provider = null)
{
    /// <summary>
    /// ONNX Runtime's graph optimisations (all levels) for models; the engine's own frame graphs are written as they
    /// should run, and the optimisers only slow them (the transpose optimiser turns a plane's slice into a gather).
    /// </summary>
    public bool Optimize { get; init; } = true;

    /// <summary>When set, ONNX Runtime's profiler writes every run's operators to PREFIX_*.json (bench's network profile).</summary>
    public string? ProfilePrefix { get; init; }
}

/// <summary>
/// An error ONNX Runtime reported, as the engine's error: the model's fault (no such file, no model, invalid
/// protobuf, invalid graph) is SF_ERR_MODEL, anything else SF_ERR_RUNTIME. The official exception is not kept
/// as the inner one: its text is already in the message (without its prefix).
/// </summary>
public sealed class OrtException(string message, OnnxRuntimeException error)
    : StyleFilterException(IsModelsFault(error) ? StatusCode.ModelError : StatusCode.RuntimeError, $"{message}: {Text(error)}")
{
    // The official API's exception carries its OrtErrorCode only in the message: "[ErrorCode:Name] text".
    private static readonly string[] ModelFaults = ["NoSuchFile", "NoModel", "InvalidProtobuf", "InvalidGraph"];

    private static bool IsModelsFault(OnnxRuntimeException e) => ModelFaults.Any(c => e.Message.StartsWith($"[ErrorCode:{c}]", StringComparison.Ordinal));

    /// <summary>The message without the "[ErrorCode:Name] " prefix the official API puts before it.</summary>
    internal static string Text(Exception e)
    {
        var m = e.Message;
        return m.StartsWith("[ErrorCode:", StringComparison.Ordinal) && m.IndexOf("] ", StringComparison.Ordinal) is var end and > 0 ? m[(end + 2)..] : m;
    }
}

/// <summary>
/// An ONNX Runtime inference session with its input/output signature, run through an <see cref="OrtIoBinding"/>:
/// values stay bound across runs, so a steady stream of frames allocates nothing. There are two bindings, each kept
/// for the values it last ran with: a caller that alternates between two sets (the graph path's history, used in
/// turn) finds each set still bound.
/// </summary>
public sealed class OrtSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly Binding[] _bindings;
    private int _lastBinding;
    private readonly bool _rebindInputsEveryRun;
    private readonly RunWatchdog _watchdog = new();
    private bool _disposed;

    public IReadOnlyList<TensorInfo> Inputs { get; }
    public IReadOnlyList<TensorInfo> Outputs { get; }
    public string Source { get; }

    /// <summary>
    /// The most CPU memory ONNX Runtime may hold for all engines of the process together: half the machine's
    /// memory, at least 2 GiB and at most 4 GiB (the largest arena size the official C# API's OrtArenaCfg takes).
    /// A model that asks for more (an Expand to gigabytes) fails that run with an error instead of driving the host
    /// into the out-of-memory killer. Measured: a 1080p frame of the full-width network peaks at 3.7 GB resident, so
    /// a 4K one (or two 1080p engines at once) hits the cap and passes through.
    /// </summary>
    public static long CpuMemoryLimitBytes { get; } =
        Math.Clamp(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2, 2L << 30, uint.MaxValue);

    private OrtSession(InferenceSession session, string source, bool rebindInputsEveryRun)
    {
        _session = session;
        Source = source;
        Inputs = session.InputNames.Select(n => Describe(n, session.InputMetadata[n])).ToArray();
        Outputs = session.OutputNames.Select(n => Describe(n, session.OutputMetadata[n])).ToArray();
        _rebindInputsEveryRun = rebindInputsEveryRun;
        _bindings = [new(session, Inputs.Count, Outputs.Count), new(session, Inputs.Count, Outputs.Count)];
    }

    private static TensorInfo Describe(string name, NodeMetadata m) =>
        m.OnnxValueType == OnnxValueType.ONNX_TYPE_TENSOR
            ? new TensorInfo(name, (int)m.ElementDataType, m.Dimensions.Select(d => (long)d).ToArray())
            : new TensorInfo(name, 0, []);

    public static OrtSession FromFile(string path, SessionConfig config)
    {
        if (!File.Exists(path)) throw new StyleFilterException(StatusCode.ModelError, $"model file not found: {path}");
        return Create(config, path, options => new InferenceSession(path, options));
    }

    public static OrtSession FromBytes(byte[] model, string source, SessionConfig config) =>
        Create(config, source, options => new InferenceSession(model, options));

    private static OrtSession Create(SessionConfig config, string source, Func<SessionOptions, InferenceSession> open)
    {
        OrtRuntime.EnsureLoaded(); // the environment (logger, arena) exists before any session option is made
        InferenceSession? session = null;
        try
        {
            using var options = new SessionOptions
            {
                GraphOptimizationLevel = config.Optimize ? GraphOptimizationLevel.ORT_ENABLE_ALL : GraphOptimizationLevel.ORT_DISABLE_ALL,
            };
            if (config.IntraOpThreads > 0) options.IntraOpNumThreads = config.IntraOpThreads;
            options.AddSessionConfigEntry("session.use_env_allocators", "1"); // the environment's capped arena
            // No spinning: a style is two or more sessions (encoder, decoder, frame graphs), each with its own pool, and
            // one's workers spinning after its run took the cores the next session needed: with 2 threads on 2 cores
            // the fast network ran at 18 FPS spinning and 30 to 41 FPS without (docs/benchmarks.md).
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            if (config.ProfilePrefix is { } prefix)
            {
                options.ProfileOutputPathPrefix = prefix; // first: enabling takes the prefix set at that moment
                options.EnableProfiling = true;
            }
            if (config.Provider is not null) ExecutionProviders.Append(options, config.Provider);
            try { session = open(options); }
            catch (Exception e) when (e is not (StyleFilterException or OutOfMemoryException))
            {
                // Whatever stops ONNX Runtime from making a session of it (parse, graph, types) is the model's fault.
                throw new StyleFilterException(StatusCode.ModelError, $"loading model '{source}': {OrtException.Text(e)}");
            }
            return new OrtSession(session, source, rebindInputsEveryRun: config.Provider is { EpDevices.Length: > 0 });
        }
        catch (OnnxRuntimeException e)
        {
            session?.Dispose();
            throw new OrtException($"setting up a session for '{source}'", e);
        }
        catch
        {
            session?.Dispose();
            throw;
        }
    }

    /// <summary>Stops a profiling session's profiler and returns the file it wrote.</summary>
    public string EndProfiling() => _session.EndProfiling();

    public int InputIndex(string name) => IndexOf(Inputs, name);
    public int OutputIndex(string name) => IndexOf(Outputs, name);
    private static int IndexOf(IReadOnlyList<TensorInfo> list, string name)
    {
        for (int i = 0; i < list.Count; i++) if (list[i].Name == name) return i;
        return -1;
    }

    /// <summary>
    /// Runs the model. inputs[i] feeds Inputs[i]; outputs[j] receives Outputs[j]: a non-null value is written
    /// in place (it must have the right shape), a null one is replaced by a value ONNX Runtime allocates (the
    /// caller owns it). A run that takes longer than timeLimit is stopped (ONNX Runtime checks between operators)
    /// and fails with SF_ERR_RUNTIME: a model is untrusted, and a Loop of 2^62 iterations must not hold a host's
    /// frame forever. Outputs ONNX Runtime allocates live in <paramref name="allocateOn"/> (default: CPU memory).
    /// </summary>
    public void Run(ReadOnlySpan<OrtValue> inputs, Span<OrtValue?> outputs, TimeSpan timeLimit, OrtMemoryInfo? allocateOn = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (inputs.Length != Inputs.Count || outputs.Length != Outputs.Count)
            throw new StyleFilterException(StatusCode.Internal, $"Run expects {Inputs.Count} inputs and {Outputs.Count} outputs");
        var binding = Choose(inputs, outputs);
        bool allocates = Bind(binding, inputs, outputs, allocateOn ?? OrtMemoryInfo.DefaultInstance);
        OnnxRuntimeException? failure = null;
        _watchdog.Arm(timeLimit);
        try
        {
            _session.RunWithBinding(_watchdog.Options, binding.IoBinding);
        }
        catch (OnnxRuntimeException e)
        {
            failure = e;
        }
        finally
        {
            _watchdog.Disarm();
        }
        if (failure is not null)
        {
            if (_watchdog.Fired)
                throw new InferenceTimeoutException($"running '{Source}' took longer than {timeLimit.TotalSeconds:F0} s and was stopped");
            throw new OrtException($"running '{Source}'", failure); // the message is built only on failure: Run is per frame
        }
        if (allocates) TakeAllocatedOutputs(binding, outputs);
    }

    /// <summary>The binding that already holds these values, else the one used less recently.</summary>
    private Binding Choose(ReadOnlySpan<OrtValue> inputs, Span<OrtValue?> outputs)
    {
        int chosen = 1 - _lastBinding;
        for (int b = 0; b < _bindings.Length; b++)
            if (_bindings[b].Holds(inputs, outputs)) { chosen = b; break; }
        _lastBinding = chosen;
        return _bindings[chosen];
    }

    /// <summary>
    /// (Re)binds what changed since this binding's last run; true when some output is left for ONNX Runtime to allocate.
    /// On a CPU session a bound input is read in place at every run; a GPU provider copies it to the device when
    /// it is bound, so there every input is bound again before each run.
    /// </summary>
    private bool Bind(Binding b, ReadOnlySpan<OrtValue> inputs, Span<OrtValue?> outputs, OrtMemoryInfo allocateOn)
    {
        for (int i = 0; i < inputs.Length; i++)
        {
            if (!_rebindInputsEveryRun && ReferenceEquals(b.Inputs[i], inputs[i])) continue;
            b.IoBinding.BindInput(Inputs[i].Name, inputs[i]);
            b.Inputs[i] = inputs[i];
        }
        bool allocates = false, changed = false;
        for (int j = 0; j < outputs.Length; j++)
        {
            allocates |= outputs[j] is null;
            changed |= outputs[j] is null || !ReferenceEquals(b.Outputs[j], outputs[j]);
        }
        if (!changed) return false;
        // Bound in output order, so that the values ONNX Runtime hands back are in that order too.
        b.IoBinding.ClearBoundOutputs();
        for (int j = 0; j < outputs.Length; j++)
        {
            if (outputs[j] is { } own) b.IoBinding.BindOutput(Outputs[j].Name, own);
            else b.IoBinding.BindOutputToDevice(Outputs[j].Name, allocateOn);
            b.Outputs[j] = outputs[j];
        }
        return allocates;
    }

    private static void TakeAllocatedOutputs(Binding b, Span<OrtValue?> outputs)
    {
        // Not disposed as a whole: that would dispose the values handed to the caller too.
        var values = b.IoBinding.GetOutputValues();
        for (int j = 0; j < outputs.Length; j++)
        {
            if (outputs[j] is null) outputs[j] = values.ElementAt(j);
            else values.ElementAt(j).Dispose(); // another handle on our own output
        }
        // The binding still holds the allocated values: forget them, so the next run binds again.
        b.IoBinding.ClearBoundOutputs();
        Array.Clear(b.Outputs);
    }

    /// <summary>An OrtIoBinding and the values bound in it (null: nothing, or a value ONNX Runtime allocates).</summary>
    private sealed class Binding(InferenceSession session, int inputs, int outputs) : IDisposable
    {
        public OrtIoBinding IoBinding { get; } = session.CreateIoBinding();
        public OrtValue?[] Inputs { get; } = new OrtValue?[inputs];
        public OrtValue?[] Outputs { get; } = new OrtValue?[outputs];

        public bool Holds(ReadOnlySpan<OrtValue> inputs, Span<OrtValue?> outputs)
        {
            for (int i = 0; i < inputs.Length; i++) if (!ReferenceEquals(Inputs[i], inputs[i])) return false;
            for (int j = 0; j < outputs.Length; j++) if (outputs[j] is null || !ReferenceEquals(Outputs[j], outputs[j])) return false;
            return true;
        }

        public void Dispose()
        {
            IoBinding.Dispose();
            Array.Clear(Inputs);
            Array.Clear(Outputs);
        }
    }

    /// <summary>Sets ONNX Runtime's terminate flag on a run that outlives its time limit.</summary>
    private sealed class RunWatchdog : IDisposable
    {
        private readonly object _gate = new();
        private readonly Timer _timer;
        private bool _armed;

        public RunOptions Options { get; } = new();
        public bool Fired { get; private set; }

        public RunWatchdog() => _timer = new Timer(_ => Fire());

        public void Arm(TimeSpan limit)
        {
            lock (_gate) { _armed = true; Fired = false; }
            _timer.Change(limit, Timeout.InfiniteTimeSpan);
        }

        public void Disarm()
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            // Under the gate, so a timer callback already under way cannot set the flag after it is cleared.
            lock (_gate) _armed = false;
            Options.Terminate = false;
        }

        private void Fire()
        {
            try
            {
                lock (_gate)
                {
                    if (!_armed) return;
                    Fired = true;
                    Options.Terminate = true;
                }
            }
            catch (Exception)
            {
                // A timer thread must not throw (it would end the host's process); the run then just finishes late.
            }
        }

        public void Dispose()
        {
            _timer.Dispose();
            lock (_gate) { _armed = false; Options.Dispose(); }
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var b in _bindings) b.Dispose();
        _session.Dispose();
        _watchdog.Dispose();
    }
}
