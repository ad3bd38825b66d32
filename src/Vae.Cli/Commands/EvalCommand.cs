// `vae eval --checkpoint F [--nll [K]] [--json]`: test-set metrics of a trained VAE in nats per image, optionally with
// the importance-sampled (IWAE) estimate of the negative log-likelihood.
using System.Diagnostics;
using System.Globalization;
using Vae.Analysis;
using Vae.Data;
using Vae.Models;
using Vae.Training;

namespace Vae.Cli.Commands;

public static class EvalCommand
{
    public const string Help = """
usage: vae eval --checkpoint FILE [--data DIR] [--batch 500] [--nll [K]] [--json] [--backend cpu] [--threads N]

Evaluates a checkpoint on the test set: test_loss (the negative ELBO, recon + beta * kl, with one posterior sample
per image, as PyTorch's recipe computes it), recon and kl in nats per image, plus the latent variance (of the
posterior means, averaged over dimensions), active units (variance > 0.01) and the mean absolute correlation between
latent dimensions.

  --nll [K]          also estimate -log p(x) by importance sampling (the IWAE bound, Burda et al. 2016): K samples
                     z ~ q(z|x) per image (default 1000, fixed noise stream), nll = -(logsumexp log w - log K) with
                     log w = log p(x|z) + log p(z) - log q(z|x), in nats per image. It is an upper bound on the true
                     -log p(x) in expectation that tightens as K grows; K = 1 is the one-sample negative ELBO (beta 1).
                     Adds nll, nll_k, neg_elbo_k (mean -log w over the same samples), nll_likelihood and nll_seconds.
                     BCE models use the Bernoulli likelihood; MSE models the Gaussian of variance 1/2 whose negative
                     log-density is the squared error plus (pixels / 2) log(pi), a continuous density.
  --batch N          images per batch, and samples decoded at once for --nll (memory grows with it)

A conditional checkpoint (train --model cvae) also gets the class consistency of its samples (classifier-free): each
test class is summarised by its mean image and an image is assigned to the nearest mean (Euclidean, pixel space);
class_consistency_samples is that rule's accuracy on 100 samples drawn per class (the intended class as the label),
class_consistency_real its accuracy on the real test images. --nll then estimates -log p(x | y), given the labels.
A vqvae checkpoint also reports its codes on the test set: perplexity exp(H(average code usage)), codes used, dead-code
restarts during training, the quantization error (sum over positions of ||z_e - e||^2), and two upper bounds on
-log p(x): recon + P ln K under the uniform prior (its test_loss) and recon + sum of -log prior(code) under the prior
over codes fitted on the training set (independent per position), in nats per image.
""" + "\n" + CommonOptions.DataHelp + CommonOptions.BackendHelp + "\n" + TextCommands.EvalHelp;

    public static int Run(CliArgs cli)
    {
        if (cli.Flag("help")) { Console.WriteLine(Help); return 0; }
        string path = CommonOptions.CheckpointPath(cli);
        if (Checkpoints.TextCheckpoint.IsTextModel(path)) return TextCommands.Eval(cli, path);
        string dataDir = CommonOptions.DataDirectory(cli);
        int batch = cli.Int("batch", 500, 1, 65536);
        bool json = cli.Flag("json");
        int? nllSamples = NllSamples(cli);
        using var backend = CommonOptions.Backend(cli);
        cli.RejectUnknown();

        var (checkpoint, model) = CommonOptions.LoadModel(backend, path, batch);
        using (model)
        {
            var test = ImageDatasets.Load(dataDir, train: false);
            CommonOptions.CheckImageSize(test, model);
            using var testSet = CommonOptions.Upload(backend, test, model);
            var r = Evaluation.Run(model, testSet, null);
            var codeStats = (model as VqVaeModel)?.Statistics(testSet);
            ImportanceSamplingResult? nll = null;
            double nllSeconds = 0;
            if (nllSamples is int k)
            {
                var clock = Stopwatch.StartNew();
                if (model is not IImportanceSampled sampled)
                    throw new InvalidDataException($"{path}: the importance-sampled likelihood (--nll) is not defined for a '{checkpoint.Config.Kind}' model.");
                using var weights = sampled.CreateImportanceWeights();
                nll = ImportanceSampling.Run(weights, testSet, k);
                nllSeconds = clock.Elapsed.TotalSeconds;
            }
            var consistency = model.Classes > 0 ? ClassConsistency.Measure(model, test, ConsistencySamplesPerClass, ConsistencySeed) : null;
            var inv = CultureInfo.InvariantCulture;
            if (json)
            {
                string nllJson = nll is null ? "" : string.Create(inv,
                    $"\"nll\":{nll.Nll:R},\"nll_k\":{nll.SamplesPerImage},\"neg_elbo_k\":{nll.NegativeElbo:R},\"nll_likelihood\":\"{nll.Likelihood}\",\"nll_seconds\":{nllSeconds:F3},");
                Console.WriteLine(string.Create(inv,
                    $"{{\"test_loss\":{r.Loss:R},\"recon\":{r.Recon:R},\"kl\":{r.Kl:R},\"images\":{r.Images},\"latent_variance\":{r.LatentVariance:R}," +
                    $"\"active_units\":{r.ActiveUnits},\"mean_abs_latent_correlation\":{r.MeanAbsLatentCorrelation:R},{nllJson}{GroupsJson(r)}{ConsistencyJson(consistency)}{CodesJson(codeStats)}" +
                    $"\"model\":\"{checkpoint.Config.Kind}\",\"epoch\":{checkpoint.State.Epoch}}}"));
            }
            else
            {
                Console.WriteLine(string.Create(inv, $"{path}: {checkpoint.Config.Kind} {checkpoint.Config}, epoch {checkpoint.State.Epoch}, {r.Images} test images of {test.Name}"));
                Console.WriteLine(string.Create(inv, $"  test_loss {r.Loss:F3} nats/image  (recon {r.Recon:F3}, kl {r.Kl:F3})"));
                if (model.LatentGroups.Count > 0)   // a VQ-VAE has no Gaussian latents to describe
                    Console.WriteLine(string.Create(inv, $"  latent variance {r.LatentVariance:F4}, active units {r.ActiveUnits}/{model.LatentGroups.Sum(g => g.Width)}, mean |corr| {r.MeanAbsLatentCorrelation:F4}"));
                if (r.Groups.Count > 1)
                    foreach (var g in r.Groups)
                        Console.WriteLine(string.Create(inv, $"  {g.Name}: kl {g.Kl:F3} nats/image, active units {g.ActiveUnits}/{g.Width}, latent variance {g.LatentVariance:F4}"));
                if (codeStats is { } c)
                    Console.WriteLine(string.Create(inv,
                        $"  codes: perplexity {c.Perplexity:F2}, {c.CodesUsed}/{c.Codes} used, {c.Restarts} restarts in training, quantization error {c.QuantizationError:F3}; " +
                        $"-log p(x) <= {c.UniformBound:F3} (uniform prior, {c.UniformPriorNats:F3} nats of codes), <= {c.PriorBound:F3} (prior fitted on the training set, {c.PriorNats:F3} nats)"));
                if (nll is not null)
                    Console.WriteLine(string.Create(inv,
                        $"  nll {nll.Nll:F3} nats/image  (IWAE, K = {nll.SamplesPerImage} samples per image, {nll.Likelihood} likelihood; -ELBO over the same samples {nll.NegativeElbo:F3}; {nllSeconds:F1} s)"));
                if (consistency is not null)
                    Console.WriteLine(string.Create(inv,
                        $"  class consistency (nearest class mean): samples {consistency.Samples:F4} ({consistency.SamplesPerClass} per class), real test images {consistency.Real:F4}"));
            }
        }
        return 0;
    }

    /// <summary>"groups":[{"name":"z1","width":..,"kl":..,"latent_variance":..,"active_units":..},...], for models with more than one latent group.</summary>
    static string GroupsJson(EvaluationResult r)
    {
        if (r.Groups.Count < 2) return "";
        var parts = r.Groups.Select(g => string.Create(CultureInfo.InvariantCulture,
            $"{{\"name\":\"{g.Name}\",\"width\":{g.Width},\"kl\":{g.Kl:R},\"latent_variance\":{g.LatentVariance:R},\"active_units\":{g.ActiveUnits}}}"));
        return "\"groups\":[" + string.Join(",", parts) + "],";
    }

    const int ConsistencySamplesPerClass = 100;
    const ulong ConsistencySeed = 1;

    /// <summary>"class_consistency_samples":..,"class_consistency_real":.., for conditional models.</summary>
    static string ConsistencyJson(ClassConsistencyResult? c) => c is null ? "" : string.Create(CultureInfo.InvariantCulture,
        $"\"class_consistency_samples\":{c.Samples:R},\"class_consistency_real\":{c.Real:R},\"class_consistency_samples_per_class\":{c.SamplesPerClass},");

    /// <summary>A VQ-VAE's code statistics: "perplexity":..,"codes_used":..,"codes":..,"restarts":..,"quantization_error":..,"prior_nats":..,"nll_bound_uniform":..,"nll_bound_prior":.., (empty for other models).</summary>
    static string CodesJson(VqCodeStatistics? c) => c is null ? "" : string.Create(CultureInfo.InvariantCulture,
        $"\"perplexity\":{c.Perplexity:R},\"codes_used\":{c.CodesUsed},\"codes\":{c.Codes},\"restarts\":{c.Restarts},\"quantization_error\":{c.QuantizationError:R}," +
        $"\"prior_nats\":{c.PriorNats:R},\"nll_bound_uniform\":{c.UniformBound:R},\"nll_bound_prior\":{c.PriorBound:R},");

    /// <summary>--nll K, or --nll alone for the default K; null without --nll.</summary>
    static int? NllSamples(CliArgs cli)
    {
        if (!cli.Has("nll")) return null;
        // CliArgs.Flag accepts exactly the bare form (and throws when a value follows); the valued form goes to Int.
        try { cli.Flag("nll"); return ImportanceSampling.DefaultSamples; }
        catch (UsageException) { return cli.Int("nll", ImportanceSampling.DefaultSamples, 1, 1_000_000); }
    }
}
