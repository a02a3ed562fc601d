using System.Runtime.InteropServices;
using System.Text;

namespace StyleFilter.Native;

/// <summary>
/// The per-thread message behind sf_last_error: a NUL-terminated UTF-8 string in native memory owned by the
/// library (managed arrays could move, so the pointer handed out must not point into the GC heap). The buffer
/// is reused and grown per thread; it is valid until the next sf_ call on the same thread.
/// </summary>
internal static unsafe class LastError
{
    private const int MaxChars = 4000;

    [ThreadStatic] private static byte* _buffer;
    [ThreadStatic] private static int _capacity;

    /// <summary>The current thread's message (never null; "" when none).</summary>
    public static byte* Pointer
    {
        get
        {
            if (_buffer == null) Ensure(64);
            return _buffer;
        }
    }

    public static void Clear()
    {
        if (_buffer != null) _buffer[0] = 0;
    }

    public static void Set(string message)
    {
        if (message.Length > MaxChars) message = message[..MaxChars] + "...";
        message = message.Replace('\0', ' ');
        var bytes = Encoding.UTF8.GetByteCount(message);
        Ensure(bytes + 1);
        var written = Encoding.UTF8.GetBytes(message, new Span<byte>(_buffer, _capacity));
        _buffer[written] = 0;
    }

    private static void Ensure(int size)
    {
        if (_buffer != null && _capacity >= size) return;
        var capacity = Math.Max(size, 256);
        var grown = (byte*)NativeMemory.Realloc(_buffer, (nuint)capacity);
        if (grown == null) throw new OutOfMemoryException("sf_last_error buffer");
        if (_buffer == null) grown[0] = 0;
        _buffer = grown;
        _capacity = capacity;
    }
}
