// `vae train --model KIND`: the flags that shape each member of the VAE family, and the configuration they build.
// A new model kind adds its flags to Flags and one case to FromCli.
using Vae.Models;

namespace Vae.Cli;

public static class ModelOptions
{
    /// <summary>The flags that set a model's shape or objective: fixed for a run, so --resume rejects them.</summary>
    public static readonly string[] Flags = ["hidden", "latent", "beta", "recon", "iwae", "hidden2", "latent2", "positions", "code-dim", "codes", "commitment", "ema", "no-ema", "ema-decay", "restart-threshold"];

    /// <summary>The configuration `vae train --model <paramref name="kind"/>` builds for images of <paramref name="input"/> pixels in <paramref name="classes"/> classes.</summary>
    public static IModelConfig FromCli(string kind, CliArgs cli, int input, int classes) => kind switch
    {
        "vae" => new VaeConfig(input, cli.IntList("hidden", [400, 400]), cli.Int("latent", 20, 1, 100_000), Reconstruction(cli), Beta(cli), ImportanceSamples(cli)),
        "cvae" => classes > 0
            ? new CvaeConfig(input, cli.IntList("hidden", [400, 400]), cli.Int("latent", 20, 1, 100_000), classes, Reconstruction(cli), Beta(cli))
            : throw new InvalidDataException("--model cvae: the training data has no class labels to condition on."),
        "vqvae" => VqVae(cli, input),
        "hvae" => new HvaeConfig(input, cli.IntList("hidden", [400, 400]), cli.Int("latent", 32, 1, 100_000),
            cli.IntList("hidden2", [100, 100]), cli.Int("latent2", 16, 1, 100_000), Reconstruction(cli), Beta(cli)),
        _ => throw new UsageException($"--model {kind}: unknown model; this build has {string.Join(", ", ModelConfigs.Kinds)}."),
    };

    /// <summary>
    /// --model vqvae: --hidden 400,400 --positions 16 --code-dim 16 --codes 128 --commitment 0.25 --ema|--no-ema
    /// --ema-decay 0.99 --restart-threshold 0.01 --recon bce (VqVaeConfig.Default's reasons).
    /// </summary>
    static VqVaeConfig VqVae(CliArgs cli, int input)
    {
        var defaults = VqVaeConfig.Default;
        bool ema = cli.Flag("ema"), noEma = cli.Flag("no-ema");
        if (ema && noEma) throw new UsageException("--ema and --no-ema contradict each other: give one.");
        if (noEma && cli.Has("ema-decay")) throw new UsageException("--ema-decay sets the EMA codebook updates, which --no-ema turns off: give one.");
        // Adam's weight decay acts on the whole parameter buffer, which also holds the codebook statistics and the prior.
        if (cli.Float("weight-decay", 0f, 0f, 10f) > 0)
            throw new UsageException("--weight-decay cannot train a vqvae: Adam's decay would also shrink the codebook statistics and the code prior kept beside the weights.");
        var hidden = cli.IntList("hidden", defaults.Hidden);
        int positions = cli.Int("positions", defaults.Positions, 1, 65_536), codeDim = cli.Int("code-dim", defaults.CodeDim, 1, 65_536);
        int codes = cli.Int("codes", defaults.Codes, 1, 65_536);
        float commitment = cli.Float("commitment", defaults.Commitment, 0f, 1e6f), decay = cli.Float("ema-decay", defaults.EmaDecay, 0f, 0.9999f);
        float restart = cli.Float("restart-threshold", defaults.RestartThreshold, 0f, 1e6f);
        try { return new VqVaeConfig(input, hidden, positions, codeDim, codes, commitment, !noEma, decay, restart, Reconstruction(cli)); }
        catch (ArgumentOutOfRangeException e) { throw new UsageException($"--model vqvae: {e.Message}"); }
    }

    public static float Beta(CliArgs cli) => cli.Float("beta", 1f, 0f, 1e6f);

    /// <summary>--iwae K: importance samples per image of the training objective (1, the default, is the ELBO).</summary>
    public static int ImportanceSamples(CliArgs cli) => cli.Int("iwae", 1, 1, VaeConfig.MaxImportanceSamples);

    /// <summary>--recon bce|mse; any other word is a usage error (exit 2), not a bad-input error.</summary>
    public static ReconstructionLoss Reconstruction(CliArgs cli)
    {
        string text = cli.String("recon") ?? "bce";
        try { return VaeConfig.ParseReconstruction(text); }
        catch (ArgumentException e) { throw new UsageException($"--recon: {e.Message}"); }
    }
}
