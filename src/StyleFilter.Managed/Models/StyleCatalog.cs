namespace StyleFilter;

/// <summary>
/// A style a user can pick by name. Name is the id that loads it (the file or folder name without extension, what
/// hosts store); Title is what users see: a pack manifest's "title", else its "name", else the id. Artist and Year
/// come from the manifest when it gives them (models/README.md).
/// </summary>
public sealed record CatalogEntry(string Name, string Path, StyleModelKind Kind, string Title, string? Artist = null, string? Year = null);

/// <summary>
/// The bundled styles: every *.onnx file, pack folder (holding manifest.json) and *.zip pack in the model folders.
/// Folders searched, first match wins: STYLEFILTER_MODELS (path list), "models" beside the engine library,
/// "models" beside the application.
/// </summary>
public static class StyleCatalog
{
    public static IReadOnlyList<string> SearchDirectories()
    {
        var dirs = new List<string>();
        var fromEnv = Environment.GetEnvironmentVariable("STYLEFILTER_MODELS");
        if (!string.IsNullOrEmpty(fromEnv)) dirs.AddRange(fromEnv.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        if (ModuleLocation.Directory is { } module) dirs.Add(Path.Combine(module, "models"));
        dirs.Add(Path.Combine(AppContext.BaseDirectory, "models"));
        return dirs.Where(Directory.Exists).Select(Path.GetFullPath).Distinct().ToList();
    }

    public static IReadOnlyList<CatalogEntry> List(IEnumerable<string>? directories = null)
    {
        var found = new Dictionary<string, CatalogEntry>(StringComparer.OrdinalIgnoreCase);
        foreach (var dir in directories ?? SearchDirectories())
        {
            if (!Directory.Exists(dir)) continue;
            foreach (var entry in Scan(dir)) found.TryAdd(entry.Name, entry);
        }
        return found.Values.OrderBy(e => e.Name, StringComparer.OrdinalIgnoreCase).ToList();
    }

    private static IEnumerable<CatalogEntry> Scan(string dir)
    {
        foreach (var file in Directory.EnumerateFiles(dir, "*.onnx"))
            yield return Entry(file, StyleModelKind.SingleGraph);
        foreach (var file in Directory.EnumerateFiles(dir, "*.zip"))
            yield return Entry(file, StyleModelKind.SplitPack);
        foreach (var sub in Directory.EnumerateDirectories(dir))
        {
            if (File.Exists(Path.Combine(sub, StyleFilter.Models.ModelPack.ManifestFileName)))
                yield return Entry(sub, StyleModelKind.SplitPack);
            else
                foreach (var nested in Scan(sub)) yield return nested; // styles grouped in subfolders
        }
    }

    private static CatalogEntry Entry(string path, StyleModelKind kind)
    {
        var name = Directory.Exists(path) ? Path.GetFileName(Path.TrimEndingDirectorySeparator(path)) : Path.GetFileNameWithoutExtension(path);
        if (kind != StyleModelKind.SplitPack) return new CatalogEntry(name, path, kind, name);
        var label = StyleFilter.Models.ModelPack.ReadLabel(path);
        return new CatalogEntry(name, path, kind, label.Title ?? name, label.Artist, label.Year);
    }

    /// <summary>A style as <see cref="Resolve"/> finds it, with what users see of it (title, artist, year).</summary>
    public static CatalogEntry Describe(string nameOrPath)
    {
        var path = Resolve(nameOrPath);
        return Entry(path, StyleFilter.Models.ModelPack.LooksLikePack(path) ? StyleModelKind.SplitPack : StyleModelKind.SingleGraph);
    }

    /// <summary>A path that exists is taken as is; otherwise the name is looked up among the bundled styles.</summary>
    public static string Resolve(string nameOrPath)
    {
        if (string.IsNullOrWhiteSpace(nameOrPath)) throw new StyleFilterException(StatusCode.InvalidArgument, "style name or path is empty");
        if (File.Exists(nameOrPath) || Directory.Exists(nameOrPath)) return Path.GetFullPath(nameOrPath);
        if (nameOrPath.IndexOfAny(['/', '\\']) >= 0 || Path.HasExtension(nameOrPath))
            throw new StyleFilterException(StatusCode.ModelError, $"model not found: '{nameOrPath}' does not exist");
        var match = List().FirstOrDefault(e => string.Equals(e.Name, nameOrPath, StringComparison.OrdinalIgnoreCase));
        if (match is not null) return match.Path;
        var known = string.Join(", ", List().Select(e => e.Name));
        throw new StyleFilterException(StatusCode.ModelError,
            $"style '{nameOrPath}' is neither a file nor a bundled style (bundled: {(known.Length == 0 ? "none found" : known)})");
    }
}
