// `vae eval --checkpoint F [--json]`: test-set metrics of a trained VAE in nats per image.
using System.Globalization;
using Vae.Data;
using Vae.Training;

namespace Vae.Cli.Commands;

public static class EvalCommand
{
    public const string Help = """
usage: vae eval --checkpoint FILE [--data DIR] [--batch 500] [--json] [--backend cpu] [--threads N]

Evaluates a checkpoint on the test set: test_loss (the negative ELBO, recon + beta * kl, with one posterior sample
per image, as PyTorch's recipe computes it), recon and kl in nats per image, plus the latent variance (of the
posterior means, averaged over dimensions), active units (variance > 0.01) and the mean absolute correlation between
latent dimensions.
""" + CommonOptions.DataHelp + CommonOptions.BackendHelp;

    public static int Run(CliArgs cli)
    {
        if (cli.Flag("help")) { Console.WriteLine(Help); return 0; }
        string path = CommonOptions.CheckpointPath(cli);
        string dataDir = CommonOptions.DataDirectory(cli);
        int batch = cli.Int("batch", 500, 1, 65536);
        bool json = cli.Flag("json");
        using var backend = CommonOptions.Backend(cli);
        cli.RejectUnknown();

        var (checkpoint, model) = CommonOptions.LoadModel(backend, path, batch);
        using (model)
        {
            var test = ImageDatasets.Load(dataDir, train: false);
            CommonOptions.CheckImageSize(test, model);
            using var testSet = new DeviceDataset(backend, test.Images, test.Count, test.Pixels);
            var r = Evaluation.Run(model, testSet, null);
            var inv = CultureInfo.InvariantCulture;
            if (json)
                Console.WriteLine(string.Create(inv,
                    $"{{\"test_loss\":{r.Loss:R},\"recon\":{r.Recon:R},\"kl\":{r.Kl:R},\"images\":{r.Images},\"latent_variance\":{r.LatentVariance:R}," +
                    $"\"active_units\":{r.ActiveUnits},\"mean_abs_latent_correlation\":{r.MeanAbsLatentCorrelation:R},\"epoch\":{checkpoint.State.Epoch}}}"));
            else
            {
                Console.WriteLine(string.Create(inv, $"{path}: VAE {checkpoint.Config}, epoch {checkpoint.State.Epoch}, {r.Images} test images of {test.Name}"));
                Console.WriteLine(string.Create(inv, $"  test_loss {r.Loss:F3} nats/image  (recon {r.Recon:F3}, kl {r.Kl:F3})"));
                Console.WriteLine(string.Create(inv, $"  latent variance {r.LatentVariance:F4}, active units {r.ActiveUnits}/{checkpoint.Config.Latent}, mean |corr| {r.MeanAbsLatentCorrelation:F4}"));
            }
        }
        return 0;
    }
}
