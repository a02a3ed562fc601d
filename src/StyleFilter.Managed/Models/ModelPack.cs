using System.IO.Compression;
using System.Text.Json;

namespace StyleFilter.Models;

/// <summary>
/// A split model pack: encoder.onnx + decoder.onnx + manifest.json, in a folder or a .zip (files at its root).
/// The manifest format is documented in models/README.md.
/// </summary>
internal sealed record ModelPack(
    string Source, string Name, byte[] Encoder, byte[] Decoder,
    string Input, string Features, string Output, int Multiple, IReadOnlyList<string> Styles, string? StyleInput)
{
    public const string ManifestFileName = "manifest.json";
    public const string Format = "stylefilter.pack";

    public static bool LooksLikePack(string path)
    {
        ModelFile.Check(path);
        return Directory.Exists(path) || IsZip(path);
    }

    private static bool IsZip(string path)
    {
        using var f = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[4];
        return f.Read(magic) == 4 && magic[0] == (byte)'P' && magic[1] == (byte)'K' && magic[2] == 3 && magic[3] == 4;
    }

    public static ModelPack Read(string path)
    {
        try
        {
            return WithFiles(path, (fallbackName, read) => Parse(path, fallbackName, read));
        }
        catch (StyleFilterException) { throw; }
        catch (Exception e) when (e is IOException or InvalidDataException or JsonException or UnauthorizedAccessException)
        {
            throw Error(path, e.Message);
        }
    }

    /// <summary>
    /// Only the manifest's fields for users (for listing styles without loading them); all null when the pack
    /// or its manifest cannot be read.
    /// </summary>
    public static PackLabel ReadLabel(string path)
    {
        try
        {
            return WithFiles(path, (_, read) =>
            {
                using var doc = JsonDocument.Parse(read(ManifestFileName));
                return doc.RootElement.ValueKind == JsonValueKind.Object ? Label(doc.RootElement) : PackLabel.None;
            });
        }
        catch (Exception e) when (e is StyleFilterException or IOException or InvalidDataException or JsonException or UnauthorizedAccessException)
        {
            return PackLabel.None;
        }
    }

    /// <summary>
    /// Runs body with the pack's name from its folder or zip file and a reader of the files in it. Names are
    /// confined to the pack and sizes bounded (<see cref="ModelFile"/>): a pack is untrusted input.
    /// </summary>
    private static T WithFiles<T>(string path, Func<string, Func<string, byte[]>, T> body)
    {
        ModelFile.Check(path);
        static long Limit(string name) => name == ManifestFileName ? ModelFile.MaxManifestBytes : ModelFile.MaxModelBytes;
        if (Directory.Exists(path))
            return body(Path.GetFileName(Path.TrimEndingDirectorySeparator(path)), name =>
            {
                var file = ModelFile.InPack(path, name);
                if (!File.Exists(file) && !Directory.Exists(file)) throw Error(path, $"'{name}' is missing");
                return ModelFile.ReadAll(file, Limit(name));
            });
        using var zip = ZipFile.OpenRead(path);
        return body(Path.GetFileNameWithoutExtension(path), name =>
        {
            ModelFile.RequirePlainName(path, name);
            var entry = zip.GetEntry(name) ?? throw Error(path, $"the archive has no '{name}'");
            using var s = entry.Open();
            return ModelFile.ReadBounded(s, entry.Length, Limit(name), $"{path}/{name}");
        });
    }

    private static ModelPack Parse(string source, string fallbackName, Func<string, byte[]> read)
    {
        using var doc = ParseManifest(source, read(ManifestFileName));
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw Error(source, $"{ManifestFileName} holds {Kind(root)}, not an object of fields (models/README.md)");
        string Str(string key, string? fallback = null) =>
            root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! :
            fallback ?? throw Error(source, $"manifest needs '{key}' as a string{(root.TryGetProperty(key, out var w) ? $", not {Kind(w)}" : "")}");
        int Int(string key, int fallback)
        {
            if (!root.TryGetProperty(key, out var v)) return fallback;
            return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) ? n
                : throw Error(source, $"manifest '{key}' must be a whole number, not {Kind(v)}");
        }
        if (Str("format") != Format) throw Error(source, $"manifest format is '{Str("format")}', expected '{Format}'");
        if (!root.TryGetProperty("version", out _)) throw Error(source, "manifest needs a 'version' (1)");
        int version = Int("version", 0);
        if (version != 1) throw Error(source, $"manifest version {version} is not supported (this engine reads version 1)");
        int multiple = Int("multiple", 4);
        if (multiple is < 1 or > 256) throw Error(source, $"manifest multiple {multiple} is out of range (1 .. 256)");
        var styles = new List<string>();
        if (root.TryGetProperty("styles", out var st))
        {
            if (st.ValueKind != JsonValueKind.Array || st.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
                throw Error(source, $"manifest 'styles' must be a list of names, not {Kind(st)}");
            styles.AddRange(st.EnumerateArray().Select(e => e.GetString()!));
        }
        string? styleInput = root.TryGetProperty("style_input", out _) ? Str("style_input") : null;
        if (styles.Count > 0 && styleInput is null) throw Error(source, "manifest lists styles but no 'style_input'");
        return new ModelPack(source, Label(root).Title ?? fallbackName, read(Str("encoder")), read(Str("decoder")),
            Str("input"), Str("features"), Str("output"), multiple, styles, styleInput);
    }

    private static JsonDocument ParseManifest(string source, byte[] json)
    {
        try { return JsonDocument.Parse(json); }
        catch (JsonException e) { throw Error(source, $"{ManifestFileName} is not valid JSON: {e.Message}"); }
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => $"the text \"{e.GetString()}\"",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.Null => "null",
        _ => e.ValueKind.ToString().ToLowerInvariant(),
    };

    /// <summary>title (else name), artist and year: optional strings (a number is taken as text), null when absent or blank.</summary>
    private static PackLabel Label(JsonElement root)
    {
        string? Text(string key) => root.TryGetProperty(key, out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => string.IsNullOrWhiteSpace(v.GetString()) ? null : v.GetString()!.Trim(),
            JsonValueKind.Number => v.GetRawText(),
            _ => null,
        } : null;
        ModelTier? tier = Text("tier")?.ToLowerInvariant() switch   // an unknown word is no tier (the pack stays usable)
        {
            "fast" => ModelTier.Fast,
            "compact" => ModelTier.Compact,
            "full" => ModelTier.Full,
            _ => null,
        };
        return new PackLabel(Text("title") ?? Text("name"), Text("artist"), Text("year"), tier, Text("tier_of"));
    }

    private static StyleFilterException Error(string pack, string what) => ModelFile.PackError(pack, what);
}

/// <summary>What a pack's manifest tells users: the painting's title (else the pack's name), artist and year; and
/// for another network size of a bundled style, its tier and the style it belongs to ("tier", "tier_of").</summary>
internal sealed record PackLabel(string? Title, string? Artist, string? Year, ModelTier? Tier = null, string? TierOf = null)
{
    public static readonly PackLabel None = new(null, null, null);
}
