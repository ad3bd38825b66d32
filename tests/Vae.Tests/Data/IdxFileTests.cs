// IdxFile: round trips of plain and gzip IDX files written here, and every kind of bad input (wrong magic, bad
// type, bad dimension count or sizes, truncation, trailing bytes, corrupt or truncated gzip) giving an
// InvalidDataException that names the file and the problem.
using System.Buffers.Binary;
using System.IO.Compression;
using Vae.Data;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Data;

public sealed class IdxFileTests : IDisposable
{
    readonly ScratchDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>The bytes of an IDX file: 00 00 type rank, big-endian dimensions, then <paramref name="data"/>.</summary>
    internal static byte[] IdxBytes(byte type, int[] dimensions, ReadOnlySpan<byte> data)
    {
        var bytes = new byte[4 + 4 * dimensions.Length + data.Length];
        bytes[2] = type;
        bytes[3] = (byte)dimensions.Length;
        for (int i = 0; i < dimensions.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dimensions[i]);
        data.CopyTo(bytes.AsSpan(4 + 4 * dimensions.Length));
        return bytes;
    }

    internal static byte[] Gzip(byte[] bytes)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true)) gzip.Write(bytes);
        return output.ToArray();
    }

    static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new System.Random(seed).NextBytes(bytes);
        return bytes;
    }

    string WriteFile(string name, byte[] bytes)
    {
        string path = _folder.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Reading <paramref name="bytes"/> fails with a message naming the file and containing every fragment.</summary>
    InvalidDataException AssertInvalid(byte[] bytes, params string[] fragments)
    {
        string path = WriteFile("bad-" + Guid.NewGuid().ToString("N")[..6] + "-idx", bytes);
        var error = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("re-download or reinstall the dataset", error.Message, StringComparison.OrdinalIgnoreCase);
        foreach (string fragment in fragments) Assert.Contains(fragment, error.Message, StringComparison.OrdinalIgnoreCase);
        return error;
    }

    [Theory]
    [InlineData(new[] { 1 }, false)]
    [InlineData(new[] { 37 }, true)]
    [InlineData(new[] { 5, 7, 3 }, false)]
    [InlineData(new[] { 5, 7, 3 }, true)]
    [InlineData(new[] { 2, 3, 4, 5 }, false)]
    [InlineData(new[] { 300, 28, 28 }, true)]
    public void Round_trips_files_written_here(int[] dimensions, bool compressed)
    {
        int length = dimensions.Aggregate(1, (a, b) => a * b);
        byte[] data = RandomBytes(length, seed: length);
        byte[] file = IdxBytes(0x08, dimensions, data);
        // The name never says ".gz": compression is recognised by the magic bytes.
        string path = WriteFile("array-idx", compressed ? Gzip(file) : file);

        IdxArray array = IdxFile.Read(path);

        Assert.Equal(dimensions, array.Dimensions);
        Assert.Equal(dimensions[0], array.Count);
        Assert.Equal(data, array.Data);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_from_a_stream_that_cannot_seek(bool compressed)
    {
        byte[] data = RandomBytes(6 * 5, seed: 3);
        byte[] file = IdxBytes(0x08, [6, 5], data);
        using var stream = new ForwardOnlyStream(compressed ? Gzip(file) : file);

        IdxArray array = IdxFile.Read(stream, "in-memory");

        Assert.Equal([6, 5], array.Dimensions);
        Assert.Equal(data, array.Data);
    }

    [Fact]
    public void A_missing_file_gives_FileNotFoundException_with_the_path()
    {
        string path = _folder.File("does-not-exist-idx1-ubyte");
        var error = Assert.Throws<FileNotFoundException>(() => IdxFile.Read(path));
        Assert.Equal(path, error.FileName);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void Wrong_magic_is_rejected()
    {
        byte[] file = IdxBytes(0x08, [4], [1, 2, 3, 4]);
        file[0] = 0x50;
        file[1] = 0x4B; // "PK": a zip archive, say
        AssertInvalid(file, "magic", "00 00", "50 4B");
    }

    [Theory]
    [InlineData(0x09, "signed byte")]
    [InlineData(0x0B, "int16")]
    [InlineData(0x0C, "int32")]
    [InlineData(0x0D, "float32")]
    [InlineData(0x0E, "float64")]
    [InlineData(0x42, "not an IDX type")]
    public void Element_types_other_than_unsigned_byte_are_named_and_rejected(byte type, string typeName)
    {
        AssertInvalid(IdxBytes(type, [4], new byte[4]), "0x08", $"0x{type:X2}", typeName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(255)]
    public void Dimension_counts_outside_1_to_4_are_rejected(int rank)
    {
        var file = new byte[] { 0, 0, 0x08, (byte)rank, 0, 0, 0, 1, 7 };
        AssertInvalid(file, "dimension count", "1 to 4", $"found {rank}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void Zero_and_negative_dimensions_are_rejected(int size)
    {
        AssertInvalid(IdxBytes(0x08, [3, size, 2], new byte[6]), "dimension 1", "positive", $"found {size}");
    }

    [Theory]
    [InlineData(new[] { 65536, 65536 })]                                              // 2^32 elements
    [InlineData(new[] { int.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue })]     // the product overflows 64 bits
    [InlineData(new[] { 1025, 1024, 1024 })]                                          // just over 1 GiB
    public void Absurd_dimensions_are_rejected_before_allocating(int[] dimensions)
    {
        AssertInvalid(IdxBytes(0x08, dimensions, new byte[16]), "absurd", string.Join(" x ", dimensions), "1 GiB");
    }

    [Fact]
    public void Truncated_data_is_rejected_with_expected_and_found_counts()
    {
        byte[] file = IdxBytes(0x08, [2, 5], RandomBytes(10, 1));
        AssertInvalid(file[..^3], "truncated", "10 data bytes", "found only 7");
    }

    [Fact]
    public void A_header_cut_inside_the_dimensions_is_rejected()
    {
        byte[] file = IdxBytes(0x08, [2, 5, 4], new byte[40]);
        AssertInvalid(file[..10], "truncated", "header", "3 dimension sizes");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public void A_file_too_short_for_the_header_is_rejected(int length)
    {
        AssertInvalid(new byte[] { 0, 0, 8 }[..length], "too short", "at least 4 bytes", $"found {length}");
    }

    [Fact]
    public void Trailing_bytes_after_the_data_are_rejected()
    {
        byte[] file = [.. IdxBytes(0x08, [3], [1, 2, 3]), 9, 9];
        AssertInvalid(file, "2 unexpected trailing byte", "exactly 3 data bytes");
    }

    [Fact]
    public void Problems_inside_a_gzip_file_are_reported_as_for_a_plain_file()
    {
        byte[] file = IdxBytes(0x08, [2, 5], RandomBytes(10, 1));
        AssertInvalid(Gzip(file[..^3]), "decompressed", "truncated", "found only 7");
        AssertInvalid(Gzip([.. file, 0]), "decompressed", "1 unexpected trailing byte");
        AssertInvalid(Gzip(IdxBytes(0x0D, [1], new byte[4])), "0x0D");
    }

    [Fact]
    public void A_gzip_file_with_a_wrong_checksum_is_rejected_as_corrupt()
    {
        byte[] gz = Gzip(IdxBytes(0x08, [100], RandomBytes(100, 2)));
        gz[^8] ^= 0xFF; // first byte of the stored CRC-32 of the uncompressed data
        var error = AssertInvalid(gz, "corrupt gzip");
        Assert.IsType<InvalidDataException>(error.InnerException);
    }

    [Fact]
    public void A_gzip_file_with_damaged_compressed_data_is_rejected_as_corrupt()
    {
        byte[] gz = Gzip(IdxBytes(0x08, [4000], RandomBytes(4000, 5)));
        gz[3] = 0xE0; // reserved FLG bits set: not a valid gzip header
        AssertInvalid(gz, "corrupt gzip");
        byte[] badMethod = Gzip(IdxBytes(0x08, [40], RandomBytes(40, 6)));
        badMethod[2] = 7; // compression method other than deflate
        AssertInvalid(badMethod, "corrupt gzip");
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(0.0)]
    public void A_truncated_gzip_file_is_rejected(double keptFraction)
    {
        byte[] gz = Gzip(IdxBytes(0x08, [50, 20], RandomBytes(1000, 7)));
        int kept = Math.Max(3, (int)(gz.Length * keptFraction));
        var error = AssertInvalid(gz[..kept]);
        Assert.True(error.Message.Contains("truncated", StringComparison.Ordinal) || error.Message.Contains("too short", StringComparison.Ordinal), error.Message);
    }

    // GZipStream itself accepts these files: the data decompresses completely, only the trailer is cut.
    [Theory]
    [InlineData(8)]
    [InlineData(4)]
    [InlineData(1)]
    public void A_gzip_file_missing_part_of_its_trailer_is_rejected(int cut)
    {
        byte[] gz = Gzip(IdxBytes(0x08, [50, 20], RandomBytes(1000, 8)));
        AssertInvalid(gz[..^cut], "truncated gzip file", "length 1012");
    }

    [Fact]
    public void A_gzip_file_of_several_members_is_read_whole()
    {
        byte[] data = RandomBytes(3 * 100, seed: 9);
        byte[] file = IdxBytes(0x08, [3, 10, 10], data);
        // gzip allows concatenated members; the last member here holds only part of the data.
        foreach (int split in new[] { 2, 20, 200, file.Length - 1 })
        {
            string path = WriteFile($"members-{split}-idx", [.. Gzip(file[..split]), .. Gzip(file[split..])]);
            IdxArray array = IdxFile.Read(path);
            Assert.Equal(data, array.Data);
            AssertInvalid([.. Gzip(file[..split]), .. Gzip(file[split..])[..^2]], "truncated gzip file");
        }
    }

    /// <summary>A read-only stream over bytes that cannot seek, like a pipe or a network stream.</summary>
    sealed class ForwardOnlyStream(byte[] bytes) : Stream
    {
        readonly MemoryStream _inner = new(bytes);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 3)); // short reads too
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
