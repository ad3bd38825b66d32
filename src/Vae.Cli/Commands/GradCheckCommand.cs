// `vae gradcheck [--backend cpu|reference|cuda|all] [--json]`: the model's gradients against finite differences of a
// double-precision loss on each chosen backend, and, with CUDA, the CUDA backend against the CPU backend (loss and
// every gradient, small models and the default 784-400-400-20 VAE at batch 128). Exit status 1 when a check fails.
using System.Globalization;
using Vae.Cpu;
using Vae.Cuda;
using Vae.Cuda.Device;
using Vae.Diagnostics;
using Vae.Models;

namespace Vae.Cli.Commands;

public static class GradCheckCommand
{
    public const string Help = """
usage: vae gradcheck [--backend cpu|reference|cuda|all] [--json]

Checks the VAE's gradients, printing one line per check with its worst deviation as a multiple of the tolerance
(PASS when <= 1):
  finite differences  every parameter's gradient against central differences of the loss computed in double
                      precision from the formulas: |g - fd| <= 2e-3 |fd| + 2e-5 max|fd| (three small models)
  cuda vs cpu         the same parameters, images and noise on both backends: every gradient within 1e-4 of the
                      largest gradient magnitude, the loss within 1e-5 relative (small models and the default VAE)
--backend all (default) checks cpu, reference and, when this machine has a GPU, cuda; --backend cuda fails when it
has none. Exit status 0 when every check passes, 1 otherwise.
""";

    static readonly (VaeConfig Config, int Batch)[] SmallModels =
    [
        (new VaeConfig(12, [], 3, ReconstructionLoss.Bce, 1f), 4),
        (new VaeConfig(10, [8], 3, ReconstructionLoss.Mse, 0.5f), 5),
        (new VaeConfig(16, [11, 9], 4, ReconstructionLoss.Bce, 2f), 6),
    ];

    public static int Run(CliArgs cli)
    {
        if (cli.Flag("help")) { Console.WriteLine(Help); return 0; }
        string which = cli.String("backend") ?? "all";
        bool json = cli.Flag("json");
        cli.RejectUnknown();
        if (which is not ("cpu" or "reference" or "cuda" or "all"))
            throw new UsageException($"Unknown backend '{which}' for gradcheck: use cpu, reference, cuda or all.");

        var results = new List<GradientCheckResult>();
        var names = which == "all" ? new[] { "cpu", "reference", "cuda" } : [which];
        foreach (var name in names)
        {
            if (name == "cuda" && CudaDriverDevice.DeviceCount(out string? reason) == 0)
            {
                if (which == "cuda") throw new CudaUnavailableException(reason ?? "no CUDA device");
                if (!json) Console.WriteLine($"skip  cuda: unavailable: {reason}");
                continue;
            }
            using var backend = BackendFactory.Create(name, null);
            foreach (var (config, batch) in SmallModels)
                Report(GradientCheck.FiniteDifferences(backend, config, batch, seed: 7), results, json);
            if (name == "cuda")
            {
                using var cpu = new CpuBackend();
                foreach (var (config, batch) in SmallModels)
                    Report(GradientCheck.CrossBackend(cpu, backend, config, batch, seed: 7), results, json);
                Report(GradientCheck.CrossBackend(cpu, backend, new VaeConfig(784, [400, 400], 20, ReconstructionLoss.Bce, 1f), 128, seed: 7), results, json);
            }
        }
        int failed = results.Count(r => !r.Passed);
        if (!json) Console.WriteLine($"{results.Count - failed} passed, {failed} failed");
        return failed == 0 ? 0 : 1;
    }

    static void Report(GradientCheckResult r, List<GradientCheckResult> results, bool json)
    {
        results.Add(r);
        var inv = CultureInfo.InvariantCulture;
        if (json)
            Console.WriteLine(string.Create(inv,
                $"{{\"check\":\"{r.Check}\",\"configuration\":\"{r.Configuration}\",\"worst_ratio_to_tolerance\":{(double.IsFinite(r.WorstError) ? r.WorstError.ToString("R", inv) : "null")},\"passed\":{(r.Passed ? "true" : "false")},\"worst_at\":\"{r.WorstAt.Replace("\"", "'", StringComparison.Ordinal)}\"}}"));
        else
            Console.WriteLine(string.Create(inv, $"{(r.Passed ? "PASS" : "FAIL")}  {r.Check,-28} {r.Configuration,-52} worst {r.WorstError,8:G3} x tolerance  at {r.WorstAt}"));
    }
}
