namespace Vae.Cli.Commands; public static class BenchGemmCommand { public static int Run(CliArgs cli) => throw new NotImplementedException("TEMPORARY: bench gemm is being written"); }
