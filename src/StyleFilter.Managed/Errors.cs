namespace StyleFilter;

/// <summary>Status codes shared by the engine and the C ABI (stylefilter.h mirrors these numbers).</summary>
public enum StatusCode
{
    Ok = 0,
    InvalidArgument = 1,
    ModelError = 2,
    RuntimeError = 3,
    InvalidHandle = 4,
    NoStyle = 5,
    Unsupported = 6,
    Internal = 7,
}

/// <summary>Every error the engine raises; the C ABI turns it into a status code and sf_last_error.</summary>
public class StyleFilterException(StatusCode code, string message, Exception? inner = null) : Exception(message, inner)
{
    public StatusCode Code { get; } = code;
}
