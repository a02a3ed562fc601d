using System.Buffers.Binary;
using System.Text;

namespace StyleFilter.Graphs;

/// <summary>
/// The protobuf wire format (varints, length-delimited fields), as much of it as ONNX models need: the engine
/// writes its frame graphs with <see cref="ProtoWriter"/> and edits a model's declared shapes with
/// <see cref="ProtoReader"/>. The field numbers are ONNX's (onnx/onnx.proto), in <see cref="Onnx"/>.
/// </summary>
internal sealed class ProtoWriter
{
    private const int Varint = 0, Fixed32 = 5, LengthDelimited = 2;
    private readonly MemoryStream _out = new();

    public byte[] ToArray() => _out.ToArray();

    public void Int64(int field, long value)
    {
        Tag(field, Varint);
        WriteVarint((ulong)value); // negative numbers take ten bytes, as protobuf's int64 does
    }

    public void Float(int field, float value)
    {
        Tag(field, Fixed32);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(b, value);
        _out.Write(b);
    }

    public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public void Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, LengthDelimited);
        WriteVarint((ulong)value.Length);
        _out.Write(value);
    }

    /// <summary>A nested message, written by <paramref name="body"/> into its own buffer for its length prefix.</summary>
    public void Message(int field, Action<ProtoWriter> body)
    {
        var inner = new ProtoWriter();
        body(inner);
        Bytes(field, inner._out.GetBuffer().AsSpan(0, (int)inner._out.Length));
    }

    public void PackedInt64(int field, ReadOnlySpan<long> values)
    {
        var inner = new ProtoWriter();
        foreach (var v in values) inner.WriteVarint((ulong)v);
        Bytes(field, inner._out.GetBuffer().AsSpan(0, (int)inner._out.Length));
    }

    public void PackedFloat(int field, ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        Bytes(field, bytes);
    }

    /// <summary>A whole field (tag and value) as <see cref="ProtoReader"/> read it: copied unchanged.</summary>
    public void Raw(ReadOnlySpan<byte> field) => _out.Write(field);

    private void Tag(int field, int wire) => WriteVarint((ulong)((field << 3) | wire));

    private void WriteVarint(ulong v)
    {
        while (v >= 0x80)
        {
            _out.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }
        _out.WriteByte((byte)v);
    }
}

/// <summary>One field of a message: its number, its value (a varint, or the bytes of a length-delimited one) and its raw bytes.</summary>
internal readonly record struct ProtoField(int Number, int Wire, ulong Varint, ReadOnlyMemory<byte> Payload, ReadOnlyMemory<byte> Raw)
{
    public bool IsLengthDelimited => Wire == 2;
    public string Text => Encoding.UTF8.GetString(Payload.Span);
}

/// <summary>Reads the fields of one message in order. Malformed bytes throw <see cref="InvalidDataException"/>.</summary>
internal struct ProtoReader(ReadOnlyMemory<byte> message)
{
    private int _at;

    public bool Next(out ProtoField field)
    {
        field = default;
        var span = message.Span;
        if (_at >= span.Length) return false;
        int start = _at;
        ulong tag = ReadVarint(span);
        int number = (int)(tag >> 3), wire = (int)(tag & 7);
        if (number <= 0) throw new InvalidDataException($"field number {number} at byte {start}");
        ulong varint = 0;
        ReadOnlyMemory<byte> payload = default;
        switch (wire)
        {
            case 0: varint = ReadVarint(span); break;
            case 1: Skip(8, span); break;
            case 5: Skip(4, span); break;
            case 2:
                ulong length = ReadVarint(span);
                if (length > (ulong)(span.Length - _at)) throw new InvalidDataException($"field {number} runs past the end");
                payload = message.Slice(_at, (int)length);
                _at += (int)length;
                break;
            default: throw new InvalidDataException($"wire type {wire} of field {number} is not supported");
        }
        field = new ProtoField(number, wire, varint, payload, message[start.._at]);
        return true;
    }

    private void Skip(int bytes, ReadOnlySpan<byte> span)
    {
        if (span.Length - _at < bytes) throw new InvalidDataException("a fixed-size field runs past the end");
        _at += bytes;
    }

    private ulong ReadVarint(ReadOnlySpan<byte> span)
    {
        ulong v = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (_at >= span.Length) throw new InvalidDataException("a varint runs past the end");
            byte b = span[_at++];
            v |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return v;
        }
        throw new InvalidDataException("a varint is longer than 10 bytes");
    }
}

/// <summary>ONNX's message field numbers and enum values (onnx/onnx.proto), only those the engine reads or writes.</summary>
internal static class Onnx
{
    public static class Model { public const int IrVersion = 1, ProducerName = 2, Graph = 7, OpsetImport = 8; }
    public static class OpsetId { public const int Domain = 1, Version = 2; }
    public static class Graph { public const int Node = 1, Name = 2, Initializer = 5, Input = 11, Output = 12, ValueInfo = 13; }
    public static class Node { public const int Input = 1, Output = 2, Name = 3, OpType = 4, Attribute = 5; }
    public static class Attribute { public const int Name = 1, F = 2, I = 3, S = 4, Floats = 7, Ints = 8, Type = 20; }
    public static class AttributeType { public const int Float = 1, Int = 2, String = 3, Floats = 6, Ints = 7; }
    public static class ValueInfo { public const int Name = 1, Type = 2; }
    public static class Type { public const int Tensor = 1; }
    public static class TensorType { public const int ElemType = 1, Shape = 2; }
    public static class Shape { public const int Dim = 1; }
    public static class Dimension { public const int Value = 1, Param = 2; }
    public static class Tensor { public const int Dims = 1, DataType = 2, Name = 8, RawData = 9; }
    public static class DataType { public const int Float = 1, UInt8 = 2, Int64 = 7, Bool = 9; }
}
