using System.Text.Json.Nodes;
using Xunit;

namespace StyleFilter.Tests;

/// <summary>Network tiers: a style's fast/full packs are folded into its catalog entry and picked by device.</summary>
public sealed class StyleTierTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sf-tiers-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A copy of the test pack named `name`, its manifest given `tier` / `tier_of` when set.</summary>
    private string Pack(string name, string? tier = null, string? tierOf = null)
    {
        var src = TestPaths.TestModel("pack_basic");
        var dst = Path.Combine(_dir, name);
        Directory.CreateDirectory(dst);
        foreach (var f in Directory.GetFiles(src)) File.Copy(f, Path.Combine(dst, Path.GetFileName(f)));
        var manifestPath = Path.Combine(dst, "manifest.json");
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!.AsObject();
        manifest["title"] = name;
        if (tier is not null) manifest["tier"] = tier;
        if (tierOf is not null) manifest["tier_of"] = tierOf;
        File.WriteAllText(manifestPath, manifest.ToJsonString());
        return dst;
    }

    [Fact]
    public void VariantsAreFoldedIntoTheirStyle()
    {
        Pack("night");
        Pack("night_fast", "fast", "night");
        Pack("night_full", "full", "night");
        Pack("orphan_fast", "fast", "missing");   // its style is not there: listed on its own
        var list = StyleCatalog.List([_dir]);
        Assert.Equal(["night", "orphan_fast"], list.Select(e => e.Name));
        Assert.Equal([ModelTier.Fast, ModelTier.Compact, ModelTier.Full], list[0].Tiers);
        Assert.Equal([ModelTier.Fast], list[1].Tiers);
        Assert.Equal(4, StyleCatalog.All([_dir]).Count);
    }

    [Theory]
    [InlineData(ModelTier.Auto, false, "night_fast")]
    [InlineData(ModelTier.Auto, true, "night_full")]
    [InlineData(ModelTier.Compact, false, "night")]
    [InlineData(ModelTier.Full, false, "night_full")]
    [InlineData(ModelTier.Fast, true, "night_fast")]
    public void TheTierIsPickedByDeviceUnlessAsked(ModelTier wanted, bool gpu, string expected)
    {
        Pack("night");
        Pack("night_fast", "fast", "night");
        Pack("night_full", "full", "night");
        var (path, _, note) = StyleCatalog.ResolveTier("night", wanted, gpu, [_dir]);
        Assert.Equal(expected, Path.GetFileName(path));
        Assert.Null(note);
    }

    [Fact]
    public void AMissingTierFallsBackToTheStyleWithANote()
    {
        Pack("night");
        var (path, tier, note) = StyleCatalog.ResolveTier("night", ModelTier.Fast, false, [_dir]);
        Assert.Equal(("night", ModelTier.Compact), (Path.GetFileName(path), tier));
        Assert.Contains("no fast network", note);
        Assert.Null(StyleCatalog.ResolveTier("night", ModelTier.Auto, false, [_dir]).Note);   // Auto asks for nothing
    }

    [Fact]
    public void AVariantNamedExplicitlyLoadsItself()
    {
        Pack("night");
        Pack("night_fast", "fast", "night");
        var (path, tier, _) = StyleCatalog.ResolveTier("night_fast", ModelTier.Full, true, [_dir]);
        Assert.Equal(("night_fast", ModelTier.Fast), (Path.GetFileName(path), tier));
    }

    [Fact]
    public void APathLoadsItselfWithItsOwnTier()
    {
        Pack("night");
        var fast = Pack("night_fast", "fast", "night");
        var (path, tier, note) = StyleCatalog.ResolveTier(fast, ModelTier.Full, true, [_dir]);
        Assert.Equal((Path.GetFullPath(fast), ModelTier.Fast, (string?)null), (path, tier, note));
    }

    [Fact]
    public void AnUnknownTierWordIsIgnored()
    {
        Pack("odd", "enormous");
        Pack("numeric", "1");   // not a number: only the words
        Assert.All(StyleCatalog.List([_dir]), e => Assert.Equal([ModelTier.Compact], e.Tiers));
    }
}

/// <summary>
/// The engine loads the tier it is asked for by a style's name: the bundled folders come from STYLEFILTER_MODELS,
/// which every engine of the process reads, so these tests run alone.
/// </summary>
[CollectionDefinition(nameof(EngineTierTests), DisableParallelization = true)]
public sealed class EngineTierCollection;

[Collection(nameof(EngineTierTests))]
public sealed class EngineTierTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sf-engine-tiers-").FullName;
    private readonly string? _before = Environment.GetEnvironmentVariable("STYLEFILTER_MODELS");

    public EngineTierTests()
    {
        foreach (var (name, tier) in new[] { ("night", (string?)null), ("night_fast", "fast"), ("night_full", "full") })
        {
            var dst = Path.Combine(_dir, name);
            Directory.CreateDirectory(dst);
            foreach (var f in Directory.GetFiles(TestPaths.TestModel("pack_basic"))) File.Copy(f, Path.Combine(dst, Path.GetFileName(f)));
            var manifestPath = Path.Combine(dst, "manifest.json");
            var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!.AsObject();
            if (tier is not null) (manifest["tier"], manifest["tier_of"]) = (tier, "night");
            File.WriteAllText(manifestPath, manifest.ToJsonString());
        }
        Environment.SetEnvironmentVariable("STYLEFILTER_MODELS", _dir);
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("STYLEFILTER_MODELS", _before);
        Directory.Delete(_dir, recursive: true);
    }

    [Theory]
    [InlineData(ModelTier.Auto, "night_fast", ModelTier.Fast)]   // the CPU: the fast network
    [InlineData(ModelTier.Compact, "night", ModelTier.Compact)]
    [InlineData(ModelTier.Full, "night_full", ModelTier.Full)]
    public void LoadStyleTakesTheTierAskedFor(ModelTier wanted, string folder, ModelTier loaded)
    {
        using var engine = new StyleEngine(new EngineOptions { Device = ExecutionDevice.Cpu, Tier = wanted });
        engine.LoadStyle("night");
        Assert.Equal(folder, Path.GetFileName(Path.TrimEndingDirectorySeparator(engine.Style!.Source)));
        Assert.Equal(loaded, engine.LoadedTier);
    }

    [Fact]
    public void ATierChangeAppliesFromTheNextLoad()
    {
        using var engine = new StyleEngine(new EngineOptions { Device = ExecutionDevice.Cpu });
        engine.LoadStyle("night");
        engine.Tier = ModelTier.Compact;
        Assert.Equal(ModelTier.Fast, engine.LoadedTier);
        engine.LoadStyle("night");
        Assert.Equal(ModelTier.Compact, engine.LoadedTier);
    }
}
