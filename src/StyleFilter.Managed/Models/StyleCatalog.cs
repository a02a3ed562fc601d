namespace StyleFilter;

/// <summary>
/// A style's network size. Compact is what every bundled style has; Fast is the CPU tier (real time on a CPU, a
/// lighter picture), Full the wide network for GPUs. Auto: Fast on the CPU and Full on a GPU where the style has them.
/// </summary>
public enum ModelTier
{
    Auto = 0,
    Fast = 1,
    Compact = 2,
    Full = 3,
}

/// <summary>
/// A style a user can pick by name. Name is the id that loads it (the file or folder name without extension, what
/// hosts store); Title is what users see: a pack manifest's "title", else its "name", else the id. Artist and Year
/// come from the manifest when it gives them (models/README.md). Tier is this entry's network size; Tiers, in
/// <see cref="StyleCatalog.List"/>, every size the style has (its own and its variants': packs whose manifest
/// says "tier_of": this Name), and TierOf the style a variant belongs to.
/// </summary>
public sealed record CatalogEntry(string Name, string Path, StyleModelKind Kind, string Title, string? Artist = null, string? Year = null,
    ModelTier Tier = ModelTier.Compact, string? TierOf = null)
{
    public IReadOnlyList<ModelTier> Tiers { get; init; } = [Tier];
}

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

    /// <summary>The styles users pick from: one entry per style, its other network sizes folded into Tiers.</summary>
    public static IReadOnlyList<CatalogEntry> List(IEnumerable<string>? directories = null)
    {
        var all = All(directories);
        var names = all.Select(e => e.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        bool IsVariant(CatalogEntry e) => e.TierOf is { } of && names.Contains(of);
        return all.Where(e => !IsVariant(e)).Select(e => e with
        {
            Tiers = all.Where(v => v == e || (IsVariant(v) && string.Equals(v.TierOf, e.Name, StringComparison.OrdinalIgnoreCase)))
                .Select(v => v.Tier).Distinct().Order().ToList(),
        }).ToList();
    }

    /// <summary>Every model found, variants included (what a name can load).</summary>
    public static IReadOnlyList<CatalogEntry> All(IEnumerable<string>? directories = null)
    {
        var found = new Dictionary<string, CatalogEntry>(StringComparer.OrdinalIgnoreCase);
        foreach (var dir in directories ?? SearchDirectories())
        {
            if (!Directory.Exists(dir)) continue;
            foreach (var entry in Scan(dir)) found.TryAdd(entry.Name, entry);
        }
        return found.Values.OrderBy(e => e.Name, StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>
    /// The model to load for a style name and a wanted tier: Auto takes Fast on the CPU and Full on a GPU where
    /// the style has them, else the style itself; an explicit tier the style lacks also falls back to the style
    /// itself (note says so). A path, or the name of a variant, loads exactly that.
    /// </summary>
    public static (string Path, ModelTier Tier, string? Note) ResolveTier(string nameOrPath, ModelTier wanted, bool gpu,
        IEnumerable<string>? directories = null)
    {
        if (File.Exists(nameOrPath) || Directory.Exists(nameOrPath))   // a path loads exactly that: no scan of the model folders
        {
            var given = Path.GetFullPath(nameOrPath);
            return (given, Entry(given, StyleFilter.Models.ModelPack.LooksLikePack(given) ? StyleModelKind.SplitPack : StyleModelKind.SingleGraph).Tier, null);
        }
        var all = All(directories);   // read once: every entry's manifest is parsed
        var path = Resolve(nameOrPath, all);
        var style = all.FirstOrDefault(e => string.Equals(e.Path, path, StringComparison.Ordinal));
        if (style is null || (style.TierOf is not null && all.Any(e => string.Equals(e.Name, style.TierOf, StringComparison.OrdinalIgnoreCase))))
            return (path, style?.Tier ?? ModelTier.Compact, null);
        var target = wanted != ModelTier.Auto ? wanted : gpu ? ModelTier.Full : ModelTier.Fast;
        var variant = all.FirstOrDefault(e => e.Tier == target &&
            (e == style || string.Equals(e.TierOf, style.Name, StringComparison.OrdinalIgnoreCase)));
        if (variant is not null) return (variant.Path, variant.Tier, null);
        return (path, style.Tier, wanted == ModelTier.Auto ? null
            : $"style '{style.Name}' has no {wanted.ToString().ToLowerInvariant()} network; using its {style.Tier.ToString().ToLowerInvariant()} one");
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
        return new CatalogEntry(name, path, kind, label.Title ?? name, label.Artist, label.Year, label.Tier ?? ModelTier.Compact, label.TierOf);
    }

    /// <summary>A style as <see cref="Resolve"/> finds it, with what users see of it (title, artist, year).</summary>
    public static CatalogEntry Describe(string nameOrPath)
    {
        var path = Resolve(nameOrPath);
        return Entry(path, StyleFilter.Models.ModelPack.LooksLikePack(path) ? StyleModelKind.SplitPack : StyleModelKind.SingleGraph);
    }

    /// <summary>A path that exists is taken as is; otherwise the name is looked up among the bundled styles.</summary>
    public static string Resolve(string nameOrPath, IEnumerable<string>? directories = null) =>
        Resolve(nameOrPath, () => All(directories));

    private static string Resolve(string nameOrPath, IReadOnlyList<CatalogEntry> all) => Resolve(nameOrPath, () => all);

    private static string Resolve(string nameOrPath, Func<IReadOnlyList<CatalogEntry>> catalog)
    {
        if (string.IsNullOrWhiteSpace(nameOrPath)) throw new StyleFilterException(StatusCode.InvalidArgument, "style name or path is empty");
        if (File.Exists(nameOrPath) || Directory.Exists(nameOrPath)) return Path.GetFullPath(nameOrPath);
        if (nameOrPath.IndexOfAny(['/', '\\']) >= 0 || Path.HasExtension(nameOrPath))
            throw new StyleFilterException(StatusCode.ModelError, $"model not found: '{nameOrPath}' does not exist");
        var all = catalog();   // only when the name is not a path: a path needs no scan of the model folders
        var match = all.FirstOrDefault(e => string.Equals(e.Name, nameOrPath, StringComparison.OrdinalIgnoreCase));
        if (match is not null) return match.Path;
        var known = string.Join(", ", all.Where(e => e.TierOf is null).Select(e => e.Name));
        throw new StyleFilterException(StatusCode.ModelError,
            $"style '{nameOrPath}' is neither a file nor a bundled style (bundled: {(known.Length == 0 ? "none found" : known)})");
    }
}
