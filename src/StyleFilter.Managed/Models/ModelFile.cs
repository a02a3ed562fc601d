namespace StyleFilter.Models;

/// <summary>
/// Reads model files, which are untrusted input: a path can name a FIFO (reading blocks forever), a device such
/// as /dev/zero (reading never ends), a symlink loop or a file of gigabytes. Everything the engine reads from a
/// model path goes through here, and each of those fails at once with SF_ERR_MODEL and a message naming the file.
/// </summary>
internal static class ModelFile
{
    /// <summary>Largest model file or zip entry (the bundled styles are 1.5 to 6 MB; the largest zoo models 7 MB).</summary>
    public const long MaxModelBytes = 1L << 30;
    /// <summary>Largest manifest.json.</summary>
    public const long MaxManifestBytes = 1L << 20;

    /// <summary>
    /// Checks that path is a folder, or a non-empty regular file of at most <see cref="MaxModelBytes"/>, without
    /// opening it. FIFOs, sockets and devices report a size of 0 and fail as "not a regular file".
    /// Returns the file's size in bytes (0 for a folder).
    /// </summary>
    public static long Check(string path)
    {
        var target = FinalTarget(path);
        if (Directory.Exists(target)) return 0;
        var info = new FileInfo(target);
        if (!info.Exists) throw Error(path, "does not exist");
        if (info.Length == 0) throw Error(path, "is empty or not a regular file (a pipe, socket or device)");
        if (info.Length > MaxModelBytes) throw Error(path, $"is {info.Length} bytes, more than the {MaxModelBytes >> 20} MiB a model may have");
        return info.Length;
    }

    /// <summary>The whole file, after <see cref="Check"/> with the given size limit.</summary>
    public static byte[] ReadAll(string path, long limit)
    {
        var length = Check(path);
        if (length > limit) throw Error(path, $"is {length} bytes, more than the {limit} allowed");
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Error(path, $"cannot be read: {e.Message}");
        }
    }

    /// <summary>Reads at most limit bytes from a stream whose declared length may be a lie (a zip entry).</summary>
    public static byte[] ReadBounded(Stream stream, long declared, long limit, string what)
    {
        if (declared > limit) throw Error(what, $"unpacks to {declared} bytes, more than the {limit} allowed");
        using var copy = new MemoryStream((int)Math.Max(0, declared));
        var buffer = new byte[81920];
        int n;
        while ((n = stream.Read(buffer)) > 0)
        {
            if (copy.Length + n > limit) throw Error(what, $"unpacks to more than the {limit} bytes allowed");
            copy.Write(buffer, 0, n);
        }
        return copy.ToArray();
    }

    /// <summary>The path with every symlink followed; a loop or a dangling link fails with the path named.</summary>
    public static string FinalTarget(string path)
    {
        try
        {
            var info = Directory.Exists(path) ? (FileSystemInfo)new DirectoryInfo(path) : new FileInfo(path);
            return info.LinkTarget is null ? path : info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
        }
        catch (IOException e)
        {
            throw Error(path, $"cannot be followed: {e.Message}"); // ELOOP: a symlink loop
        }
    }

    /// <summary>
    /// A file a pack's manifest names: a plain file name in the pack's folder. A symlink in the pack may point to
    /// another file of the same folder, never out of it: the manifest of a downloaded pack must not make the engine
    /// open /etc/passwd or another pack's files.
    /// </summary>
    public static string InPack(string packFolder, string name)
    {
        RequirePlainName(packFolder, name);
        var folder = Path.GetFullPath(packFolder);
        var file = Path.Combine(folder, name);
        var target = Path.GetFullPath(FinalTarget(file));
        if (!string.Equals(Path.GetDirectoryName(target), Path.TrimEndingDirectorySeparator(folder), StringComparison.Ordinal))
            throw PackError(packFolder, $"'{name}' is a link to '{target}', outside the pack");
        return file;
    }

    /// <summary>The rule for every name a manifest gives, in a folder or a zip: a file name, nothing that leads elsewhere.</summary>
    public static void RequirePlainName(string pack, string name)
    {
        if (name.Length == 0 || name is "." or ".." || name.IndexOfAny(['/', '\\', '\0']) >= 0 || Path.IsPathRooted(name))
            throw PackError(pack, $"the manifest names '{name}'; it must be a file name in the pack (no folders, no absolute path)");
    }

    public static StyleFilterException Error(string path, string what) =>
        new(StatusCode.ModelError, $"model '{path}' {what}");

    public static StyleFilterException PackError(string pack, string what) =>
        new(StatusCode.ModelError, $"model pack '{pack}': {what}");
}
