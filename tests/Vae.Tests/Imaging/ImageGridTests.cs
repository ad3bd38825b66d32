// ImageGrid: tile positions, border and padding on hand-checked small grids (with and without upscaling), the
// float-to-byte conversion (clamping, NaN, rounding of every k / 255), argument checks and the PNG writer.
using Vae.Imaging;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Imaging;

public sealed class ImageGridTests : IDisposable
{
    readonly ScratchDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    const byte B = 128; // the documented border value (mid-grey)

    [Fact]
    public void Three_2x2_tiles_in_two_columns_with_one_pixel_of_padding()
    {
        // 0.2 -> 51, 0.4 -> 102, 0.6 -> 153, 0.8 -> 204, 1 -> 255
        float[] images =
        [
            0f, 0.2f, 0.4f, 0.6f,   // a
            0.8f, 1f, 0.2f, 0f,     // b
            1f, 0.8f, 0.6f, 0.4f,   // c
        ];
        byte[] grid = ImageGrid.Tile(images, 3, 2, 2, columns: 2, padding: 1, out int gridWidth, out int gridHeight);

        Assert.Equal((7, 7), (gridWidth, gridHeight));
        byte[] expected =
        [
            B, B,   B,   B, B,   B,   B,
            B, 0,   51,  B, 204, 255, B,
            B, 102, 153, B, 51,  0,   B,
            B, B,   B,   B, B,   B,   B,
            B, 255, 204, B, B,   B,   B,
            B, 153, 102, B, B,   B,   B,
            B, B,   B,   B, B,   B,   B,
        ];
        Assert.Equal(expected, grid);
    }

    [Fact]
    public void Scaling_repeats_pixels_and_leaves_padding_unscaled()
    {
        // One 1 x 2 image (height 1, width 2), 4 columns requested but only one tile: the grid is one tile wide.
        byte[] grid = ImageGrid.Tile([1f, 0.2f], 1, 1, 2, columns: 4, padding: 2, out int gridWidth, out int gridHeight, scale: 2);

        Assert.Equal((8, 6), (gridWidth, gridHeight));
        byte[] border = [B, B, B, B, B, B, B, B];
        byte[] tile = [B, B, 255, 255, 51, 51, B, B];
        Assert.Equal([.. border, .. border, .. tile, .. tile, .. border, .. border], grid);
    }

    [Fact]
    public void No_padding_packs_tiles_edge_to_edge()
    {
        float[] images = [0f, 1f, 1f, 0f, 0.2f, 0.4f];
        byte[] grid = ImageGrid.Tile(images, 6, 1, 1, columns: 3, padding: 0, out int gridWidth, out int gridHeight);
        Assert.Equal((3, 2), (gridWidth, gridHeight));
        Assert.Equal(new byte[] { 0, 255, 255, 0, 51, 102 }, grid);
    }

    [Fact]
    public void Values_are_clamped_NaN_becomes_black_and_every_k_over_255_rounds_back_to_k()
    {
        float[] special = [-0.5f, float.NaN, 1.5f, float.PositiveInfinity, float.NegativeInfinity, 0.999f, 0.5f / 255f, 1.49f / 255f];
        byte[] grid = ImageGrid.Tile(special, 1, 1, special.Length, columns: 1, padding: 0, out _, out _);
        Assert.Equal(new byte[] { 0, 0, 255, 255, 0, 255, 1, 1 }, grid);

        float[] levels = Enumerable.Range(0, 256).Select(k => k / 255f).ToArray();
        byte[] exact = ImageGrid.Tile(levels, 1, 16, 16, columns: 1, padding: 0, out _, out _);
        Assert.Equal(Enumerable.Range(0, 256).Select(k => (byte)k), exact);
    }

    [Fact]
    public void Arguments_are_validated()
    {
        var error = Assert.Throws<ArgumentException>(() => ImageGrid.Tile(new float[7], 2, 2, 2, 2, 1, out _, out _));
        Assert.Contains("need 8 floats; found 7", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageGrid.Tile([], 0, 2, 2, 2, 1, out _, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageGrid.Tile(new float[4], 1, 2, 2, 0, 1, out _, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageGrid.Tile(new float[4], 1, 2, 2, 1, -1, out _, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageGrid.Tile(new float[4], 1, 2, 2, 1, 1, out _, out _, scale: 0));
    }

    [Fact]
    public void WriteGrid_writes_the_tiled_picture_as_a_grayscale_png()
    {
        var rng = new System.Random(4);
        float[] images = Enumerable.Range(0, 10 * 5 * 3).Select(_ => (float)rng.NextDouble()).ToArray();
        string path = _folder.File("grid.png");

        ImageGrid.WriteGrid(path, images, 10, 5, 3, columns: 4, padding: 2, scale: 3);

        byte[] expected = ImageGrid.Tile(images, 10, 5, 3, 4, 2, out int gridWidth, out int gridHeight, scale: 3);
        Assert.Equal((4 * (9 + 2) + 2, 3 * (15 + 2) + 2), (gridWidth, gridHeight));
        DecodedPng png = PngDecoder.Decode(File.ReadAllBytes(path));
        Assert.Equal((gridWidth, gridHeight, 0), (png.Width, png.Height, png.ColorType));
        Assert.Equal(expected, png.Samples);
    }
}
