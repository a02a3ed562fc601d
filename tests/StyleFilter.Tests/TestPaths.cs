namespace StyleFilter.Tests;

/// <summary>Where the build put what the tests use. build/test.sh builds all of it before the tests run.</summary>
public static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>Small ONNX models made by build/make_models.py (see that script for what each one is).</summary>
    public static string TestModels => Environment.GetEnvironmentVariable("STYLEFILTER_TEST_MODELS") ?? Path.Combine(RepoRoot, "out", "test-models");
    public static string TestModel(string name) => Path.Combine(TestModels, name);
    public static string Content(string name) => Path.Combine(RepoRoot, "assets", "content", name);
    public static string Out => Path.Combine(RepoRoot, "out");

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "StyleFilter.sln"))) return dir.FullName;
        throw new InvalidOperationException("StyleFilter.sln not found above " + AppContext.BaseDirectory);
    }
}
