// The decoded manifold of a VAE with a 2-D latent space: a side x side grid of evenly spaced latent codes over
// [-range, range]^2 (the prior N(0, I) puts 99.7 % of each coordinate's mass inside +-3), each decoded through
// VaeModel.DecodeLatents and tiled with ImageGrid. The tiles are laid out like the scatter plot's axes: z1 grows to
// the right, z2 grows upwards, so tile (row r, column c) shows z = (-range + c * step, range - r * step).
using Vae.Imaging;
using Vae.Models;

namespace Vae.Analysis;

public static class LatentManifold
{
    /// <summary>
    /// The side * side latent codes (row-major (count, 2)) in tile order: row r from the top, column c from the left,
    /// code (z1, z2) = (-range + c * step, range - r * step) with step = 2 range / (side - 1).
    /// </summary>
    public static float[] GridLatents(int side, double range)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(side, 2);
        if (!(range > 0) || !double.IsFinite(range)) throw new ArgumentOutOfRangeException(nameof(range), range, "The grid's half-width must be a positive number.");
        double step = 2 * range / (side - 1);
        var codes = new float[side * side * 2];
        for (int r = 0; r < side; r++)
            for (int c = 0; c < side; c++)
            {
                int k = r * side + c;
                codes[2 * k] = (float)(-range + c * step);
                codes[2 * k + 1] = (float)(range - r * step);
            }
        return codes;
    }

    /// <summary>Decodes <see cref="GridLatents"/> with <paramref name="model"/>; returns (side * side, D) probabilities in tile order.</summary>
    public static float[] Decode(VaeModel model, int side, double range)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Config.Latent != 2)
            throw new ArgumentException($"A manifold grid needs a 2-D latent space; this model's latent size is {model.Config.Latent}.", nameof(model));
        return model.DecodeLatents(GridLatents(side, range), side * side);
    }

    /// <summary>Writes the decoded grid as a grayscale PNG of side x side tiles of height x width pixels, 1 pixel apart.</summary>
    public static void Write(string path, VaeModel model, int side, double range, int height, int width, int scale = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        if ((long)height * width != model.Config.Input)
            throw new ArgumentException($"Tiles of {height} x {width} pixels do not match the model's {model.Config.Input} outputs.", nameof(height));
        var images = Decode(model, side, range);
        ImageGrid.WriteGrid(path, images, side * side, height, width, side, padding: 1, scale: scale);
    }
}
