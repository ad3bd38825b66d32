// A minimal PNG decoder for the tests: checks the signature, walks the chunks verifying every CRC-32 (computed bit by
// bit here, independently of the encoder's table), inflates the concatenated IDAT data with ZLibStream and undoes
// all five row filters. Supports what PngEncoder writes: 8-bit grayscale or RGB, no interlace.
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Vae.Tests.Support;

public sealed record DecodedPng(int Width, int Height, int BitDepth, int ColorType, int Compression, int FilterMethod,
    int Interlace, byte[] Samples, IReadOnlyList<string> ChunkTypes, IReadOnlyList<int> FilterTypes);

public static class PngDecoder
{
    public static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>CRC-32 as PNG defines it, one bit at a time.</summary>
    public static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (uint)-(int)(crc & 1));
        }
        return ~crc;
    }

    public static DecodedPng Decode(byte[] png)
    {
        if (png.Length < 8 || !png.AsSpan(0, 8).SequenceEqual(Signature)) throw new InvalidDataException("bad PNG signature");
        var chunkTypes = new List<string>();
        var idat = new MemoryStream();
        byte[]? header = null;
        int position = 8;
        while (position < png.Length)
        {
            if (position + 12 > png.Length) throw new InvalidDataException($"truncated chunk at {position}");
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(position));
            if (length < 0 || position + 12L + length > png.Length) throw new InvalidDataException($"bad chunk length {length} at {position}");
            string type = Encoding.ASCII.GetString(png, position + 4, 4);
            ReadOnlySpan<byte> typeAndData = png.AsSpan(position + 4, 4 + length);
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(position + 8 + length));
            uint computed = Crc32(typeAndData);
            if (stored != computed) throw new InvalidDataException($"CRC mismatch in {type}: stored {stored:X8}, computed {computed:X8}");
            ReadOnlySpan<byte> data = typeAndData[4..];
            chunkTypes.Add(type);
            if (type == "IHDR") header = data.ToArray();
            else if (type == "IDAT") idat.Write(data);
            position += 12 + length;
            if (type == "IEND") break;
        }
        if (position != png.Length) throw new InvalidDataException("bytes after IEND");
        if (chunkTypes.Count == 0 || chunkTypes[0] != "IHDR" || chunkTypes[^1] != "IEND" || header is null || header.Length != 13)
            throw new InvalidDataException("chunks must start with a 13-byte IHDR and end with IEND: " + string.Join(",", chunkTypes));

        int width = BinaryPrimitives.ReadInt32BigEndian(header);
        int height = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
        int bitDepth = header[8], colorType = header[9];
        if (bitDepth != 8 || (colorType != 0 && colorType != 2) || header[12] != 0)
            throw new InvalidDataException($"unsupported PNG: depth {bitDepth}, colour type {colorType}, interlace {header[12]}");
        int bpp = colorType == 2 ? 3 : 1;
        int rowBytes = width * bpp;

        idat.Position = 0;
        var raw = new MemoryStream();
        using (var zlib = new ZLibStream(idat, CompressionMode.Decompress)) zlib.CopyTo(raw);
        byte[] filtered = raw.ToArray();
        if (filtered.Length != (long)(rowBytes + 1) * height)
            throw new InvalidDataException($"inflated {filtered.Length} bytes, expected {(long)(rowBytes + 1) * height}");

        var samples = new byte[rowBytes * height];
        var filterTypes = new List<int>();
        for (int y = 0; y < height; y++)
        {
            int filter = filtered[y * (rowBytes + 1)];
            filterTypes.Add(filter);
            ReadOnlySpan<byte> line = filtered.AsSpan(y * (rowBytes + 1) + 1, rowBytes);
            Span<byte> row = samples.AsSpan(y * rowBytes, rowBytes);
            ReadOnlySpan<byte> above = y > 0 ? samples.AsSpan((y - 1) * rowBytes, rowBytes) : new byte[rowBytes];
            for (int i = 0; i < rowBytes; i++)
            {
                int a = i >= bpp ? row[i - bpp] : 0, b = above[i], c = i >= bpp ? above[i - bpp] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => PaethPredictor(a, b, c),
                    _ => throw new InvalidDataException($"bad filter type {filter} in row {y}"),
                };
                row[i] = (byte)(line[i] + predictor);
            }
        }
        return new DecodedPng(width, height, bitDepth, colorType, header[10], header[11], header[12], samples, chunkTypes, filterTypes);
    }

    static int PaethPredictor(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
