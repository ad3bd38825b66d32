// PngEncoder: round trips of grayscale and RGB pictures of odd sizes through the test decoder (every chunk CRC
// checked, all five row filters undone), the signature and IHDR fields, multi-chunk IDAT, size validation, the
// atomic file writers, and an independent decode of one file by a small Python zlib/struct script.
using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Vae.Imaging;
using Vae.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Vae.Tests.Imaging;

public sealed class PngEncoderTests(ITestOutputHelper output) : IDisposable
{
    readonly ScratchDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    public static TheoryData<int, int> OddSizes => new()
    {
        { 1, 1 }, { 1, 9 }, { 9, 1 }, { 3, 7 }, { 17, 5 }, { 33, 33 }, { 101, 3 }, { 28, 28 },
    };

    /// <summary>Pictures of four kinds (noise, gradients, stripes, noisy gradient), so every filter type gets chosen.</summary>
    static byte[] Picture(int width, int height, int channels, int kind, int seed)
    {
        var rng = new System.Random(seed);
        var samples = new byte[width * height * channels];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                for (int c = 0; c < channels; c++)
                {
                    int value = kind switch
                    {
                        0 => rng.Next(256),
                        1 => 3 * x + 5 * y + 40 * c,
                        2 => (y % 3 == 0 ? 200 : 10) + c,
                        _ => 2 * x + 2 * y + rng.Next(5),
                    };
                    samples[(y * width + x) * channels + c] = (byte)value;
                }
            }
        }
        return samples;
    }

    [Theory]
    [MemberData(nameof(OddSizes))]
    public void Gray_pictures_round_trip(int width, int height)
    {
        for (int kind = 0; kind < 4; kind++)
        {
            byte[] pixels = Picture(width, height, 1, kind, seed: width * 1000 + height);
            DecodedPng png = PngDecoder.Decode(PngEncoder.EncodeGray(pixels, width, height));
            Assert.Equal((width, height, 8, 0), (png.Width, png.Height, png.BitDepth, png.ColorType));
            Assert.Equal(pixels, png.Samples);
        }
    }

    [Theory]
    [MemberData(nameof(OddSizes))]
    public void Rgb_pictures_round_trip(int width, int height)
    {
        for (int kind = 0; kind < 4; kind++)
        {
            byte[] rgb = Picture(width, height, 3, kind, seed: width * 1000 + height + 7);
            DecodedPng png = PngDecoder.Decode(PngEncoder.EncodeRgb(rgb, width, height));
            Assert.Equal((width, height, 8, 2), (png.Width, png.Height, png.BitDepth, png.ColorType));
            Assert.Equal(rgb, png.Samples);
        }
    }

    [Fact]
    public void Every_filter_type_is_used_and_undone_somewhere()
    {
        var used = new HashSet<int>();
        foreach (int channels in new[] { 1, 3 })
        {
            for (int kind = 0; kind < 4; kind++)
            {
                byte[] samples = Picture(40, 30, channels, kind, seed: kind);
                byte[] encoded = channels == 1 ? PngEncoder.EncodeGray(samples, 40, 30) : PngEncoder.EncodeRgb(samples, 40, 30);
                DecodedPng png = PngDecoder.Decode(encoded);
                Assert.Equal(samples, png.Samples);
                used.UnionWith(png.FilterTypes);
            }
        }
        Assert.Equal([0, 1, 2, 3, 4], used.Order());
    }

    [Fact]
    public void Signature_chunks_and_IHDR_fields_follow_the_specification()
    {
        byte[] png = PngEncoder.EncodeRgb(Picture(300, 2, 3, 1, 0), 300, 2);

        Assert.Equal(PngDecoder.Signature, png[..8]);
        Assert.Equal(13, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(8)));
        Assert.Equal("IHDR", Encoding.ASCII.GetString(png, 12, 4));
        Assert.Equal(300, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(2, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
        Assert.Equal(new byte[] { 8, 2, 0, 0, 0 }, png[24..29]); // depth, colour type, compression, filter, interlace
        Assert.Equal(PngDecoder.Crc32(png.AsSpan(12, 17)), BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(29)));
        // IEND: zero length, fixed CRC AE 42 60 82.
        Assert.Equal(new byte[] { 0, 0, 0, 0, (byte)'I', (byte)'E', (byte)'N', (byte)'D', 0xAE, 0x42, 0x60, 0x82 }, png[^12..]);

        DecodedPng decoded = PngDecoder.Decode(png);
        Assert.Equal(["IHDR", "IDAT", "IEND"], decoded.ChunkTypes);
        Assert.Equal((0, 0, 0), (decoded.Compression, decoded.FilterMethod, decoded.Interlace));
    }

    [Fact]
    public void The_test_decoder_computes_the_standard_CRC32()
    {
        Assert.Equal(0xCBF43926u, PngDecoder.Crc32("123456789"u8)); // the CRC-32 check value
        Assert.Equal(0xAE426082u, PngDecoder.Crc32("IEND"u8));
    }

    [Fact]
    public void Large_pictures_span_several_IDAT_chunks()
    {
        const int width = 1201, height = 1000; // noise barely compresses: more than 1 MiB of IDAT data
        byte[] pixels = Picture(width, height, 1, 0, seed: 11);
        DecodedPng png = PngDecoder.Decode(PngEncoder.EncodeGray(pixels, width, height));
        Assert.True(png.ChunkTypes.Count(t => t == "IDAT") >= 2, string.Join(",", png.ChunkTypes));
        Assert.Equal(pixels, png.Samples);
    }

    [Fact]
    public void Sizes_are_validated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PngEncoder.EncodeGray([], 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PngEncoder.EncodeGray([], 1, -1));
        var error = Assert.Throws<ArgumentException>(() => PngEncoder.EncodeGray(new byte[11], 3, 4));
        Assert.Contains("needs 12 bytes", error.Message);
        Assert.Contains("found 11", error.Message);
        error = Assert.Throws<ArgumentException>(() => PngEncoder.EncodeRgb(new byte[12], 3, 4));
        Assert.Contains("needs 36 bytes", error.Message);
        Assert.Throws<ArgumentException>(() => PngEncoder.EncodeRgb(new byte[1 << 16], 65536, 65536));
    }

    [Fact]
    public void The_writers_put_the_encoded_bytes_in_the_file()
    {
        byte[] gray = Picture(7, 5, 1, 3, 1), rgb = Picture(7, 5, 3, 3, 2);
        string grayPath = Path.Combine(_folder.Path, "sub", "gray.png"), rgbPath = _folder.File("rgb.png");
        PngEncoder.WriteGray(grayPath, gray, 7, 5);
        PngEncoder.WriteRgb(rgbPath, rgb, 7, 5);
        Assert.Equal(PngEncoder.EncodeGray(gray, 7, 5), File.ReadAllBytes(grayPath));
        Assert.Equal(rgb, PngDecoder.Decode(File.ReadAllBytes(rgbPath)).Samples);
        Assert.Equal(["gray.png"], Directory.GetFiles(Path.GetDirectoryName(grayPath)!).Select(Path.GetFileName));
    }

    const string PythonDecoder = """
        import struct, sys, zlib
        data = open(sys.argv[1], 'rb').read()
        assert data[:8] == b'\x89PNG\r\n\x1a\n', 'signature'
        pos, idat, ihdr = 8, b'', None
        while pos < len(data):
            (length,) = struct.unpack('>I', data[pos:pos + 4])
            kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
            (crc,) = struct.unpack('>I', data[pos + 8 + length:pos + 12 + length])
            assert zlib.crc32(kind + body) & 0xffffffff == crc, 'crc of ' + kind.decode()
            if kind == b'IHDR': ihdr = struct.unpack('>IIBBBBB', body)
            if kind == b'IDAT': idat += body
            pos += 12 + length
        width, height, depth, colour, _, _, _ = ihdr
        bpp = {0: 1, 2: 3}[colour]
        stride = width * bpp
        raw, out, prev = zlib.decompress(idat), bytearray(), bytearray(stride)
        for y in range(height):
            f, line = raw[y * (stride + 1)], raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)]
            row = bytearray(stride)
            for i in range(stride):
                a = row[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                if f == 0: p = 0
                elif f == 1: p = a
                elif f == 2: p = b
                elif f == 3: p = (a + b) // 2
                else:
                    q = a + b - c
                    pa, pb, pc = abs(q - a), abs(q - b), abs(q - c)
                    p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                row[i] = (line[i] + p) & 255
            out += row
            prev = row
        print(width, height, depth, colour, out.hex())
        """;

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Python_zlib_decodes_the_same_samples(int channels)
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python))
        {
            output.WriteLine($"Skipped: {python} not found, no independent cross-check.");
            return;
        }
        const int width = 23, height = 19;
        byte[] samples = Picture(width, height, channels, 3, seed: 5);
        for (int i = 0; i < 50; i++) samples[i * 7 % samples.Length] = (byte)(i * 37);
        string pngPath = _folder.File("cross-check.png"), scriptPath = _folder.File("decode_png.py");
        if (channels == 1) PngEncoder.WriteGray(pngPath, samples, width, height);
        else PngEncoder.WriteRgb(pngPath, samples, width, height);
        File.WriteAllText(scriptPath, PythonDecoder);

        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(scriptPath);
        start.ArgumentList.Add(pngPath);
        using var process = Process.Start(start)!;
        string stdout = process.StandardOutput.ReadToEnd(), stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();

        Assert.True(process.ExitCode == 0, "python decoder failed: " + stderr);
        Assert.Equal($"{width} {height} 8 {(channels == 1 ? 0 : 2)} {Convert.ToHexStringLower(samples)}", stdout.Trim());
    }
}
