// The safetensors reader and writer: every dtype and the metadata round-trip, the file has the format's byte layout
// (checked by parsing it by hand), and each kind of corrupt or truncated file is an InvalidDataException that names the
// file and the problem. Files that AtomicFile replaces survive a failed write byte for byte, with no temp files left.
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Vae.Checkpoints;
using Vae.IO;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Checkpoints;

public sealed class SafeTensorsTests
{
    static readonly Dictionary<string, string> SampleMetadata = new(StringComparer.Ordinal)
    {
        ["format"] = "test",
        ["unicode"] = "Grüße, 世界 \"quoted\" \\ \n newline",
        ["empty"] = "",
    };

    static List<SafeTensor> SampleTensors()
    {
        var f64 = new byte[3 * 8];
        double[] doubles = [Math.PI, -0.0, double.MaxValue];
        for (int i = 0; i < 3; i++) BinaryPrimitives.WriteDoubleLittleEndian(f64.AsSpan(8 * i), doubles[i]);
        var i32 = new byte[4 * 4];
        int[] ints = [int.MinValue, -1, 0, int.MaxValue];
        for (int i = 0; i < 4; i++) BinaryPrimitives.WriteInt32LittleEndian(i32.AsSpan(4 * i), ints[i]);
        var i64 = new byte[2 * 8];
        BinaryPrimitives.WriteInt64LittleEndian(i64, long.MinValue);
        BinaryPrimitives.WriteInt64LittleEndian(i64.AsSpan(8), (1L << 53) + 1);
        return
        [
            SafeTensor.FromFloats("weights.f32", [1.5f, -2.25f, float.Epsilon, float.MaxValue, 0f, -0f], 2, 3),
            new SafeTensor("f64", SafeTensorType.F64, [3], f64),
            new SafeTensor("i32", SafeTensorType.I32, [2, 2], i32),
            new SafeTensor("i64", SafeTensorType.I64, [2, 1], i64),
            new SafeTensor("u8", SafeTensorType.U8, [5], [0, 1, 127, 128, 255]),   // 5 bytes: the next tensor starts unaligned
            new SafeTensor("scalar", SafeTensorType.F32, [], BitConverter.GetBytes(7.5f)),
            new SafeTensor("empty", SafeTensorType.F32, [0, 4], []),
            SafeTensor.FromFloats("after.u8", [3f], 1),
        ];
    }

    [Fact]
    public void Every_dtype_and_the_metadata_round_trip()
    {
        using var folder = new TempFolder();
        string path = folder.File("all.safetensors");
        var tensors = SampleTensors();
        SafeTensorsFile.Write(path, SampleMetadata, tensors);
        var file = SafeTensorsFile.Read(path);

        Assert.Equal(SampleMetadata.OrderBy(p => p.Key), file.Metadata.OrderBy(p => p.Key));
        Assert.Equal(tensors.Select(t => t.Name), file.Tensors.Select(t => t.Name));   // file order is kept
        foreach (var want in tensors)
        {
            Assert.True(file.TryGet(want.Name, out var got));
            Assert.Equal(want.Type, got.Type);
            Assert.Equal(want.Shape, got.Shape);
            Assert.Equal(want.Data, got.Data);
        }
        Assert.Equal([Math.PI, -0.0, double.MaxValue], file.Get("f64", path).ToDoubles());
        Assert.Equal([int.MinValue, -1.0, 0, int.MaxValue], file.Get("i32", path).ToDoubles());
        Assert.Equal([(double)long.MinValue, (double)((1L << 53) + 1)], file.Get("i64", path).ToDoubles());
        Assert.Equal([0f, 1f, 127f, 128f, 255f], file.Get("u8", path).ToFloats());
        Assert.Equal([1.5f, -2.25f, float.Epsilon, float.MaxValue, 0f, -0f], file.Get("weights.f32", path).ToFloats());
        Assert.Equal([7.5f], file.Get("scalar", path).ToFloats());
        Assert.Empty(file.Get("empty", path).ToFloats());

        var missing = Assert.Throws<InvalidDataException>(() => file.Get("nope", path));
        Assert.Contains(path, missing.Message, StringComparison.Ordinal);
        Assert.Contains("'nope' is missing", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_without_metadata_round_trips()
    {
        using var folder = new TempFolder();
        string path = folder.File("plain.safetensors");
        SafeTensorsFile.Write(path, new Dictionary<string, string>(), [SafeTensor.FromFloats("x", [1f, 2f], 2)]);
        var file = SafeTensorsFile.Read(path);
        Assert.Empty(file.Metadata);
        Assert.Equal([1f, 2f], file.Get("x", path).ToFloats());
    }

    [Fact]
    public void The_file_has_the_safetensors_layout()
    {
        using var folder = new TempFolder();
        string path = folder.File("layout.safetensors");
        var tensors = SampleTensors();
        SafeTensorsFile.Write(path, SampleMetadata, tensors);
        var bytes = File.ReadAllBytes(path);

        // 8-byte little-endian header length, header padded with spaces to a multiple of 8.
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, headerLength % 8);
        var header = bytes.AsSpan(8, (int)headerLength);
        Assert.Equal((byte)'{', header[0]);
        int jsonEnd = header.LastIndexOf((byte)'}') + 1;
        Assert.True(header[jsonEnd..].ToArray().All(b => b == (byte)' '), "the header is padded with spaces only");
        Assert.True(headerLength - (ulong)jsonEnd < 8, "at most 7 padding bytes");

        using var json = JsonDocument.Parse(header.ToArray());
        var root = json.RootElement;
        var metadata = root.GetProperty("__metadata__");
        foreach (var (key, value) in SampleMetadata) Assert.Equal(value, metadata.GetProperty(key).GetString());

        // Tensors in order, back to back from offset 0; the file ends where the last one ends.
        int dataStart = 8 + (int)headerLength;
        long expectedBegin = 0;
        var names = root.EnumerateObject().Where(p => p.Name != "__metadata__").Select(p => p.Name).ToList();
        Assert.Equal(tensors.Select(t => t.Name).OrderBy(n => n, StringComparer.Ordinal), names.OrderBy(n => n, StringComparer.Ordinal));
        foreach (var t in tensors)
        {
            var entry = root.GetProperty(t.Name);
            Assert.Equal(t.Type.ToString(), entry.GetProperty("dtype").GetString());
            Assert.Equal(t.Shape, entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
            var offsets = entry.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Assert.Equal(expectedBegin, offsets[0]);
            Assert.Equal(expectedBegin + t.Data.Length, offsets[1]);
            Assert.Equal(t.Data, bytes.AsSpan(dataStart + (int)offsets[0], t.Data.Length).ToArray());
            expectedBegin = offsets[1];
        }
        Assert.Equal(dataStart + expectedBegin, bytes.Length);
        // The F32 tensor is little-endian IEEE 754.
        int f32 = dataStart + (int)root.GetProperty("weights.f32").GetProperty("data_offsets")[0].GetInt64();
        Assert.Equal(new byte[] { 0x00, 0x00, 0xC0, 0x3F }, bytes.AsSpan(f32, 4).ToArray());   // 1.5f
    }

    // ------------------------------------------------------------------ corrupt files

    /// <summary>A file of an 8-byte length, the given header (padded to 8) and data bytes.</summary>
    static byte[] FileWithHeader(string header, int dataBytes, ulong? claimedLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        int padded = (json.Length + 7) / 8 * 8;
        var bytes = new byte[8 + padded + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, claimedLength ?? (ulong)padded);
        json.CopyTo(bytes, 8);
        for (int i = 8 + json.Length; i < 8 + padded; i++) bytes[i] = (byte)' ';
        return bytes;
    }

    static InvalidDataException ReadFails(byte[] content, params string[] expectedInMessage)
    {
        using var folder = new TempFolder();
        string path = folder.File("bad.safetensors");
        File.WriteAllBytes(path, content);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Read(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        foreach (var part in expectedInMessage) Assert.Contains(part, e.Message, StringComparison.Ordinal);
        return e;
    }

    static byte[] ValidFile()
    {
        using var stream = new MemoryStream();
        SafeTensorsFile.Write(stream, SampleMetadata, SampleTensors());
        return stream.ToArray();
    }

    [Fact]
    public void A_valid_file_written_to_a_stream_reads_back()
    {
        var bytes = ValidFile();
        using var stream = new MemoryStream(bytes);
        Assert.Equal(SampleTensors().Count, SafeTensorsFile.Read(stream, "memory").Tensors.Count);
    }

    [Fact]
    public void Empty_file() => ReadFails([], "0 bytes long");

    [Fact]
    public void Five_byte_file() => ReadFails([1, 2, 3, 4, 5], "5 bytes long");

    [Fact]
    public void Header_longer_than_the_file() => ReadFails(FileWithHeader("{}", 0, claimedLength: 4096), "header claims 4096 bytes", "has 8 bytes");

    [Fact]
    public void Absurd_header_length() => ReadFails(FileWithHeader("{}", 0, claimedLength: 1UL << 60), "header claims 1152921504606846976 bytes");

    [Fact]
    public void Largest_header_length() => ReadFails(FileWithHeader("{}", 0, claimedLength: ulong.MaxValue), "header claims 18446744073709551615 bytes");

    [Fact]
    public void Invalid_json() => ReadFails(FileWithHeader("{\"a\": {\"dtype\": \"F32\", ", 0), "JSON header does not parse");

    [Fact]
    public void Header_that_is_not_an_object() => ReadFails(FileWithHeader("[1, 2]", 0), "not an object");

    [Fact]
    public void Unknown_dtype() => ReadFails(FileWithHeader("{\"a\": {\"dtype\": \"Q7\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 8), "'a'", "dtype 'Q7'");

    [Fact]
    public void Missing_field() => ReadFails(FileWithHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [2]}}", 8), "'a'", "data_offsets");

    [Fact]
    public void Shape_and_offsets_disagree() =>
        ReadFails(FileWithHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [2, 2], \"data_offsets\": [0, 12]}}", 16), "'a'", "needs 16 bytes", "span 12");

    [Fact]
    public void Negative_dimension() =>
        ReadFails(FileWithHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]}}", 8), "'a'", "invalid dimension -2");

    [Fact]
    public void Offsets_that_are_not_numbers() =>
        ReadFails(FileWithHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [\"0\", 8]}}", 8), "'a'", "invalid data_offsets");

    [Fact]
    public void Offsets_in_reverse() =>
        ReadFails(FileWithHeader("{\"a\": {\"dtype\": \"U8\", \"shape\": [0], \"data_offsets\": [8, 0]}}", 8), "'a'", "invalid data_offsets");

    [Fact]
    public void Metadata_that_is_not_strings() =>
        ReadFails(FileWithHeader("{\"__metadata__\": {\"step\": 3}}", 0), "metadata 'step' is not a string");

    [Fact]
    public void Truncated_file()
    {
        var bytes = ValidFile();
        var e = ReadFails(bytes[..^3], "'after.u8'", "needs bytes", "data section has");
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Overlapping_tensors() =>
        ReadFails(FileWithHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 12),
            "overlaps");

    [Fact]
    public void Repeated_tensor_name() =>
        ReadFails(FileWithHeader("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, \"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8),
            "'a'", "twice");

    [Fact]
    public void A_missing_file_names_the_path()
    {
        using var folder = new TempFolder();
        string path = folder.File("absent.safetensors");
        var e = Assert.Throws<FileNotFoundException>(() => SafeTensorsFile.Read(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_truncation_of_a_valid_file_is_an_invalid_data_error()
    {
        // Cut at every length: the reader never reads past the end, throws something else, or accepts a short file.
        var bytes = ValidFile();
        using var folder = new TempFolder();
        string path = folder.File("cut.safetensors");
        for (int length = 0; length < bytes.Length; length++)
        {
            File.WriteAllBytes(path, bytes[..length]);
            var e = Record.Exception(() => SafeTensorsFile.Read(path));
            Assert.True(e is InvalidDataException, $"a file cut to {length} of {bytes.Length} bytes gave {e?.GetType().Name ?? "no exception"}: {e?.Message}");
        }
    }

    [Fact]
    public void Invalid_tensors_are_rejected_when_writing()
    {
        Assert.Throws<ArgumentException>(() => new SafeTensor("x", SafeTensorType.F32, [3], new byte[8]));
        Assert.Throws<ArgumentException>(() => new SafeTensor("x", SafeTensorType.F32, [-1], []));
        using var stream = new MemoryStream();
        Assert.Throws<ArgumentException>(() => SafeTensorsFile.Write(stream, SampleMetadata, [SafeTensor.FromFloats("x", [1f], 1), SafeTensor.FromFloats("x", [2f], 1)]));
        Assert.Throws<ArgumentException>(() => SafeTensorsFile.Write(stream, SampleMetadata, [SafeTensor.FromFloats("__metadata__", [1f], 1)]));
    }

    // ------------------------------------------------------------------ atomic replacement

    [Fact]
    public void A_write_that_fails_midway_leaves_the_old_file_and_no_temp_file()
    {
        using var folder = new TempFolder();
        string path = folder.File("vae.safetensors");
        SafeTensorsFile.Write(path, SampleMetadata, SampleTensors());
        var before = File.ReadAllBytes(path);

        string? tempName = null;
        var e = Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            // Half of a new file reaches the disk, then the write fails (as a full disk would).
            SafeTensorsFile.Write(stream, new Dictionary<string, string> { ["format"] = "new" }, [SafeTensor.FromFloats("y", new float[1000], 1000)]);
            stream.SetLength(stream.Length / 2);
            stream.Flush();
            tempName = Path.GetFileName(((FileStream)stream).Name);
            Assert.Contains(tempName, folder.FileNames());
            throw new IOException("simulated: no space left on device");
        }));
        Assert.Contains("simulated", e.Message, StringComparison.Ordinal);
        Assert.NotNull(tempName);
        Assert.NotEqual("vae.safetensors", tempName);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["vae.safetensors"], folder.FileNames());
    }

    [Fact]
    public void A_write_rejected_before_any_byte_leaves_the_old_file_and_no_temp_file()
    {
        using var folder = new TempFolder();
        string path = folder.File("vae.safetensors");
        SafeTensorsFile.Write(path, SampleMetadata, SampleTensors());
        var before = File.ReadAllBytes(path);
        Assert.Throws<ArgumentException>(() => SafeTensorsFile.Write(path, SampleMetadata, [SafeTensor.FromFloats("x", [1f], 1), SafeTensor.FromFloats("x", [2f], 1)]));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["vae.safetensors"], folder.FileNames());
    }

    [Fact]
    public void A_successful_write_replaces_the_file_and_leaves_no_temp_file()
    {
        using var folder = new TempFolder();
        string path = folder.File("vae.safetensors");
        SafeTensorsFile.Write(path, SampleMetadata, SampleTensors());
        SafeTensorsFile.Write(path, new Dictionary<string, string> { ["format"] = "second" }, [SafeTensor.FromFloats("y", [4f], 1)]);
        var file = SafeTensorsFile.Read(path);
        Assert.Equal("second", file.Metadata["format"]);
        Assert.Equal(["y"], file.Tensors.Select(t => t.Name));
        Assert.Equal(["vae.safetensors"], folder.FileNames());
    }
}
