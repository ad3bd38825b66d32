// Entry point of the `vae` command-line tool: dispatches to one class per command under Commands/.
using Vae.Cli;
using Vae.Cli.Commands;

const string Usage = """
usage: vae <command> [options]

commands:
  train        train a model of the family (--model vae|cvae|hvae|vqvae) on Fashion-MNIST or any IDX set,
               writing checkpoint and pictures to runs/MODEL/; --model text: a sentence VAE on the fortunes corpus
               (eval, sample, reconstruct and interpolate take its checkpoint too)
  eval         test-set loss, reconstruction, KL and latent statistics of a checkpoint, -log p(x) (--nll), --json
  sample       decode draws from the model's prior into a grid of images (cvae: --label; vqvae: fitted code prior)
  reconstruct  test images above their reconstructions
  interpolate  decode the line between two test images' latent codes
  latent       2-D maps of the latent space: scatter of test means by class, decoded manifold, PCA, t-SNE
  anomaly      hold out each class in turn, train on the rest, detect it by the VAE's score: ROC AUC, precision, recall
  bench train  median training-step time, GFLOP/s against the FMA peak, bytes allocated per step
  bench gemm   GEMM throughput at the VAE's shapes against the measured FMA peak
  gradcheck    gradients against finite differences, and the CUDA backend against the CPU one (--backend all)
  info         the backends this machine has (CPU features; GPU name, compute capability, memory, driver, cuBLAS)
  help         this text

Run 'vae <command> --help' for a command's options.
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
        "bench" => throw new UsageException($"Unknown command '{string.Join(' ', words)}': bench needs what to measure, 'vae bench train' or 'vae bench gemm'."),
        "train" => TrainCommand.Run(cli),
        "eval" => EvalCommand.Run(cli),
        "sample" => PictureCommands.Sample(cli),
        "reconstruct" => PictureCommands.Reconstruct(cli),
        "interpolate" => PictureCommands.Interpolate(cli),
        "latent" => LatentCommand.Run(cli),
        "anomaly" => AnomalyCommand.Run(cli),
        "info" => InfoCommand.Run(cli),
        "gradcheck" => GradCheckCommand.Run(cli),
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
catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException
    or Vae.Training.TrainingDivergedException or Vae.Cuda.CudaUnavailableException or Vae.Cuda.CudaException)
{
    // Bad input (missing or corrupt files, wrong shapes, diverged training, no GPU): one clear line, no stack trace.
    Console.Error.WriteLine($"vae: {e.Message}");
    return 1;
}

int Help(CliArgs cli)
{
    cli.Flag("help");   // `vae --help` and `vae help --help` print the same text
    cli.RejectUnknown();
    Console.WriteLine(Usage);
    return 0;
}
