using System.Runtime.InteropServices;
using static StyleFilter.Ort.OrtApi;

namespace StyleFilter.Ort;

/// <summary>Name, element type and shape of a model input or output; -1 marks a dynamic dimension.</summary>
public sealed record TensorInfo(string Name, int ElementType, long[] Shape)
{
    public const int Float = 1; // ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT
    public bool IsFloat => ElementType == Float;
    public override string ToString() => $"{Name}[{string.Join('x', Shape.Select(d => d < 0 ? "?" : d.ToString()))}]";
}

/// <summary>A run stopped at its time limit (<see cref="OrtSession.Run"/>).</summary>
public sealed class InferenceTimeoutException(string message) : StyleFilterException(StatusCode.RuntimeError, message);

/// <summary>How a session is created: threads and the execution provider.</summary>
public sealed record SessionConfig(int IntraOpThreads = 0, ProviderChoice? Provider = null);

/// <summary>An ONNX Runtime inference session with its input/output signature read from the model.</summary>
public sealed unsafe class OrtSession : IDisposable
{
    private static readonly Lazy<nint> SharedEnv = new(CreateEnv, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The process's one OrtEnv.</summary>
    internal static nint Env => SharedEnv.Value;
    private nint _session;
    private readonly nint[] _inputNames;   // UTF-8 copies owned by us, handed to Run without marshalling
    private readonly nint[] _outputNames;

    public IReadOnlyList<TensorInfo> Inputs { get; }
    public IReadOnlyList<TensorInfo> Outputs { get; }
    public string Source { get; }

    private OrtSession(nint session, string source)
    {
        _session = session;
        Source = source;
        Inputs = ReadSignature(isInput: true);
        Outputs = ReadSignature(isInput: false);
        _inputNames = Inputs.Select(i => Marshal.StringToCoTaskMemUTF8(i.Name)).ToArray();
        _outputNames = Outputs.Select(o => Marshal.StringToCoTaskMemUTF8(o.Name)).ToArray();
    }

    public static OrtSession FromFile(string path, SessionConfig config)
    {
        if (!File.Exists(path)) throw new StyleFilterException(StatusCode.ModelError, $"model file not found: {path}");
        return Create(config, path, (env, options) =>
        {
            var chars = PathToOrtChars(path);
            try
            {
                nint session;
                Check(((delegate* unmanaged[Cdecl]<nint, nint, nint, nint*, nint>)Fn(Slot.CreateSession))(env, chars, options, &session), $"loading model '{path}'");
                return session;
            }
            finally { FreeOrtChars(chars); }
        });
    }

    public static OrtSession FromBytes(byte[] model, string source, SessionConfig config) =>
        Create(config, source, (env, options) =>
        {
            nint session;
            fixed (byte* p = model)
                Check(((delegate* unmanaged[Cdecl]<nint, byte*, nuint, nint, nint*, nint>)Fn(Slot.CreateSessionFromArray))(env, p, (nuint)model.Length, options, &session), $"loading model '{source}'");
            return session;
        });

    private static OrtSession Create(SessionConfig config, string source, Func<nint, nint, nint> open)
    {
        EnsureLoaded();
        nint options;
        Check(((delegate* unmanaged[Cdecl]<nint*, nint>)Fn(Slot.CreateSessionOptions))(&options), "CreateSessionOptions");
        try
        {
            Check(((delegate* unmanaged[Cdecl]<nint, int, nint>)Fn(Slot.SetSessionGraphOptimizationLevel))(options, 99), "SetSessionGraphOptimizationLevel");
            if (config.IntraOpThreads > 0)
                Check(((delegate* unmanaged[Cdecl]<nint, int, nint>)Fn(Slot.SetIntraOpNumThreads))(options, config.IntraOpThreads), "SetIntraOpNumThreads");
            UseSharedCpuArena(options);
            if (config.Provider is not null) ExecutionProviders.Append(options, config.Provider);
            nint session;
            try { session = open(SharedEnv.Value, options); }
            catch (OrtException e) { throw new StyleFilterException(StatusCode.ModelError, e.Message, e); }
            return new OrtSession(session, source);
        }
        finally { Release(Slot.ReleaseSessionOptions, options); }
    }

    private static nint CreateEnv()
    {
        nint env;
        var id = Marshal.StringToCoTaskMemUTF8("stylefilter");
        try
        {
            Check(((delegate* unmanaged[Cdecl]<delegate* unmanaged[Cdecl]<nint, int, byte*, byte*, byte*, byte*, void>, nint, int, nint, nint*, nint>)
                Fn(Slot.CreateEnvWithCustomLogger))(OrtLog.Callback, 0, OrtLog.MinSeverity, id, &env), "CreateEnvWithCustomLogger");
        }
        finally { Marshal.FreeCoTaskMem(id); }
        RegisterCpuArena(env);
        return env; // one environment per process, kept for its lifetime as ONNX Runtime recommends
    }

    /// <summary>
    /// The most CPU memory ONNX Runtime may hold for all engines of the process together: half the machine's
    /// memory, at least 2 GiB. A model that asks for more (an Expand to gigabytes) fails that run with an error
    /// instead of driving the host into the out-of-memory killer; a 4K frame of the full-width network needs ~1 GiB.
    /// </summary>
    public static long CpuMemoryLimitBytes { get; } =
        Math.Max(2L << 30, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2);

    /// <summary>One capped arena in the environment, shared by every session (<see cref="UseSharedCpuArena"/>).</summary>
    private static void RegisterCpuArena(nint env)
    {
        nint memoryInfo, arena;
        Check(((delegate* unmanaged[Cdecl]<int, int, nint*, nint>)Fn(Slot.CreateCpuMemoryInfo))(1 /* OrtArenaAllocator */, 0, &memoryInfo), "CreateCpuMemoryInfo");
        try
        {
            var keys = new[] { Marshal.StringToCoTaskMemUTF8("max_mem"), Marshal.StringToCoTaskMemUTF8("arena_extend_strategy") };
            try
            {
                var values = new nuint[] { (nuint)CpuMemoryLimitBytes, 1 /* kSameAsRequested: no power-of-two overshoot */ };
                fixed (nint* k = keys)
                fixed (nuint* v = values)
                    Check(((delegate* unmanaged[Cdecl]<nint*, nuint*, nuint, nint*, nint>)Fn(Slot.CreateArenaCfgV2))(k, v, (nuint)keys.Length, &arena), "CreateArenaCfgV2");
            }
            finally { foreach (var k in keys) Marshal.FreeCoTaskMem(k); }
            try { Check(((delegate* unmanaged[Cdecl]<nint, nint, nint, nint>)Fn(Slot.CreateAndRegisterAllocator))(env, memoryInfo, arena), "CreateAndRegisterAllocator"); }
            finally { Release(Slot.ReleaseArenaCfg, arena); }
        }
        finally { Release(Slot.ReleaseMemoryInfo, memoryInfo); }
    }

    private static void UseSharedCpuArena(nint options)
    {
        var key = Marshal.StringToCoTaskMemUTF8("session.use_env_allocators");
        var value = Marshal.StringToCoTaskMemUTF8("1");
        try { Check(((delegate* unmanaged[Cdecl]<nint, nint, nint, nint>)Fn(Slot.AddSessionConfigEntry))(options, key, value), "AddSessionConfigEntry"); }
        finally { Marshal.FreeCoTaskMem(key); Marshal.FreeCoTaskMem(value); }
    }

    private TensorInfo[] ReadSignature(bool isInput)
    {
        nuint count;
        Check(((delegate* unmanaged[Cdecl]<nint, nuint*, nint>)Fn(isInput ? Slot.SessionGetInputCount : Slot.SessionGetOutputCount))(_session, &count), "signature count");
        nint allocator;
        Check(((delegate* unmanaged[Cdecl]<nint*, nint>)Fn(Slot.GetAllocatorWithDefaultOptions))(&allocator), "GetAllocatorWithDefaultOptions");
        var result = new TensorInfo[(int)count];
        for (nuint i = 0; i < count; i++)
        {
            nint namePtr, typeInfo;
            Check(((delegate* unmanaged[Cdecl]<nint, nuint, nint, nint*, nint>)Fn(isInput ? Slot.SessionGetInputName : Slot.SessionGetOutputName))(_session, i, allocator, &namePtr), "name");
            var name = Marshal.PtrToStringUTF8(namePtr) ?? "";
            Check(((delegate* unmanaged[Cdecl]<nint, nint, nint>)Fn(Slot.AllocatorFree))(allocator, namePtr), "AllocatorFree");
            Check(((delegate* unmanaged[Cdecl]<nint, nuint, nint*, nint>)Fn(isInput ? Slot.SessionGetInputTypeInfo : Slot.SessionGetOutputTypeInfo))(_session, i, &typeInfo), "type info");
            try
            {
                int onnxType;
                Check(((delegate* unmanaged[Cdecl]<nint, int*, nint>)Fn(Slot.GetOnnxTypeFromTypeInfo))(typeInfo, &onnxType), "GetOnnxTypeFromTypeInfo");
                if (onnxType != 1 /* ONNX_TYPE_TENSOR */) { result[i] = new TensorInfo(name, 0, []); continue; }
                nint tensorInfo;
                Check(((delegate* unmanaged[Cdecl]<nint, nint*, nint>)Fn(Slot.CastTypeInfoToTensorInfo))(typeInfo, &tensorInfo), "CastTypeInfoToTensorInfo");
                result[i] = new TensorInfo(name, ElementType(tensorInfo), Dimensions(tensorInfo));
            }
            finally { Release(Slot.ReleaseTypeInfo, typeInfo); }
        }
        return result;
    }

    internal static int ElementType(nint tensorInfo)
    {
        int type;
        Check(((delegate* unmanaged[Cdecl]<nint, int*, nint>)Fn(Slot.GetTensorElementType))(tensorInfo, &type), "GetTensorElementType");
        return type;
    }

    internal static long[] Dimensions(nint tensorInfo)
    {
        nuint rank;
        Check(((delegate* unmanaged[Cdecl]<nint, nuint*, nint>)Fn(Slot.GetDimensionsCount))(tensorInfo, &rank), "GetDimensionsCount");
        var dims = new long[(int)rank];
        fixed (long* d = dims)
            Check(((delegate* unmanaged[Cdecl]<nint, long*, nuint, nint>)Fn(Slot.GetDimensions))(tensorInfo, d, rank), "GetDimensions");
        return dims;
    }

    public int InputIndex(string name) => IndexOf(Inputs, name);
    public int OutputIndex(string name) => IndexOf(Outputs, name);
    private static int IndexOf(IReadOnlyList<TensorInfo> list, string name)
    {
        for (int i = 0; i < list.Count; i++) if (list[i].Name == name) return i;
        return -1;
    }

    /// <summary>
    /// Runs the model. inputs[i] feeds Inputs[i]; outputs[j] receives Outputs[j]: a non-null value is written
    /// in place (it must have the right shape), a null one is replaced by a value ONNX Runtime allocates.
    /// A run that takes longer than timeLimit is stopped (ONNX Runtime checks between operators) and fails with
    /// SF_ERR_RUNTIME: a model is untrusted, and a Loop of 2^62 iterations must not hold a host's frame forever.
    /// </summary>
    public void Run(ReadOnlySpan<nint> inputs, Span<nint> outputs, TimeSpan timeLimit)
    {
        ObjectDisposedException.ThrowIf(_session == 0, this);
        if (inputs.Length != _inputNames.Length || outputs.Length != _outputNames.Length)
            throw new StyleFilterException(StatusCode.Internal, $"Run expects {_inputNames.Length} inputs and {_outputNames.Length} outputs");
        _watchdog.Arm(timeLimit);
        nint status;
        try
        {
            fixed (nint* inNames = _inputNames)
            fixed (nint* outNames = _outputNames)
            fixed (nint* inValues = inputs)
            fixed (nint* outValues = outputs)
                status = ((delegate* unmanaged[Cdecl]<nint, nint, nint*, nint*, nuint, nint*, nuint, nint*, nint>)Fn(Slot.Run))(
                    _session, _watchdog.RunOptions, inNames, inValues, (nuint)inputs.Length, outNames, (nuint)outputs.Length, outValues);
        }
        finally
        {
            _watchdog.Disarm();
        }
        if (status == 0) return;
        if (_watchdog.Fired)
        {
            Release(Slot.ReleaseStatus, status);
            throw new InferenceTimeoutException($"running '{Source}' took longer than {timeLimit.TotalSeconds:F0} s and was stopped");
        }
        Check(status, $"running '{Source}'"); // the message is built only on failure: Run is per frame
    }

    private readonly RunWatchdog _watchdog = new();

    /// <summary>Sets ONNX Runtime's terminate flag on a run that outlives its time limit.</summary>
    private sealed class RunWatchdog : IDisposable
    {
        private readonly object _gate = new();
        private readonly Timer _timer;
        private bool _armed;

        public nint RunOptions { get; private set; }
        public bool Fired { get; private set; }

        public RunWatchdog()
        {
            nint options;
            Check(((delegate* unmanaged[Cdecl]<nint*, nint>)Fn(Slot.CreateRunOptions))(&options), "CreateRunOptions");
            RunOptions = options;
            _timer = new Timer(_ => Fire());
        }

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
            Check(((delegate* unmanaged[Cdecl]<nint, nint>)Fn(Slot.RunOptionsUnsetTerminate))(RunOptions), "RunOptionsUnsetTerminate");
        }

        private void Fire()
        {
            try
            {
                lock (_gate)
                {
                    if (!_armed) return;
                    Fired = true;
                    Check(((delegate* unmanaged[Cdecl]<nint, nint>)Fn(Slot.RunOptionsSetTerminate))(RunOptions), "RunOptionsSetTerminate");
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
            lock (_gate) { _armed = false; Release(Slot.ReleaseRunOptions, RunOptions); RunOptions = 0; }
        }
    }

    public void Dispose()
    {
        Release(Slot.ReleaseSession, _session);
        _session = 0;
        _watchdog.Dispose();
        foreach (var p in _inputNames) Marshal.FreeCoTaskMem(p);
        foreach (var p in _outputNames) Marshal.FreeCoTaskMem(p);
        Array.Clear(_inputNames);
        Array.Clear(_outputNames);
    }
}
