using System.Runtime.InteropServices;

namespace StyleFilter.Graphs;

/// <summary>An attribute of an ONNX node: an integer, a float, a list of integers or a string.</summary>
internal readonly record struct Attr(string Name, int Type, long I = 0, float F = 0, long[]? IntList = null, string? S = null)
{
    public static Attr Int(string name, long value) => new(name, Onnx.AttributeType.Int, I: value);
    public static Attr Float(string name, float value) => new(name, Onnx.AttributeType.Float, F: value);
    public static Attr Ints(string name, params long[] values) => new(name, Onnx.AttributeType.Ints, IntList: values);
    public static Attr String(string name, string value) => new(name, Onnx.AttributeType.String, S: value);

    public void Write(ProtoWriter w)
    {
        w.String(Onnx.Attribute.Name, Name);
        w.Int64(Onnx.Attribute.Type, Type);
        switch (Type)
        {
            case Onnx.AttributeType.Int: w.Int64(Onnx.Attribute.I, I); break;
            case Onnx.AttributeType.Float: w.Float(Onnx.Attribute.F, F); break;
            case Onnx.AttributeType.Ints: w.PackedInt64(Onnx.Attribute.Ints, IntList); break;
            case Onnx.AttributeType.String: w.String(Onnx.Attribute.S, S!); break;
        }
    }
}

/// <summary>
/// Builds one ONNX model (a single graph in the default domain at <see cref="Opset"/>) node by node, and writes it
/// with <see cref="ProtoWriter"/>. The builder names values; <see cref="Output"/> gives a value its output name.
/// </summary>
internal sealed class OnnxGraph(string name)
{
    /// <summary>The operator set the engine's own graphs use (ONNX Runtime 1.31 implements up to 23).</summary>
    public const int Opset = 17;
    private const int IrVersion = 8;

    private sealed record Node(string OpType, string[] Inputs, string Output, Attr[] Attrs);
    private sealed record Value(string Name, int ElementType, long[] Dims);

    private readonly List<Node> _nodes = [];
    private readonly List<Action<ProtoWriter>> _initializers = [];
    private readonly List<Value> _inputs = [], _outputs = [];
    private readonly Dictionary<string, string> _outputNames = []; // value -> the graph output name it gets
    private int _counter;

    /// <summary>A graph input; a dimension of -1 takes any size.</summary>
    public string Input(string input, int elementType, params long[] dims)
    {
        _inputs.Add(new Value(input, elementType, dims));
        return input;
    }

    /// <summary>Makes <paramref name="value"/>, which a node of this graph computes, the graph output <paramref name="output"/>.</summary>
    public void Output(string value, string output, int elementType, params long[] dims)
    {
        if (!_nodes.Any(n => n.Output == value) || _outputNames.ContainsKey(value))
            throw new InvalidOperationException($"'{value}' is not a node's output, or is already an output");
        _outputNames[value] = output;
        _outputs.Add(new Value(output, elementType, dims));
    }

    public string Scalar(float value) => Floats([value]);

    public string Floats(float[] values, params long[] dims) =>
        Initializer(Onnx.DataType.Float, MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), dims);

    public string Int64s(params long[] values) => Int64s(values, [values.Length]);

    public string Int64s(long[] values, long[] dims) =>
        Initializer(Onnx.DataType.Int64, MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), dims);

    /// <summary>One node with one output; returns the output's name.</summary>
    public string Op(string opType, string[] inputs, params Attr[] attrs)
    {
        var output = $"{opType.ToLowerInvariant()}_{++_counter}";
        _nodes.Add(new Node(opType, inputs, output, attrs));
        return output;
    }

    public byte[] ToModel()
    {
        string Named(string value) => _outputNames.GetValueOrDefault(value, value);
        var model = new ProtoWriter();
        model.Int64(Onnx.Model.IrVersion, IrVersion);
        model.String(Onnx.Model.ProducerName, "stylefilter");
        model.Message(Onnx.Model.OpsetImport, o => { o.String(Onnx.OpsetId.Domain, ""); o.Int64(Onnx.OpsetId.Version, Opset); });
        model.Message(Onnx.Model.Graph, g =>
        {
            foreach (var n in _nodes)
                g.Message(Onnx.Graph.Node, w =>
                {
                    foreach (var i in n.Inputs) w.String(Onnx.Node.Input, Named(i));
                    w.String(Onnx.Node.Output, Named(n.Output));
                    w.String(Onnx.Node.Name, n.Output);
                    w.String(Onnx.Node.OpType, n.OpType);
                    foreach (var a in n.Attrs) w.Message(Onnx.Node.Attribute, a.Write);
                });
            g.String(Onnx.Graph.Name, name);
            foreach (var i in _initializers) g.Message(Onnx.Graph.Initializer, i);
            foreach (var i in _inputs) g.Message(Onnx.Graph.Input, w => ValueInfo(w, i));
            foreach (var o in _outputs) g.Message(Onnx.Graph.Output, w => ValueInfo(w, o));
        });
        return model.ToArray();
    }

    private string Initializer(int dataType, byte[] raw, long[] dims)
    {
        var value = $"const_{++_counter}";
        _initializers.Add(w =>
        {
            if (dims.Length > 0) w.PackedInt64(Onnx.Tensor.Dims, dims); // none: a scalar
            w.Int64(Onnx.Tensor.DataType, dataType);
            w.String(Onnx.Tensor.Name, value);
            w.Bytes(Onnx.Tensor.RawData, raw); // little-endian, as ONNX requires and as this machine stores them
        });
        return value;
    }

    private static void ValueInfo(ProtoWriter w, Value v)
    {
        w.String(Onnx.ValueInfo.Name, v.Name);
        w.Message(Onnx.ValueInfo.Type, t => t.Message(Onnx.Type.Tensor, tensor =>
        {
            tensor.Int64(Onnx.TensorType.ElemType, v.ElementType);
            tensor.Message(Onnx.TensorType.Shape, s =>
            {
                foreach (var d in v.Dims)
                    s.Message(Onnx.Shape.Dim, dim => { if (d >= 0) dim.Int64(Onnx.Dimension.Value, d); }); // -1: any size
            });
        }));
    }
}
