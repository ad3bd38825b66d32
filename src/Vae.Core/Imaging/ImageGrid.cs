// Tiles many small grayscale images (floats in [0, 1]) into one picture: rows of `columns` tiles separated and
// surrounded by a mid-grey border, optionally upscaled by an integer factor (nearest neighbour). Used for the grids
// of samples and reconstructions that training writes.
namespace Vae.Imaging;

public static class ImageGrid
{
    /// <summary>
    /// The border value: mid-grey (128), so that the black backgrounds of neighbouring MNIST-style tiles stay apart
    /// and a white (1.0) tile edge is still visible.
    /// </summary>
    internal const byte BorderValue = 128;

    /// <summary>
    /// Lays out <paramref name="count"/> images of <paramref name="height"/> x <paramref name="width"/> pixels
    /// (image i at images[i * height * width ..], row-major) in rows of min(columns, count) tiles, left to right and
    /// top to bottom; empty slots in the last row show the border value. Each tile is magnified <paramref name="scale"/>
    /// times (nearest neighbour); <paramref name="padding"/> border pixels (not scaled) lie between tiles and around
    /// the grid. Pixel values are clamped to [0, 1] (NaN becomes 0) and rounded to the nearest of 0..255.
    /// Returns gridHeight rows of gridWidth bytes.
    /// </summary>
    public static byte[] Tile(ReadOnlySpan<float> images, int count, int height, int width, int columns, int padding,
        out int gridWidth, out int gridHeight, int scale = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scale);
        long pixels = (long)height * width;
        if (images.Length != count * pixels)
            throw new ArgumentException(
                $"{count} images of {height} x {width} pixels need {count * pixels} floats; found {images.Length}.", nameof(images));

        int tileColumns = Math.Min(columns, count);
        int tileRows = (count + tileColumns - 1) / tileColumns;
        long tileWidth = (long)width * scale, tileHeight = (long)height * scale;
        long fullWidth = tileColumns * (tileWidth + padding) + padding;
        long fullHeight = tileRows * (tileHeight + padding) + padding;
        if (fullWidth * fullHeight > Array.MaxLength || fullWidth > int.MaxValue || fullHeight > int.MaxValue)
            throw new ArgumentException($"A grid of {tileColumns} x {tileRows} tiles of {tileWidth} x {tileHeight} pixels is too large ({fullWidth} x {fullHeight}).");
        gridWidth = (int)fullWidth;
        gridHeight = (int)fullHeight;

        var grid = new byte[gridWidth * gridHeight];
        grid.AsSpan().Fill(BorderValue);
        var tileRow = new byte[width];
        for (int i = 0; i < count; i++)
        {
            int left = padding + (i % tileColumns) * (int)(tileWidth + padding);
            int top = padding + (i / tileColumns) * (int)(tileHeight + padding);
            ReadOnlySpan<float> image = images.Slice((int)(i * pixels), (int)pixels);
            for (int y = 0; y < height; y++)
            {
                ReadOnlySpan<float> source = image.Slice(y * width, width);
                for (int x = 0; x < width; x++) tileRow[x] = ToByte(source[x]);
                for (int repeatY = 0; repeatY < scale; repeatY++)
                {
                    Span<byte> target = grid.AsSpan((top + y * scale + repeatY) * gridWidth + left, (int)tileWidth);
                    if (scale == 1) { tileRow.CopyTo(target); continue; }
                    for (int x = 0; x < width; x++) target.Slice(x * scale, scale).Fill(tileRow[x]);
                }
            }
        }
        return grid;
    }

    /// <summary>Tiles the images as <see cref="Tile"/> does and writes the grid as a grayscale PNG (atomically).</summary>
    public static void WriteGrid(string path, ReadOnlySpan<float> images, int count, int height, int width, int columns,
        int padding = 2, int scale = 1)
    {
        byte[] grid = Tile(images, count, height, width, columns, padding, out int gridWidth, out int gridHeight, scale);
        PngEncoder.WriteGray(path, grid, gridWidth, gridHeight);
    }

    /// <summary>[0, 1] to 0..255, rounding to nearest (halves away from zero); out of range clamps, NaN gives 0.</summary>
    static byte ToByte(float value)
    {
        if (!(value > 0f)) return 0; // also NaN
        if (value >= 1f) return 255;
        return (byte)(value * 255f + 0.5f);
    }
}
