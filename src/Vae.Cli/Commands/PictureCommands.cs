// `vae sample`, `vae reconstruct`, `vae interpolate`: pictures from a trained checkpoint.
using Vae.Data;
using Vae.Imaging;

namespace Vae.Cli.Commands;

public static class PictureCommands
{
    public const string SampleHelp = """
usage: vae sample --checkpoint FILE [--count 64] [--columns 8] [--seed 1] [--label K] [--out samples.png]

Decodes draws from the checkpoint's generative model and writes them as a grid (sigmoid probabilities as grey
levels): z ~ N(0, I) for vae and cvae; z2 ~ N(0, I), then z1 ~ p(z1 | z2) for hvae; for vqvae a grid of codes drawn
from its prior over codes (fitted on the training set after each epoch, each position independently).

  --label K          conditional checkpoints (train --model cvae): every sample is drawn for class K (0 .. classes-1).
                     Without --label a conditional checkpoint draws one row of --columns samples per class (class 0
                     on top), and --count does not apply. An unconditional checkpoint takes no --label.
""" + "\n" + CommonOptions.BackendHelp + "\n" + TextCommands.SampleHelp;

    public const string ReconstructHelp = """
usage: vae reconstruct --checkpoint FILE [--data DIR] [--first 0] [--count 16] [--columns 8] [--out reconstructions.png]

Writes test images (rows of inputs) above their reconstructions through the posterior mean (hvae: of q(z1 | x); cvae:
under each image's own label; vqvae: the encoder's output replaced by its nearest codes).
""" + "\n" + CommonOptions.DataHelp + CommonOptions.BackendHelp + "\n" + TextCommands.ReconstructHelp;

    public const string InterpolateHelp = """
usage: vae interpolate --checkpoint FILE [--data DIR] [--from 0] [--to 1] [--steps 10] [--out interpolation.png]

Decodes points on the straight line between the posterior means of test images --from and --to (both included);
hvae: the means of q(z1 | x); cvae: the two images' one-hot labels move along with the means; vqvae: the encoder's
outputs, each point quantized to its nearest codes before decoding.
""" + "\n" + CommonOptions.DataHelp + CommonOptions.BackendHelp + "\n" + TextCommands.InterpolateHelp;

    public static int Sample(CliArgs cli)
    {
        if (cli.Flag("help")) { Console.WriteLine(SampleHelp); return 0; }
        string path = CommonOptions.CheckpointPath(cli);
        if (Checkpoints.TextCheckpoint.IsTextModel(path)) return TextCommands.Sample(cli, path);
        int count = cli.Int("count", 64, 1, 100_000);
        int columns = cli.Int("columns", 8, 1, 1000);
        ulong seed = (ulong)cli.Int("seed", 1, 0, int.MaxValue);
        string output = cli.String("out") ?? "samples.png";
        int? label = cli.Has("label") ? cli.Int("label", 0, 0, int.MaxValue) : null;
        using var backend = CommonOptions.Backend(cli);
        cli.RejectUnknown();
        var (_, model) = CommonOptions.LoadModel(backend, path, Math.Min(count, 1024));
        using (model)
        {
            int side = SquareSide(model.Config.Input);
            if (model.Classes == 0 && label is not null)
                throw new InvalidDataException($"{path}: holds an unconditional '{model.Config.Kind}' model, which takes no --label; use a conditional checkpoint (train --model cvae).");
            if (label >= model.Classes)
                throw new UsageException($"--label {label}: the checkpoint's model has {model.Classes} classes, so the label must be in [0, {model.Classes - 1}].");
            if (model.Classes > 0 && label is null && cli.Has("count"))
                throw new UsageException("--count applies to one class: give --label K too (without it a conditional checkpoint draws one row of --columns samples per class).");
            if (model.Classes > 0 && label is null)
                RunFiles.WriteClassSamples(output, model, side, side, columns, seed);
            else
            {
                int[] labels = label is int k ? Enumerable.Repeat(k, count).ToArray() : [];
                ImageGrid.WriteGrid(output, model.Sample(count, seed, labels), count, side, side, columns, padding: 2, scale: 2);
            }
        }
        Console.WriteLine($"wrote {output}");
        return 0;
    }

    public static int Reconstruct(CliArgs cli)
    {
        if (cli.Flag("help")) { Console.WriteLine(ReconstructHelp); return 0; }
        string path = CommonOptions.CheckpointPath(cli);
        if (Checkpoints.TextCheckpoint.IsTextModel(path)) return TextCommands.Reconstruct(cli, path);
        string dataDir = CommonOptions.DataDirectory(cli);
        int first = cli.Int("first", 0, 0, int.MaxValue);
        int count = cli.Int("count", 16, 1, 10_000);
        int columns = cli.Int("columns", 8, 1, 1000);
        string output = cli.String("out") ?? "reconstructions.png";
        using var backend = CommonOptions.Backend(cli);
        cli.RejectUnknown();
        var (_, model) = CommonOptions.LoadModel(backend, path, 256);
        using (model)
        {
            var test = ImageDatasets.Load(dataDir, train: false);
            CommonOptions.CheckImageSize(test, model);
            RunFiles.WriteReconstructions(output, model, test, first, count, columns);
        }
        Console.WriteLine($"wrote {output}");
        return 0;
    }

    public static int Interpolate(CliArgs cli)
    {
        if (cli.Flag("help")) { Console.WriteLine(InterpolateHelp); return 0; }
        string path = CommonOptions.CheckpointPath(cli);
        if (Checkpoints.TextCheckpoint.IsTextModel(path)) return TextCommands.Interpolate(cli, path);
        string dataDir = CommonOptions.DataDirectory(cli);
        int from = cli.Int("from", 0, 0, int.MaxValue);
        int to = cli.Int("to", 1, 0, int.MaxValue);
        int steps = cli.Int("steps", 10, 2, 1000);
        string output = cli.String("out") ?? "interpolation.png";
        using var backend = CommonOptions.Backend(cli);
        cli.RejectUnknown();
        var (_, model) = CommonOptions.LoadModel(backend, path, Math.Max(steps, 2));
        using (model)
        {
            var test = ImageDatasets.Load(dataDir, train: false);
            CommonOptions.CheckImageSize(test, model);
            var images = RunFiles.Interpolate(model, test, from, to, steps);
            ImageGrid.WriteGrid(output, images, steps, test.Height, test.Width, steps, padding: 2, scale: 2);
        }
        Console.WriteLine($"wrote {output}");
        return 0;
    }

    /// <summary>The side of a square image of <paramref name="pixels"/> pixels (samples have no dataset to take the shape from).</summary>
    static int SquareSide(int pixels)
    {
        int side = (int)Math.Round(Math.Sqrt(pixels));
        if (side * side != pixels) throw new UsageException($"The model's {pixels} outputs are not a square image; sampling pictures needs square images.");
        return side;
    }
}
