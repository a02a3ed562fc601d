using System.Runtime.ExceptionServices;

namespace StyleFilter.Pipeline;

/// <summary>
/// Runs a loop over rows in two halves at once: the caller's thread takes the first, one kept worker thread the
/// second. ONNX Runtime leaves the other core idle while the engine resizes and packs frames, and this halves that
/// time; Parallel.For would do the same but allocates on every call, and the engine allocates nothing per frame.
/// With one core, or few rows, the caller runs the whole loop.
/// </summary>
internal sealed class RowSplitter : IDisposable
{
    /// <summary>Below this many rows a second thread's wake-up costs more than it saves.</summary>
    private const int MinRowsToSplit = 32;

    private Thread? _worker;
    private readonly SemaphoreSlim _start = new(0), _finished = new(0);
    private Action<int, int, int>? _body;
    private int _split, _end;
    private Exception? _workerError;
    private volatile bool _stopping;

    public RowSplitter(int cores)
    {
        if (cores < 2) return;
        _worker = new Thread(Work) { IsBackground = true, Name = "StyleFilter rows" };
        _worker.Start();
    }

    /// <summary>Calls body(half, from, to) on rows [0, rows): half 0 on this thread, half 1 on the worker; returns when both are done.</summary>
    public void For(int rows, Action<int, int, int> body)
    {
        if (_worker is null || rows < MinRowsToSplit)
        {
            body(0, 0, rows);
            return;
        }
        (_body, _split, _end, _workerError) = (body, rows / 2, rows, null);
        _start.Release();
        Exception? own = null;
        try { body(0, 0, _split); }
        catch (Exception e) { own = e; }
        _finished.Wait(); // the worker must be done with the frame before it goes back to the host, error or not
        _body = null;
        if ((own ?? _workerError) is { } error) ExceptionDispatchInfo.Throw(error);
    }

    private void Work()
    {
        while (true)
        {
            _start.Wait();
            if (_stopping) return;
            try { _body!(1, _split, _end); }
            catch (Exception e) { _workerError = e; }
            finally { _finished.Release(); }
        }
    }

    public void Dispose()
    {
        if (_worker is null) return;
        _stopping = true;
        _start.Release();
        _worker.Join();
        _worker = null;
        _start.Dispose();
        _finished.Dispose();
    }
}
