using StyleFilter.Ort;

namespace StyleFilter.Models;

/// <summary>Opens a style from a path: a model pack (folder or .zip) or a single .onnx graph, and tries it on a test frame.</summary>
internal static class ModelLoader
{
    public static StyleModel Load(string path, SessionConfig config)
    {
        StyleModel model = ModelPack.LooksLikePack(path)
            ? SplitPackModel.Create(ModelPack.Read(path), config)
            : SingleGraphModel.Create(OrtSession.FromFile(path, config), Path.GetFileNameWithoutExtension(path));
        try
        {
            model.Probe();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
