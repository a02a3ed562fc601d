using Xunit;

namespace StyleFilter.Tests;

/// <summary>Both model formats, and every way a model can be wrong.</summary>
public class ModelLoadingTests
{
    [Theory]
    [InlineData("zoo_dynamic.onnx", StyleModelKind.SingleGraph)]
    [InlineData("zoo_fixed64.onnx", StyleModelKind.SingleGraph)]
    [InlineData("pack_basic", StyleModelKind.SplitPack)]
    [InlineData("pack_basic.zip", StyleModelKind.SplitPack)]
    [InlineData("pack_mix", StyleModelKind.SplitPack)]
    public void LoadsAndStylises(string model, StyleModelKind kind)
    {
        using var engine = TestFrames.Engine(model);
        Assert.Equal(kind, engine.Style!.Kind);
        // 70x50 is not a multiple of 4, and not 64x64: the engine resizes to what the model takes and back.
        var input = TestFrames.Rgba(70, 50);
        var output = TestFrames.Run(engine, input, 70, 50);
        Assert.True(TestFrames.MeanAbsDiff(input, output) > 5, "the style should change the picture");
        for (int i = 3; i < output.Length; i += 4) Assert.Equal(255, output[i]); // alpha channel kept
    }

    [Fact]
    public void ZipAndFolderPacksAgree()
    {
        using var folder = TestFrames.Engine("pack_basic");
        using var zip = TestFrames.Engine("pack_basic.zip");
        var input = TestFrames.Rgba(64, 48);
        Assert.Equal(TestFrames.Run(folder, input, 64, 48), TestFrames.Run(zip, input, 64, 48));
    }

    [Fact]
    public void StyleMixSelectsStyles()
    {
        using var engine = TestFrames.Engine("pack_mix");
        Assert.Equal(["red", "blue"], engine.Style!.MixableStyles);
        var input = TestFrames.Rgba(64, 48);
        engine.SetStyleMix([1, 0]);
        var red = TestFrames.Run(engine, input, 64, 48);
        engine.SetStyleMix([0, 1]);
        var blue = TestFrames.Run(engine, input, 64, 48);
        Assert.True(Mean(red, 0) - Mean(red, 2) > Mean(blue, 0) - Mean(blue, 2) + 10, "red style should be redder than blue style");
        Assert.Throws<StyleFilterException>(() => engine.SetStyleMix([1]));
        Assert.Throws<StyleFilterException>(() => engine.SetStyleMix([0, 0]));
        Assert.Throws<StyleFilterException>(() => engine.SetStyleMix([float.NaN, 1]));
    }

    private static double Mean(byte[] rgba, int channel)
    {
        double s = 0;
        for (int i = channel; i < rgba.Length; i += 4) s += rgba[i];
        return s / (rgba.Length / 4);
    }

    [Theory]
    [InlineData("corrupt.onnx", "corrupt.onnx")]
    [InlineData("wrong_rank.onnx", "1x3xHxW")]
    [InlineData("int_input.onnx", "element type")]
    [InlineData("pack_broken", "decoder.onnx")]
    [InlineData("does_not_exist.onnx", "does_not_exist")]
    public void BadModelsAreClearModelErrorsAndKeepTheOldStyle(string model, string mentioned)
    {
        using var engine = TestFrames.Engine("identity.onnx");
        var e = Assert.Throws<StyleFilterException>(() => engine.LoadStyle(TestPaths.TestModel(model)));
        Assert.Equal(StatusCode.ModelError, e.Code);
        Assert.Contains(mentioned, e.Message);
        Assert.Equal("identity", engine.Style!.Name);
        var input = TestFrames.Rgba(32, 32);
        Assert.True(TestFrames.MaxAbsDiff(input, TestFrames.Run(engine, input, 32, 32)) <= 1);
    }

    [Fact]
    public void UnknownStyleNameListsTheBundledOnes()
    {
        using var engine = new StyleEngine();
        var e = Assert.Throws<StyleFilterException>(() => engine.LoadStyle("no-such-style"));
        Assert.Equal(StatusCode.ModelError, e.Code);
        Assert.Contains("no-such-style", e.Message);
        Assert.Contains("bundled", e.Message);
    }

    [Fact]
    public void CatalogFindsOnnxFilesAndPacks()
    {
        var entries = StyleCatalog.List([TestPaths.TestModels]);
        Assert.Contains(entries, e => e.Name == "zoo_dynamic" && e.Kind == StyleModelKind.SingleGraph);
        Assert.Contains(entries, e => e.Name == "pack_basic" && e.Kind == StyleModelKind.SplitPack);
    }

    [Fact]
    public void CatalogShowsTheManifestsTitleArtistAndYear()
    {
        var entries = StyleCatalog.List([TestPaths.TestModels]);
        var basic = Assert.Single(entries, e => e.Name == "pack_basic");
        Assert.Equal(("Basic Test Painting", "Zo\u00eb Tester", "c. 2024"), (basic.Title, basic.Artist, basic.Year));
        var mix = Assert.Single(entries, e => e.Name == "pack_mix");
        Assert.Equal(("Mix test pack", null, null), (mix.Title, mix.Artist, mix.Year)); // no title: the name
        var zoo = Assert.Single(entries, e => e.Name == "zoo_dynamic");
        Assert.Equal(("zoo_dynamic", null, null), (zoo.Title, zoo.Artist, zoo.Year));   // a single graph: its file name

        var zip = StyleCatalog.Describe(TestPaths.TestModel("pack_basic.zip"));
        Assert.Equal(("pack_basic", "Basic Test Painting", "c. 2024"), (zip.Name, zip.Title, zip.Year));
        using var engine = TestFrames.Engine("pack_basic");
        Assert.Equal("Basic Test Painting", engine.Style!.Name);
    }

    [Fact]
    public void CatalogTitlesFallBackToTheNameThenTheFolder()
    {
        var dir = Directory.CreateTempSubdirectory("stylefilter-catalog-").FullName;
        try
        {
            void Pack(string folder, string manifest)
            {
                Directory.CreateDirectory(Path.Combine(dir, folder));
                File.WriteAllText(Path.Combine(dir, folder, "manifest.json"), manifest);
            }
            Pack("named", """{ "format": "stylefilter.pack", "version": 1, "name": "Only a name", "title": "  " }""");
            Pack("numbered", """{ "format": "stylefilter.pack", "version": 1, "name": "N", "artist": "A", "year": 1889 }""");
            Pack("unreadable", "{ not json");
            File.WriteAllBytes(Path.Combine(dir, "single.onnx"), []);
            var entries = StyleCatalog.List([dir]).ToDictionary(e => e.Name);
            Assert.Equal(["named", "numbered", "single", "unreadable"], entries.Keys.Order());
            Assert.Equal("Only a name", entries["named"].Title);
            Assert.Equal(("N", "A", "1889"), (entries["numbered"].Title, entries["numbered"].Artist, entries["numbered"].Year));
            Assert.Equal(("unreadable", null), (entries["unreadable"].Title, entries["unreadable"].Artist));
            Assert.Equal("single", entries["single"].Title);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void BundledStylesAreThePaintingsByTitleAndNotThePlaceholder()
    {
        var bundled = StyleCatalog.List([Path.Combine(TestPaths.RepoRoot, "models")]);
        var starry = Assert.Single(bundled, e => e.Name == "starry_night");
        Assert.Equal(("The Starry Night", "Vincent van Gogh", "1889"), (starry.Title, starry.Artist, starry.Year));
        // Every bundled style is a trained pack shown by its painting, never by its folder name ...
        Assert.All(bundled, e => Assert.NotEqual(e.Name, e.Title));
        // ... and the untrained placeholder network is a test model, not a style.
        Assert.DoesNotContain(bundled, e => e.Name.Contains("placeholder", StringComparison.OrdinalIgnoreCase) ||
                                            e.Title.Contains("placeholder", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(StyleCatalog.List([TestPaths.TestModels]), e => e.Name == "placeholder");
    }

    [Fact]
    public void FixedSizeModelOutputIsResizedBackToTheFrame()
    {
        using var engine = TestFrames.Engine("zoo_fixed64.onnx");
        var input = TestFrames.Rgba(100, 30);
        var output = TestFrames.Run(engine, input, 100, 30);
        Assert.Equal(input.Length, output.Length);
        Assert.True(TestFrames.MeanAbsDiff(input, output) > 5);
    }
}
