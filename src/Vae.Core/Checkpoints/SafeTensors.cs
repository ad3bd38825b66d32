// The safetensors file format (Hugging Face): an 8-byte little-endian header length N, N bytes of UTF-8 JSON
// {"__metadata__": {string: string}, "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..},
// padded with spaces to a multiple of 8, then the raw little-endian tensor bytes (offsets relative to the data start).
// Reading validates every field against the file length, so a truncated or corrupt file is a clear error.
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Vae.IO;

namespace Vae.Checkpoints;

public enum SafeTensorType { F32, F64, I32, I64, U8 }

/// <summary>One named tensor: element type, shape and its raw little-endian bytes.</summary>
public sealed class SafeTensor
{
    public SafeTensor(string name, SafeTensorType type, int[] shape, byte[] data)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"Tensor '{name}' has a negative dimension.", nameof(shape));
            count *= d;
        }
        if (count * ElementSize(type) != data.Length)
            throw new ArgumentException($"Tensor '{name}' of shape ({string.Join(", ", shape)}) and type {type} needs {count * ElementSize(type)} bytes, got {data.Length}.", nameof(data));
        Name = name;
        Type = type;
        Shape = shape;
        Data = data;
    }

    public string Name { get; }
    public SafeTensorType Type { get; }
    public int[] Shape { get; }
    public byte[] Data { get; }
    public long ElementCount => Data.Length / ElementSize(Type);
    public string ShapeText => "(" + string.Join(", ", Shape) + ")";

    public static SafeTensor FromFloats(string name, ReadOnlySpan<float> values, params int[] shape)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return new SafeTensor(name, SafeTensorType.F32, shape, bytes);
    }

    /// <summary>The values as float; F64 is rounded, integer types are converted.</summary>
    public float[] ToFloats()
    {
        var result = new float[ElementCount];
        var d = Data.AsSpan();
        for (int i = 0; i < result.Length; i++)
            result[i] = Type switch
            {
                SafeTensorType.F32 => BinaryPrimitives.ReadSingleLittleEndian(d[(i * 4)..]),
                SafeTensorType.F64 => (float)BinaryPrimitives.ReadDoubleLittleEndian(d[(i * 8)..]),
                SafeTensorType.I32 => BinaryPrimitives.ReadInt32LittleEndian(d[(i * 4)..]),
                SafeTensorType.I64 => BinaryPrimitives.ReadInt64LittleEndian(d[(i * 8)..]),
                _ => d[i],
            };
        return result;
    }

    /// <summary>The values as double (exact for every type but I64 beyond 2^53).</summary>
    public double[] ToDoubles()
    {
        var result = new double[ElementCount];
        var d = Data.AsSpan();
        for (int i = 0; i < result.Length; i++)
            result[i] = Type switch
            {
                SafeTensorType.F32 => BinaryPrimitives.ReadSingleLittleEndian(d[(i * 4)..]),
                SafeTensorType.F64 => BinaryPrimitives.ReadDoubleLittleEndian(d[(i * 8)..]),
                SafeTensorType.I32 => BinaryPrimitives.ReadInt32LittleEndian(d[(i * 4)..]),
                SafeTensorType.I64 => BinaryPrimitives.ReadInt64LittleEndian(d[(i * 8)..]),
                _ => d[i],
            };
        return result;
    }

    public static int ElementSize(SafeTensorType type) => type switch
    {
        SafeTensorType.F32 or SafeTensorType.I32 => 4,
        SafeTensorType.F64 or SafeTensorType.I64 => 8,
        _ => 1,
    };
}

/// <summary>A parsed safetensors file: metadata and tensors in file order.</summary>
public sealed class SafeTensorsFile
{
    /// <summary>Largest header accepted (the format's reference implementation uses 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    readonly Dictionary<string, SafeTensor> byName;

    public SafeTensorsFile(IReadOnlyDictionary<string, string> metadata, IReadOnlyList<SafeTensor> tensors)
    {
        Metadata = metadata;
        Tensors = tensors;
        byName = new Dictionary<string, SafeTensor>(StringComparer.Ordinal);
        foreach (var t in tensors)
            if (!byName.TryAdd(t.Name, t)) throw new ArgumentException($"Tensor name '{t.Name}' appears twice.", nameof(tensors));
    }

    public IReadOnlyDictionary<string, string> Metadata { get; }
    public IReadOnlyList<SafeTensor> Tensors { get; }
    public bool TryGet(string name, out SafeTensor tensor) => byName.TryGetValue(name, out tensor!);

    /// <summary>The tensor called <paramref name="name"/>; throws InvalidDataException naming the file when missing.</summary>
    public SafeTensor Get(string name, string fileForMessages) =>
        byName.TryGetValue(name, out var t) ? t
        : throw new InvalidDataException($"{fileForMessages}: tensor '{name}' is missing (the file has {Tensors.Count} tensors). Is this a checkpoint of the same model?");

    // ------------------------------------------------------------------ writing

    /// <summary>Writes the file atomically (temp file + rename): an existing file is replaced only when the write succeeded.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, string> metadata, IReadOnlyList<SafeTensor> tensors) =>
        AtomicFile.Write(path, stream => Write(stream, metadata, tensors));

    public static void Write(Stream stream, IReadOnlyDictionary<string, string> metadata, IReadOnlyList<SafeTensor> tensors)
    {
        var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata.Count > 0)
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var t in tensors)
            {
                if (t.Name == "__metadata__" || !seen.Add(t.Name)) throw new ArgumentException($"Tensor name '{t.Name}' is reserved or repeated.", nameof(tensors));
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", t.Type.ToString());
                json.WriteStartArray("shape");
                foreach (int d in t.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + t.Data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += t.Data.Length;
            }
            json.WriteEndObject();
        }
        while (header.Length % 8 != 0) header.WriteByte((byte)' ');
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        header.Position = 0;
        header.CopyTo(stream);
        foreach (var t in tensors) stream.Write(t.Data);
    }

    // ------------------------------------------------------------------ reading

    public static SafeTensorsFile Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint file '{path}' does not exist.", path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(stream, path);
    }

    public static SafeTensorsFile Read(Stream stream, string name)
    {
        long fileLength = stream.Length;
        string Problem(string what) => $"{name}: not a valid safetensors file: {what}. The file may be truncated or corrupt; use another checkpoint or retrain.";
        if (fileLength < 8) throw new InvalidDataException(Problem($"it is {fileLength} bytes long, shorter than the 8-byte header length"));
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength < 2 || headerLength > MaxHeaderBytes || (long)headerLength > fileLength - 8)
            throw new InvalidDataException(Problem($"the header claims {headerLength} bytes but the file has {fileLength - 8} bytes after the length field"));
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        long dataLength = fileLength - 8 - (long)headerLength;

        JsonDocument document;
        try { document = JsonDocument.Parse(headerBytes); }
        catch (JsonException e) { throw new InvalidDataException(Problem($"the JSON header does not parse ({e.Message})"), e); }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException(Problem("the JSON header is not an object"));
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var entries = new List<(string Name, SafeTensorType Type, int[] Shape, long Begin, long End)>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name)) throw new InvalidDataException(Problem($"'{property.Name}' appears twice in the header"));
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object) throw new InvalidDataException(Problem("__metadata__ is not an object"));
                    foreach (var m in property.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String) throw new InvalidDataException(Problem($"metadata '{m.Name}' is not a string"));
                        metadata[m.Name] = m.Value.GetString()!;
                    }
                    continue;
                }
                entries.Add(ParseEntry(property, Problem));
            }
            // Data regions must lie inside the data section, match their shapes and not overlap.
            var sorted = entries.OrderBy(e => e.Begin).ToList();
            long previousEnd = 0;
            foreach (var e in sorted)
            {
                if (e.Begin < previousEnd) throw new InvalidDataException(Problem($"tensor '{e.Name}' overlaps another tensor's data"));
                if (e.End > dataLength) throw new InvalidDataException(Problem($"tensor '{e.Name}' needs bytes [{e.Begin}, {e.End}) but the data section has {dataLength} bytes"));
                previousEnd = e.End;
            }
            long dataStart = 8 + (long)headerLength;
            var tensors = new List<SafeTensor>(entries.Count);
            foreach (var e in entries)
            {
                var data = new byte[e.End - e.Begin];
                stream.Position = dataStart + e.Begin;
                stream.ReadExactly(data);
                tensors.Add(new SafeTensor(e.Name, e.Type, e.Shape, data));
            }
            return new SafeTensorsFile(metadata, tensors);
        }
    }

    static (string, SafeTensorType, int[], long, long) ParseEntry(JsonProperty property, Func<string, string> problem)
    {
        string name = property.Name;
        var v = property.Value;
        if (v.ValueKind != JsonValueKind.Object
            || !v.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String
            || !v.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array
            || !v.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw new InvalidDataException(problem($"tensor '{name}' needs dtype, shape and data_offsets [begin, end]"));
        SafeTensorType type = dtype.GetString() switch
        {
            "F32" => SafeTensorType.F32,
            "F64" => SafeTensorType.F64,
            "I32" => SafeTensorType.I32,
            "I64" => SafeTensorType.I64,
            "U8" => SafeTensorType.U8,
            var other => throw new InvalidDataException(problem($"tensor '{name}' has dtype '{other}'; supported are F32, F64, I32, I64, U8")),
        };
        var dims = new int[shape.GetArrayLength()];
        long count = 1;
        int i = 0;
        foreach (var d in shape.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int n) || n < 0) throw new InvalidDataException(problem($"tensor '{name}' has an invalid dimension {d}"));
            dims[i++] = n;
            count *= n;
            if (count > int.MaxValue) throw new InvalidDataException(problem($"tensor '{name}' has an absurd shape ({shape})"));
        }
        if (offsets[0].ValueKind != JsonValueKind.Number || offsets[1].ValueKind != JsonValueKind.Number
            || !offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw new InvalidDataException(problem($"tensor '{name}' has invalid data_offsets {offsets}"));
        if (end - begin != count * SafeTensor.ElementSize(type))
            throw new InvalidDataException(problem($"tensor '{name}' of shape ({string.Join(", ", dims)}) and dtype {type} needs {count * SafeTensor.ElementSize(type)} bytes but data_offsets span {end - begin}"));
        return (name, type, dims, begin, end);
    }
}
