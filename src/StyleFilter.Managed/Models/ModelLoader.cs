using StyleFilter.Ort;

namespace StyleFilter.Models;

/// <summary>Opens a style from a path: a model pack (folder or .zip) or a single .onnx graph.</summary>
internal static class ModelLoader
{
    public static StyleModel Load(string path, SessionConfig config)
    {
        if (ModelPack.LooksLikePack(path)) return SplitPackModel.Create(ModelPack.Read(path), config);
        return SingleGraphModel.Create(OrtSession.FromFile(path, config), Path.GetFileNameWithoutExtension(path));
    }
}
