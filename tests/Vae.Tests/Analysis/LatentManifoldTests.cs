// LatentManifold: the grid's codes (evenly spaced over [-range, range]^2, z1 to the right, z2 upwards, in tile
// order), their decoding through the model (the same images as DecodeLatents on the same codes, also when the grid is
// larger than the model's batch capacity), the written PNG's size and tiles, and the refusal of non-2-D models.
using Vae.Analysis;
using Vae.Cpu;
using Vae.Imaging;
using Vae.Models;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Analysis;

public sealed class LatentManifoldTests : IDisposable
{
    readonly ScratchDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Grid_codes_run_left_to_right_in_z1_and_top_to_bottom_in_decreasing_z2()
    {
        var codes = LatentManifold.GridLatents(3, 1.5);
        float[] expected =
        [
            -1.5f, 1.5f,   0f, 1.5f,   1.5f, 1.5f,
            -1.5f, 0f,     0f, 0f,     1.5f, 0f,
            -1.5f, -1.5f,  0f, -1.5f,  1.5f, -1.5f,
        ];
        Assert.Equal(expected, codes);

        var twenty = LatentManifold.GridLatents(20, 3);
        Assert.Equal(800, twenty.Length);
        Assert.Equal((-3f, 3f), (twenty[0], twenty[1]));
        Assert.Equal((3f, -3f), (twenty[798], twenty[799]));
        Assert.Equal(-3 + 6.0 / 19, twenty[2], 6);
    }

    [Fact]
    public void Decoding_the_grid_equals_decoding_its_codes_and_the_png_has_one_tile_per_code()
    {
        using var backend = new CpuBackend(threads: 1);
        using var model = new VaeModel(backend, new VaeConfig(12, [8], 2), capacity: 5);   // 16 codes > capacity: several batches
        model.InitializeParameters(3);
        var images = LatentManifold.Decode(model, 4, 2);
        var codes = LatentManifold.GridLatents(4, 2);
        Assert.Equal(model.DecodeLatents(codes, 16), images);
        Assert.All(images, p => Assert.InRange(p, 0f, 1f));

        string path = _folder.File("manifold.png");
        LatentManifold.Write(path, model, 4, 2, height: 3, width: 4, scale: 2);
        var png = PngDecoder.Decode(File.ReadAllBytes(path));
        Assert.Equal((4 * (2 * 4 + 1) + 1, 4 * (2 * 3 + 1) + 1), (png.Width, png.Height));
        Assert.Equal(0, png.ColorType);
        byte[] tiled = ImageGrid.Tile(images, 16, 3, 4, 4, 1, out _, out _, scale: 2);
        Assert.Equal(tiled, png.Samples);
    }

    [Fact]
    public void Models_without_a_2d_latent_space_and_bad_grids_are_refused()
    {
        using var backend = new CpuBackend(threads: 1);
        using var model = new VaeModel(backend, new VaeConfig(12, [8], 3), capacity: 4);
        model.InitializeParameters(1);
        Assert.Contains("latent size is 3", Assert.Throws<ArgumentException>(() => LatentManifold.Decode(model, 4, 2)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => LatentManifold.GridLatents(1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => LatentManifold.GridLatents(4, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => LatentManifold.GridLatents(4, double.NaN));

        using var flat = new VaeModel(backend, new VaeConfig(12, [8], 2), capacity: 4);
        flat.InitializeParameters(1);
        string path = _folder.File("never.png");
        Assert.Throws<ArgumentException>(() => LatentManifold.Write(path, flat, 4, 2, height: 5, width: 4));
        Assert.False(File.Exists(path));
    }
}
