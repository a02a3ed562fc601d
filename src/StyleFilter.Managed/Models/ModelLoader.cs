using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StyleFilter.Graphs;
using StyleFilter.Ort;

namespace StyleFilter.Models;

/// <summary>Opens a style from a path: a model pack (folder or .zip) or a single .onnx graph, and tries it on a test frame.</summary>
internal static class ModelLoader
{
    public static StyleModel Load(string path, SessionConfig config, ILogger? log = null)
    {
        log ??= NullLogger.Instance;
        StyleModel model = ModelPack.LooksLikePack(path)
            ? SplitPackModel.Create(ModelPack.Read(path), config)
            : LoadSingleGraph(path, config, log);
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

    private static StyleModel LoadSingleGraph(string path, SessionConfig config, ILogger log)
    {
        var name = Path.GetFileNameWithoutExtension(path);
        var model = SingleGraphModel.Create(OrtSession.FromFile(path, config), name);
        if (!model.DeclaresSpatialSize) return model;
        var free = AtAnySize(path, name, model, config, log);
        if (free is null) return model;
        model.Dispose();
        return free;
    }

    /// <summary>Sides of the test frame that checks a freed model (multiples of 4, and not the declared ones).</summary>
    private static int ProbeSide(long declared, int preferred, int other) => declared == preferred ? other : preferred;

    /// <summary>
    /// A single graph declared with a fixed height and width (the ONNX model zoo's 1x3x224x224) runs at the frame's
    /// inference size when its graph allows it: its input's spatial dimensions are freed (<see cref="FreeSize"/>),
    /// and the edited model must load and turn a test frame of another size into an output of that same size.
    /// Otherwise (a Reshape to the fixed size, a fixed-size output, weights in an external file) it keeps its size.
    /// </summary>
    private static SingleGraphModel? AtAnySize(string path, string name, SingleGraphModel declared, SessionConfig config, ILogger log)
    {
        var input = declared.DeclaredInput;
        var declaredSize = $"{(input.Shape[3] > 0 ? input.Shape[3] : "?")}x{(input.Shape[2] > 0 ? input.Shape[2] : "?")}";
        SingleGraphModel? free = null;
        try
        {
            var edited = FreeSize.Rewrite(ModelFile.ReadAll(path, ModelFile.MaxModelBytes), input.Name);
            if (edited is null) return null;
            free = SingleGraphModel.Create(OrtSession.FromBytes(edited, path, config), name);
            int w = ProbeSide(input.Shape[3], 96, 64), h = ProbeSide(input.Shape[2], 48, 64);
            var (ow, oh) = free.ProbeAt(w, h);
            if ((ow, oh) != (w, h))
                throw new StyleFilterException(StatusCode.ModelError, $"a {w}x{h} test frame came out {ow}x{oh}");
            log.LogInformation("model '{Source}' declares a {Size} input, but its graph runs at any size: it runs at the frame's inference size",
                path, declaredSize);
            return free;
        }
        catch (StyleFilterException e)
        {
            free?.Dispose();
            log.LogWarning("model '{Source}' keeps its declared {Size} input (frames are resized to it and back): its graph cannot run at other sizes ({Message})",
                path, declaredSize, e.Message);
            return null;
        }
    }
}
