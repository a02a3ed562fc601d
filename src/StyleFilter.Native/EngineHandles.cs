namespace StyleFilter.Native;

/// <summary>One live engine behind an sf_engine* handle. The engine synchronises itself; the entry only adds
/// the handle value and a flag that turns calls racing with destroy into SF_ERR_INVALID_HANDLE.</summary>
internal sealed class EngineEntry(nint handle, StyleEngine engine)
{
    private volatile bool _destroyed;

    public nint Handle { get; } = handle;
    public StyleEngine Engine { get; } = engine;

    public void MarkDestroyed() => _destroyed = true;

    public void ThrowIfDestroyed()
    {
        if (_destroyed) throw new StyleFilterException(StatusCode.InvalidHandle, $"engine handle 0x{Handle:x} was destroyed");
    }
}

/// <summary>
/// The handle table. sf_engine* values are opaque ids, never pointers to managed objects, so a stale,
/// garbage or NULL handle is detected and reported as SF_ERR_INVALID_HANDLE instead of crashing.
/// Ids are never reused within a process.
/// </summary>
internal static class EngineHandles
{
    // Far from small integers, 8-aligned like a real pointer; then one step per engine ever created.
    private const long Base = 0x5F1E_0000_0000;
    private static readonly object Gate = new();
    private static readonly Dictionary<nint, EngineEntry> Entries = new();
    private static long _issued;

    /// <summary>Registers a new engine and returns its entry (with a handle never used before).</summary>
    public static EngineEntry Add(StyleEngine engine)
    {
        lock (Gate)
        {
            var entry = new EngineEntry((nint)(Base + ++_issued * 8), engine);
            Entries.Add(entry.Handle, entry);
            return entry;
        }
    }

    public static EngineEntry Get(nint handle)
    {
        lock (Gate)
        {
            if (Entries.TryGetValue(handle, out var entry)) return entry;
        }
        throw Unknown(handle);
    }

    public static EngineEntry Remove(nint handle)
    {
        lock (Gate)
        {
            if (Entries.Remove(handle, out var entry)) return entry;
        }
        throw Unknown(handle);
    }

    private static StyleFilterException Unknown(nint handle) => new(StatusCode.InvalidHandle,
        handle == 0 ? "engine handle is NULL"
        : $"engine handle 0x{handle:x} is not a live engine (never created, or already destroyed)");
}
