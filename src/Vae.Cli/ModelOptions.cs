// `vae train --model KIND`: the flags that shape each member of the VAE family, and the configuration they build.
// A new model kind adds its flags to Flags and one case to FromCli.
using Vae.Models;

namespace Vae.Cli;

public static class ModelOptions
{
    /// <summary>The flags that set a model's shape or objective: fixed for a run, so --resume rejects them.</summary>
    public static readonly string[] Flags = ["hidden", "latent", "beta", "recon", "hidden2", "latent2"];

    /// <summary>The configuration `vae train --model <paramref name="kind"/>` builds for images of <paramref name="input"/> pixels in <paramref name="classes"/> classes.</summary>
    public static IModelConfig FromCli(string kind, CliArgs cli, int input, int classes) => kind switch
    {
        "vae" => new VaeConfig(input, cli.IntList("hidden", [400, 400]), cli.Int("latent", 20, 1, 100_000), Reconstruction(cli), Beta(cli)),
        "hvae" => new HvaeConfig(input, cli.IntList("hidden", [400, 400]), cli.Int("latent", 32, 1, 100_000),
            cli.IntList("hidden2", [100, 100]), cli.Int("latent2", 16, 1, 100_000), Reconstruction(cli), Beta(cli)),
        _ => throw new UsageException($"--model {kind}: unknown model; this build has {string.Join(", ", ModelConfigs.Kinds)}."),
    };

    public static float Beta(CliArgs cli) => cli.Float("beta", 1f, 0f, 1e6f);

    /// <summary>--recon bce|mse; any other word is a usage error (exit 2), not a bad-input error.</summary>
    public static ReconstructionLoss Reconstruction(CliArgs cli)
    {
        string text = cli.String("recon") ?? "bce";
        try { return VaeConfig.ParseReconstruction(text); }
        catch (ArgumentException e) { throw new UsageException($"--recon: {e.Message}"); }
    }
}
