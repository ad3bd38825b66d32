// Reader for IDX files, the array format of the MNIST family of datasets: two zero bytes, a type byte, a dimension
// count byte, one big-endian int32 per dimension, then the elements in row-major order. Gzip-compressed files are
// recognised by their magic bytes (1f 8b), not by their name. Only unsigned bytes (type 0x08) are supported, and
// every deviation from the format (wrong magic, bad dimensions, truncated data, trailing bytes, corrupt gzip)
// raises an InvalidDataException that names the file, what was expected and what was found.
using System.Buffers.Binary;
using System.IO.Compression;

namespace Vae.Data;

/// <summary>An IDX array of unsigned bytes: <see cref="Data"/> holds the elements in row-major order.</summary>
public sealed class IdxArray
{
    public IdxArray(byte[] data, int[] dimensions)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(dimensions);
        if (dimensions.Length == 0) throw new ArgumentException("An IDX array has at least one dimension.", nameof(dimensions));
        long elements = 1;
        foreach (int d in dimensions)
        {
            if (d <= 0) throw new ArgumentException($"IDX dimensions must be positive; found {string.Join(" x ", dimensions)}.", nameof(dimensions));
            elements *= d;
            if (elements > int.MaxValue) throw new ArgumentException($"IDX array {string.Join(" x ", dimensions)} has more than {int.MaxValue} elements.", nameof(dimensions));
        }
        if (elements != data.Length)
            throw new ArgumentException($"IDX data holds {data.Length} bytes but the dimensions {string.Join(" x ", dimensions)} need {elements}.", nameof(data));
        Data = data;
        Dimensions = dimensions;
    }

    /// <summary>The elements, row-major (the last dimension varies fastest).</summary>
    public byte[] Data { get; }

    /// <summary>The sizes of the dimensions, outermost first.</summary>
    public int[] Dimensions { get; }

    /// <summary>The size of the outermost dimension (the number of items: images or labels).</summary>
    public int Count => Dimensions[0];
}

public static class IdxFile
{
    const byte UnsignedByteType = 0x08;
    const int MaxDimensions = 4;
    const long MaxDataBytes = 1L << 30;
    internal const string Hint = "Re-download or reinstall the dataset (Debian: `apt-get install --reinstall dataset-fashion-mnist`).";

    /// <summary>Reads the IDX file at <paramref name="path"/>, plain or gzip-compressed.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid unsigned-byte IDX file.</exception>
    public static IdxArray Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"IDX file not found: {path}. Check the path, or install the dataset.", path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Read(file, path);
    }

    /// <summary>
    /// Reads an IDX array from <paramref name="stream"/> (plain or gzip-compressed), which must end right after the
    /// data. <paramref name="nameForMessages"/> names the source in error messages. A stream that cannot seek is
    /// copied to memory first when it turns out to be gzip-compressed. A gzip file must end with the trailer of its
    /// last member (GZipStream alone would take a file cut short for a complete one).
    /// </summary>
    public static IdxArray Read(Stream stream, string nameForMessages)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(nameForMessages);
        if (!stream.CanRead) throw new ArgumentException("The stream must be readable.", nameof(stream));

        Span<byte> magic = stackalloc byte[2];
        int magicRead = stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        bool gzip = magicRead == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
        if (!gzip)
            return ReadIdx(new PrefixedStream(magic[..magicRead].ToArray(), stream), nameForMessages, gzip: false);

        Stream compressed;
        if (stream.CanSeek)
        {
            stream.Seek(-2, SeekOrigin.Current);
            compressed = stream;
        }
        else
        {
            var copy = new MemoryStream();
            copy.Write(magic);
            stream.CopyTo(copy);
            copy.Position = 0;
            compressed = copy;
        }
        long start = compressed.Position;
        IdxArray array;
        using (var decompressed = new GZipStream(compressed, CompressionMode.Decompress, leaveOpen: true))
            array = ReadIdx(decompressed, nameForMessages, gzip: true);
        VerifyGzipTrailer(compressed, start, array, nameForMessages);
        return array;
    }

    /// <summary>
    /// GZipStream checks a member's trailer when it is there, but treats a file that ends before the trailer as a
    /// normal end. So the last 8 bytes must be the final member's trailer: CRC-32 and length (mod 2^32, little-endian)
    /// of the final member's uncompressed bytes, which end the decompressed data. For the usual single-member file
    /// that is all of it and the length alone decides; with several members the CRC-32 of that suffix must match too.
    /// </summary>
    static void VerifyGzipTrailer(Stream compressed, long start, IdxArray array, string name)
    {
        byte[] header = HeaderBytes(array.Dimensions);
        long total = header.Length + (long)array.Data.Length;
        Span<byte> trailer = stackalloc byte[8];
        bool haveTrailer = compressed.Length - start >= 18; // 10-byte gzip header + 8-byte trailer at least
        if (haveTrailer)
        {
            compressed.Seek(-8, SeekOrigin.End);
            haveTrailer = compressed.ReadAtLeast(trailer, 8, throwOnEndOfStream: false) == 8;
        }
        uint storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        uint storedLength = BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
        bool matches = haveTrailer && storedLength == (uint)total;
        if (haveTrailer && !matches && storedLength < total)
        {
            // Several members: the last one holds the final storedLength bytes.
            long fromData = Math.Min(storedLength, array.Data.Length);
            long fromHeader = storedLength - fromData;
            uint crc = Imaging.Crc32.Append(Imaging.Crc32.Initial, header.AsSpan(header.Length - (int)fromHeader));
            crc = Imaging.Crc32.Append(crc, array.Data.AsSpan(array.Data.Length - (int)fromData));
            matches = Imaging.Crc32.Finish(crc) == storedCrc;
        }
        if (!matches)
            throw Invalid(name,
                $"truncated gzip file: expected it to end with the gzip trailer (CRC-32 and length {total} of the uncompressed data), " +
                $"found {(haveTrailer ? $"bytes that do not match (length field {storedLength})" : "no room for one")}");
    }

    static byte[] HeaderBytes(int[] dimensions)
    {
        var header = new byte[4 + 4 * dimensions.Length];
        header[2] = UnsignedByteType;
        header[3] = (byte)dimensions.Length;
        for (int i = 0; i < dimensions.Length; i++) BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), dimensions[i]);
        return header;
    }

    static IdxArray ReadIdx(Stream stream, string name, bool gzip)
    {
        string what = gzip ? "the decompressed IDX data" : "the IDX file";

        Span<byte> header = stackalloc byte[4];
        int got = ReadFully(stream, header, name, gzip);
        if (got < 4)
            throw Invalid(name, $"{what} is too short for an IDX header: expected at least 4 bytes, found {got}");
        if (header[0] != 0 || header[1] != 0)
            throw Invalid(name, $"not an IDX file: expected the magic bytes 00 00, found {header[0]:X2} {header[1]:X2}");
        byte type = header[2];
        if (type != UnsignedByteType)
            throw Invalid(name, $"unsupported IDX element type: expected 0x08 (unsigned byte), found 0x{type:X2} ({TypeName(type)})");
        int rank = header[3];
        if (rank < 1 || rank > MaxDimensions)
            throw Invalid(name, $"bad IDX dimension count: expected 1 to {MaxDimensions}, found {rank}");

        Span<byte> dimensionBytes = stackalloc byte[4 * MaxDimensions];
        dimensionBytes = dimensionBytes[..(4 * rank)];
        got = ReadFully(stream, dimensionBytes, name, gzip);
        if (got < dimensionBytes.Length)
            throw Invalid(name, $"{what} is truncated inside its header: expected {rank} dimension sizes ({4 + 4 * rank} header bytes), found {4 + got} bytes");

        var dimensions = new int[rank];
        long elements = 1;
        for (int i = 0; i < rank; i++)
        {
            dimensions[i] = BinaryPrimitives.ReadInt32BigEndian(dimensionBytes[(4 * i)..]);
            if (dimensions[i] <= 0)
                throw Invalid(name, $"bad IDX dimension {i}: expected a positive size, found {dimensions[i]} (header says {string.Join(" x ", dimensions[..(i + 1)])})");
        }
        foreach (int d in dimensions)
        {
            elements *= d; // at most 2^30 * (2^31 - 1) before the check below: no long overflow
            if (elements > MaxDataBytes)
                throw Invalid(name, $"absurd IDX dimensions {string.Join(" x ", dimensions)}: expected at most {MaxDataBytes} bytes of data (1 GiB), found more");
        }

        var data = GC.AllocateUninitializedArray<byte>((int)elements);
        got = ReadFully(stream, data, name, gzip);
        if (got < data.Length)
            throw Invalid(name, $"{what} is truncated: the header ({string.Join(" x ", dimensions)}) announces {data.Length} data bytes, found only {got}");

        long trailing = CountRemaining(stream, name, gzip);
        if (trailing > 0)
            throw Invalid(name, $"{what} has {trailing} unexpected trailing byte(s): expected exactly {data.Length} data bytes for {string.Join(" x ", dimensions)} after the header");

        return new IdxArray(data, dimensions);
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the stream ends; returns the bytes read.</summary>
    static int ReadFully(Stream stream, Span<byte> buffer, string name, bool gzip)
    {
        try
        {
            return stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException e) when (gzip)
        {
            throw CorruptGzip(name, e);
        }
    }

    static long CountRemaining(Stream stream, string name, bool gzip)
    {
        var scratch = new byte[1 << 16];
        long total = 0;
        try
        {
            int n;
            while ((n = stream.Read(scratch)) > 0) total += n;
        }
        catch (InvalidDataException e) when (gzip)
        {
            throw CorruptGzip(name, e);
        }
        return total;
    }

    static InvalidDataException CorruptGzip(string name, InvalidDataException inner) =>
        new($"{name}: corrupt gzip data: expected a valid gzip stream, found damage ({inner.Message}). {Hint}", inner);

    static InvalidDataException Invalid(string name, string problem) => new($"{name}: {problem}. {Hint}");

    static string TypeName(byte type) => type switch
    {
        0x09 => "signed byte",
        0x0B => "int16",
        0x0C => "int32",
        0x0D => "float32",
        0x0E => "float64",
        _ => "not an IDX type",
    };

    /// <summary>Replays a few bytes already read from a stream, then continues with the stream itself.</summary>
    sealed class PrefixedStream(byte[] prefix, Stream rest) : Stream
    {
        int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_position < prefix.Length && buffer.Length > 0)
            {
                int n = Math.Min(buffer.Length, prefix.Length - _position);
                prefix.AsSpan(_position, n).CopyTo(buffer);
                _position += n;
                return n;
            }
            return rest.Read(buffer);
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
