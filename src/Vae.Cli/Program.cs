// Entry point of the `vae` command-line tool: dispatches to one class per command under Commands/.
using Vae.Cli;
using Vae.Cli.Commands;

const string Usage = """
usage: vae <command> [options]

commands:
  bench gemm [--threads N] [--json]   GEMM throughput at the VAE's shapes against the measured FMA peak
  help                                this text

(train, eval, sample, reconstruct, interpolate, latent, anomaly and gradcheck arrive with issues 3-7.)
""";

try
{
    var cli = new CliArgs(args);
    var words = cli.Positional;
    int code = words.Count == 0 ? Help(cli) : words[0] switch
    {
        "help" or "-h" => Help(cli),
        "bench" when words.Count > 1 && words[1] == "gemm" => BenchGemmCommand.Run(cli),
        "bench" when words.Count > 1 && words[1] == "train" => BenchTrainCommand.Run(cli),
        _ => throw new UsageException($"Unknown command '{string.Join(' ', words)}'."),
    };
    return code;
}
catch (UsageException e)
{
    Console.Error.WriteLine($"vae: {e.Message}");
    Console.Error.WriteLine("Run 'vae help' for usage.");
    return 2;
}

int Help(CliArgs cli)
{
    cli.RejectUnknown();
    Console.WriteLine(Usage);
    return 0;
}
