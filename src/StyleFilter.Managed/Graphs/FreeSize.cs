namespace StyleFilter.Graphs;

/// <summary>
/// Fully convolutional style networks are often exported with a fixed input size (the ONNX model zoo's fast
/// neural style models declare 1x3x224x224) although their graph runs at any size. This edits such a model so
/// that its image input's height and width, and its outputs', are named (symbolic) dimensions, and drops the
/// intermediate shapes (value_info) recorded for the fixed size. Whether the graph really runs at other sizes is
/// for ONNX Runtime to say, when it loads the edited model and when it runs it (ModelLoader tries both).
/// </summary>
internal static class FreeSize
{
    /// <summary>The edited model, or null when the input has no fixed height and width to free.</summary>
    public static byte[]? Rewrite(byte[] model, string imageInput)
    {
        try
        {
            bool changed = false;
            var result = Edit(model, (f, w) =>
            {
                if (f.Number != Onnx.Model.Graph || !f.IsLengthDelimited) return false;
                var (graph, inputFreed) = RewriteGraph(f.Payload, imageInput);
                w.Bytes(Onnx.Model.Graph, graph);
                changed |= inputFreed;
                return true;
            });
            return changed ? result : null;
        }
        catch (InvalidDataException)
        {
            return null; // ONNX Runtime parsed it, so this cannot happen; if it does, the model keeps its size
        }
    }

    private static (byte[] Graph, bool InputFreed) RewriteGraph(ReadOnlyMemory<byte> graph, string imageInput)
    {
        bool inputChanged = false;
        int output = 0;
        var result = Edit(graph, (f, w) =>
        {
            switch (f.Number)
            {
                case Onnx.Graph.ValueInfo:
                    return true; // dropped: intermediate shapes inferred for the fixed size would contradict others
                case Onnx.Graph.Input when NameOf(f.Payload) == imageInput:
                    var (input, freed) = FreeSpatialDims(f.Payload, "sf_height", "sf_width");
                    w.Bytes(f.Number, input);
                    inputChanged |= freed;
                    return true;
                case Onnx.Graph.Output:
                    int k = output++;
                    w.Bytes(f.Number, FreeSpatialDims(f.Payload, $"sf_out{k}_height", $"sf_out{k}_width").ValueInfo);
                    return true;
                default:
                    return false;
            }
        });
        return (result, inputChanged);
    }

    private static string? NameOf(ReadOnlyMemory<byte> valueInfo)
    {
        var r = new ProtoReader(valueInfo);
        while (r.Next(out var f))
            if (f.Number == Onnx.ValueInfo.Name && f.IsLengthDelimited) return f.Text;
        return null;
    }

    /// <summary>ValueInfoProto with dims 2 and 3 (height, width) of its tensor type named instead of fixed.</summary>
    private static (byte[] ValueInfo, bool Changed) FreeSpatialDims(ReadOnlyMemory<byte> valueInfo, string height, string width)
    {
        bool any = false;
        var result = Nested(valueInfo, [Onnx.ValueInfo.Type, Onnx.Type.Tensor, Onnx.TensorType.Shape], shape =>
        {
            int index = 0;
            return Edit(shape, (f, w) =>
            {
                if (f.Number != Onnx.Shape.Dim) return false;
                int i = index++;
                if (i is not (2 or 3) || !HasFixedValue(f.Payload)) return false;
                w.Message(Onnx.Shape.Dim, d => d.String(Onnx.Dimension.Param, i == 2 ? height : width));
                any = true;
                return true;
            });
        });
        return (result, any);
    }

    private static bool HasFixedValue(ReadOnlyMemory<byte> dimension)
    {
        var r = new ProtoReader(dimension);
        while (r.Next(out var f))
            if (f.Number == Onnx.Dimension.Value && f.Varint > 0) return true;
        return false;
    }

    /// <summary>Applies <paramref name="edit"/> to the message found by following <paramref name="path"/> (field numbers).</summary>
    private static byte[] Nested(ReadOnlyMemory<byte> message, ReadOnlySpan<int> path, Func<ReadOnlyMemory<byte>, byte[]> edit)
    {
        if (path.IsEmpty) return edit(message);
        int field = path[0];
        var rest = path[1..].ToArray();
        return Edit(message, (f, w) =>
        {
            if (f.Number != field || !f.IsLengthDelimited) return false;
            w.Bytes(field, Nested(f.Payload, rest, edit));
            return true;
        });
    }

    /// <summary>Copies a message field by field; <paramref name="edit"/> writes a replacement for a field and returns true, or returns false to keep it.</summary>
    private static byte[] Edit(ReadOnlyMemory<byte> message, Func<ProtoField, ProtoWriter, bool> edit)
    {
        var w = new ProtoWriter();
        var r = new ProtoReader(message);
        while (r.Next(out var f))
            if (!edit(f, w)) w.Raw(f.Raw.Span);
        return w.ToArray();
    }
}
