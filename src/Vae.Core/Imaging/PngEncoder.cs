// A small PNG encoder for 8-bit grayscale and RGB pictures (sample grids, reconstructions). It writes the signature,
// IHDR, IDAT (one zlib stream, split into chunks of at most 1 MiB) and IEND chunks, each with a big-endian length and
// a CRC-32 over type + data. Every row gets the filter (None, Sub, Up, Average or Paeth) whose output has the smallest
// sum of absolute values taken as signed bytes, the heuristic the PNG specification recommends.
using System.Buffers.Binary;
using System.IO.Compression;
using Vae.IO;

namespace Vae.Imaging;

public static class PngEncoder
{
    static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    const byte ColorTypeGray = 0;
    const byte ColorTypeRgb = 2;
    const int MaxIdatChunk = 1 << 20;

    /// <summary>PNG bytes of a width x height 8-bit grayscale picture; <paramref name="pixels"/> is row-major, top row first.</summary>
    public static byte[] EncodeGray(ReadOnlySpan<byte> pixels, int width, int height) =>
        Encode(pixels, width, height, channels: 1, ColorTypeGray);

    /// <summary>PNG bytes of a width x height 8-bit RGB picture; <paramref name="rgb"/> is row-major R, G, B triples.</summary>
    public static byte[] EncodeRgb(ReadOnlySpan<byte> rgb, int width, int height) =>
        Encode(rgb, width, height, channels: 3, ColorTypeRgb);

    /// <summary>Writes <see cref="EncodeGray"/>'s bytes to <paramref name="path"/> atomically.</summary>
    public static void WriteGray(string path, ReadOnlySpan<byte> pixels, int width, int height) =>
        AtomicFile.WriteAllBytes(path, EncodeGray(pixels, width, height));

    /// <summary>Writes <see cref="EncodeRgb"/>'s bytes to <paramref name="path"/> atomically.</summary>
    public static void WriteRgb(string path, ReadOnlySpan<byte> rgb, int width, int height) =>
        AtomicFile.WriteAllBytes(path, EncodeRgb(rgb, width, height));

    static byte[] Encode(ReadOnlySpan<byte> samples, int width, int height, int channels, byte colorType)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        long expected = (long)width * height * channels;
        if (samples.Length != expected)
            throw new ArgumentException(
                $"A {width} x {height} {(channels == 1 ? "grayscale" : "RGB")} picture needs {expected} bytes ({channels} per pixel); found {samples.Length}.",
                nameof(samples));

        int rowBytes = width * channels;
        byte[] compressed = CompressRows(samples, rowBytes, height, channels);

        var png = new MemoryStream(compressed.Length + 128);
        png.Write(Signature);
        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8;          // bit depth
        header[9] = colorType;
        header[10] = 0;         // compression method: deflate
        header[11] = 0;         // filter method: adaptive, five filter types
        header[12] = 0;         // no interlace
        WriteChunk(png, "IHDR"u8, header);
        for (int offset = 0; offset < compressed.Length; offset += MaxIdatChunk)
            WriteChunk(png, "IDAT"u8, compressed.AsSpan(offset, Math.Min(MaxIdatChunk, compressed.Length - offset)));
        WriteChunk(png, "IEND"u8, []);
        return png.ToArray();
    }

    static byte[] CompressRows(ReadOnlySpan<byte> samples, int rowBytes, int height, int bytesPerPixel)
    {
        var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            // candidates[f] holds row y filtered with filter type f, preceded by the filter type byte.
            var candidates = new byte[5][];
            for (int f = 0; f < 5; f++) { candidates[f] = new byte[rowBytes + 1]; candidates[f][0] = (byte)f; }
            var zeroRow = new byte[rowBytes];
            for (int y = 0; y < height; y++)
            {
                ReadOnlySpan<byte> row = samples.Slice(y * rowBytes, rowBytes);
                ReadOnlySpan<byte> above = y == 0 ? zeroRow : samples.Slice((y - 1) * rowBytes, rowBytes);
                int best = 0;
                long bestCost = long.MaxValue;
                for (int f = 0; f < 5; f++)
                {
                    Span<byte> filtered = candidates[f].AsSpan(1);
                    Filter(f, row, above, bytesPerPixel, filtered);
                    long cost = 0;
                    foreach (byte b in filtered) cost += Math.Abs((int)(sbyte)b);
                    if (cost < bestCost) { bestCost = cost; best = f; }
                }
                zlib.Write(candidates[best]);
            }
        }
        return output.ToArray();
    }

    /// <summary>Applies PNG filter type <paramref name="type"/> (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth) to one row.</summary>
    static void Filter(int type, ReadOnlySpan<byte> row, ReadOnlySpan<byte> above, int bpp, Span<byte> output)
    {
        switch (type)
        {
            case 0:
                row.CopyTo(output);
                break;
            case 1:
                for (int i = 0; i < row.Length; i++) output[i] = (byte)(row[i] - (i >= bpp ? row[i - bpp] : 0));
                break;
            case 2:
                for (int i = 0; i < row.Length; i++) output[i] = (byte)(row[i] - above[i]);
                break;
            case 3:
                for (int i = 0; i < row.Length; i++) output[i] = (byte)(row[i] - (((i >= bpp ? row[i - bpp] : 0) + above[i]) >> 1));
                break;
            default:
                for (int i = 0; i < row.Length; i++)
                {
                    int left = i >= bpp ? row[i - bpp] : 0;
                    int upperLeft = i >= bpp ? above[i - bpp] : 0;
                    output[i] = (byte)(row[i] - Paeth(left, above[i], upperLeft));
                }
                break;
        }
    }

    /// <summary>The Paeth predictor: whichever of left, above, upper-left is closest to left + above - upper-left.</summary>
    static int Paeth(int left, int above, int upperLeft)
    {
        int estimate = left + above - upperLeft;
        int toLeft = Math.Abs(estimate - left);
        int toAbove = Math.Abs(estimate - above);
        int toUpperLeft = Math.Abs(estimate - upperLeft);
        if (toLeft <= toAbove && toLeft <= toUpperLeft) return left;
        return toAbove <= toUpperLeft ? above : upperLeft;
    }

    static void WriteChunk(Stream png, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        png.Write(type);
        png.Write(data);
        uint crc = Crc32.Append(Crc32.Initial, type);
        crc = Crc32.Append(crc, data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Finish(crc));
        png.Write(word);
    }
}

/// <summary>CRC-32 (ISO 3309 / ITU-T V.42, reflected polynomial 0xEDB88320), as PNG and gzip use it; table-driven.</summary>
internal static class Crc32
{
    public const uint Initial = 0xFFFFFFFFu;

    static readonly uint[] Table = BuildTable();

    static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    /// <summary>Continues a running CRC (start from <see cref="Initial"/>) over <paramref name="bytes"/>.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> bytes)
    {
        uint[] table = Table;
        foreach (byte b in bytes) crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    public static uint Finish(uint crc) => crc ^ 0xFFFFFFFFu;
}
