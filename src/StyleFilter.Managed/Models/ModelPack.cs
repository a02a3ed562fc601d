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

    public static bool LooksLikePack(string path) =>
        Directory.Exists(path) || (File.Exists(path) && IsZip(path));

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
            if (Directory.Exists(path))
                return Parse(path, Path.GetFileName(Path.TrimEndingDirectorySeparator(path)), name => ReadFile(Path.Combine(path, name), path));
            using var zip = ZipFile.OpenRead(path);
            return Parse(path, Path.GetFileNameWithoutExtension(path), name =>
            {
                var entry = zip.GetEntry(name) ?? throw Error(path, $"the archive has no '{name}'");
                using var s = entry.Open();
                using var m = new MemoryStream();
                s.CopyTo(m);
                return m.ToArray();
            });
        }
        catch (StyleFilterException) { throw; }
        catch (Exception e) when (e is IOException or InvalidDataException or JsonException or UnauthorizedAccessException)
        {
            throw Error(path, e.Message);
        }
    }

    private static byte[] ReadFile(string file, string pack) =>
        File.Exists(file) ? File.ReadAllBytes(file) : throw Error(pack, $"'{Path.GetFileName(file)}' is missing");

    private static ModelPack Parse(string source, string fallbackName, Func<string, byte[]> read)
    {
        using var doc = JsonDocument.Parse(read(ManifestFileName));
        var root = doc.RootElement;
        string Str(string key, string? fallback = null) =>
            root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! :
            fallback ?? throw Error(source, $"manifest needs a string '{key}'");
        if (Str("format") != Format) throw Error(source, $"manifest format is '{Str("format")}', expected '{Format}'");
        int version = root.TryGetProperty("version", out var ver) && ver.TryGetInt32(out var n) ? n : 0;
        if (version != 1) throw Error(source, $"manifest version {version} is not supported (this engine reads version 1)");
        int multiple = root.TryGetProperty("multiple", out var mul) && mul.TryGetInt32(out var m) ? m : 4;
        if (multiple is < 1 or > 256) throw Error(source, $"manifest multiple {multiple} is out of range");
        var styles = root.TryGetProperty("styles", out var st) && st.ValueKind == JsonValueKind.Array
            ? st.EnumerateArray().Select(e => e.GetString() ?? "").ToList()
            : new List<string>();
        string? styleInput = root.TryGetProperty("style_input", out var si) ? si.GetString() : null;
        if (styles.Count > 0 && styleInput is null) throw Error(source, "manifest lists styles but no 'style_input'");
        return new ModelPack(source, Str("name", fallbackName), read(Str("encoder")), read(Str("decoder")),
            Str("input"), Str("features"), Str("output"), multiple, styles, styleInput);
    }

    private static StyleFilterException Error(string pack, string what) =>
        new(StatusCode.ModelError, $"model pack '{pack}': {what}");
}
