// `vae train`: trains a model of the VAE family (--model vae|cvae|hvae|vqvae) on an IDX image set (Fashion-MNIST by
// default), checkpointing after every epoch into the output folder together with pictures, loss curves and the
// history. --resume continues a run bit-exactly.
using System.Globalization;
using Vae.Checkpoints;
using Vae.Data;
using Vae.Models;
using Vae.Training;

namespace Vae.Cli.Commands;

public static class TrainCommand
{
    public const string Help = """
usage: vae train [--model vae|cvae|hvae|vqvae|text] [model flags] [--data DIR] [--epochs 10] [--batch 128]
                 [--lr 1e-3] [--weight-decay 0] [--clip 0] [--seed 1]
                 [--out runs/MODEL] [--resume] [--force] [--backend cpu] [--threads N] [--no-graph]
                 [--kl-warmup EPOCHS | --kl-cycle EPOCHS [--kl-ramp 0.5] | --kl-capacity NATS [--kl-capacity-epochs E]]
                 [--free-bits NATS]

Trains a model of the VAE family (default: the seed VAE 784-400-400-20, BCE + KL, Adam 1e-3, batch 128, 10 epochs)
and writes into the output folder (default runs/MODEL/, e.g. runs/vae/): vae.safetensors (weights, Adam state,
counters; rewritten atomically after every epoch), samples.png, reconstructions.png, interpolations.png, loss.svg and
history.csv.

The text VAE (--model text) trains on sentences instead: see 'vae train --model text --help'.

models (--model, default vae) and their flags with their defaults; a run keeps them, so --resume refuses them:
  vae                the VAE and beta-VAE: [--hidden 400,400] [--latent 20] [--beta 1] [--recon bce] [--iwae 1]
  cvae               the conditional VAE (Sohn et al. 2015): the one-hot class label joins the encoder's and the
                     decoder's inputs; the data must carry labels. [--hidden 400,400] [--latent 20] [--beta 1]
                     [--recon bce]
  hvae               the hierarchical VAE with two stochastic layers (Burda et al. 2016): x -> --hidden -> z1
                     (--latent) -> --hidden2 -> z2 (--latent2); p(z1|z2) through --hidden2 reversed, p(x|z1) through
                     --hidden reversed. [--hidden 400,400] [--latent 32] [--hidden2 100,100] [--latent2 16] [--beta 1]
                     [--recon bce]
  vqvae              the VQ-VAE (van den Oord et al. 2017): the encoder's output is a grid of --positions vectors of
                     --code-dim values, each replaced by its nearest of --codes codebook vectors. [--hidden 400,400]
                     [--positions 16] [--code-dim 16] [--codes 128] [--commitment 0.25] [--ema | --no-ema]
                     [--ema-decay 0.99] [--restart-threshold 0.01] [--recon bce]; no --beta and no --weight-decay
                     (its "KL" is the constant --positions x ln(--codes) nats, so the KL flags below change nothing)

  --hidden H1,H2     hidden layer sizes of the encoder, input side first; the decoder mirrors them
  --latent L         latent dimensions (hvae: of z1)
  --beta B           the weight of the KL term (beta-VAE; 1 = the ELBO)
  --recon bce|mse    the reconstruction term: BCE from the logits (Bernoulli), or squared error of sigmoid(logits)
  --iwae K           vae: train the IWAE bound (Burda et al. 2016) instead of the ELBO: K posterior samples per
                     image, objective log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x), its gradient weighted by the normalized
                     weights (1 = the ELBO, at most 64; a step costs about K times the decoder's work). The loss shown
                     is recon + kl averaged over the K samples (the K-sample -ELBO); each epoch also prints the IWAE-K
                     bound on the training batches and on the test set. --beta and --kl-warmup/--kl-cycle weight
                     log p(z) - log q(z|x) inside each log-weight; --free-bits and --kl-capacity act on a KL term this
                     objective does not have, so they are refused
  --hidden2 G1,G2    hvae: hidden sizes of q(z2|z1), z1 side first; p(z1|z2) uses them reversed
  --latent2 L2       hvae: dimensions of the top layer z2
  --positions P      vqvae: latent vectors per image
  --code-dim D       vqvae: values per latent vector and per codebook vector
  --codes K          vqvae: codebook vectors
  --commitment W     vqvae: the weight of the commitment loss ||z_e - sg(e)||^2
  --ema, --no-ema    vqvae: update the codebook by exponential moving averages (the default), or train it by the
                     codebook loss ||sg(z_e) - e||^2
  --ema-decay G      vqvae: the decay of the moving averages
  --restart-threshold T
                     vqvae: after each epoch, codes chosen fewer than T times the average are restarted from encoder
                     outputs of a random training batch (0 = never); then the prior over codes (per position) is
                     refitted on the training set, for `vae sample` and the eval bound

  --epochs N         total epochs of the run; with --resume the run continues until N epochs are done
  --resume           continue the checkpoint in the output folder with its own settings (bit-exact continuation)
  --force            start over even if the output folder already holds a checkpoint (it is replaced)
  --clip X           clip gradients to global L2 norm X (0 = off)
  --kl-warmup E      KL annealing: the KL weight rises linearly from ~0 to beta over the first E epochs
  --kl-cycle E       cyclical KL annealing: cycles of E epochs, the weight rising over the first --kl-ramp of each
  --kl-capacity C    capacity annealing (Burgess et al.): the KL term is beta |KL - C_t|, C_t rising from 0 to C nats
                     over --kl-capacity-epochs (default: all epochs); use a large beta, e.g. --beta 100
  --free-bits L      free bits (Kingma et al. 2016): a KL floor of L nats per latent dimension; the KL term becomes
                     sum_j max(L, KL_j), KL_j the batch-mean KL of latent j, so no latent is pushed below L nats
                     (hvae: every dimension of both layers; 0 = off; combines with --beta, --kl-warmup and --kl-cycle,
                     not with --kl-capacity)
  --no-graph         on --backend cuda, launch every kernel of every step instead of replaying a captured CUDA graph
""" + "\n" + CommonOptions.DataHelp + CommonOptions.BackendHelp;

    static readonly string[] SettingsFlags = ["batch", "lr", "weight-decay", "clip", "seed", "kl-warmup", "kl-cycle", "kl-ramp", "kl-capacity", "kl-capacity-epochs", "free-bits", .. ModelOptions.Flags];

    public static int Run(CliArgs cli)
    {
        if (cli.String("model") == Models.Text.TextVaeConfig.KindName) return TextCommands.Train(cli);
        if (cli.Flag("help")) { Console.WriteLine(Help); return 0; }
        string kind = cli.String("model") ?? "vae";
        if (!ModelConfigs.Kinds.Contains(kind)) throw new UsageException($"--model {kind}: unknown model; this build has {string.Join(", ", ModelConfigs.Kinds)} and text.");
        string outDir = cli.String("out") ?? Path.Combine("runs", kind);
        bool resume = cli.Flag("resume"), force = cli.Flag("force");
        bool noGraph = cli.Flag("no-graph");
        float klWarmupEpochs = cli.Float("kl-warmup", 0f, 0f, 1e6f);
        float klCycleEpochs = cli.Float("kl-cycle", 0f, 0f, 1e6f);
        float klRamp = cli.Float("kl-ramp", 0.5f, 1e-6f, 1f);
        float klCapacity = cli.Float("kl-capacity", 0f, 0f, 1e6f);
        float klCapacityEpochs = cli.Float("kl-capacity-epochs", 0f, 0f, 1e6f);
        float freeBits = cli.Float("free-bits", 0f, 0f, 1e6f);
        if ((klWarmupEpochs > 0 ? 1 : 0) + (klCycleEpochs > 0 ? 1 : 0) + (cli.Has("kl-capacity") ? 1 : 0) > 1)
            throw new UsageException("--kl-warmup, --kl-cycle and --kl-capacity are different schedules: give one.");
        if (cli.Has("kl-capacity-epochs") && !cli.Has("kl-capacity")) throw new UsageException("--kl-capacity-epochs is the ramp of --kl-capacity: give --kl-capacity too.");
        if (cli.Has("kl-ramp") && !(klCycleEpochs > 0)) throw new UsageException("--kl-ramp shapes the cycles of --kl-cycle: give --kl-cycle too.");
        if (freeBits > 0 && cli.Has("kl-capacity"))
            throw new UsageException("--free-bits and --kl-capacity both set a target for the KL: give one.");
        int epochs = cli.Int("epochs", 10, 1, 100_000);
        string checkpointPath = Path.Combine(outDir, RunFiles.CheckpointName);
        if (resume && force) throw new UsageException("--resume and --force contradict each other.");

        IModelConfig config;
        TrainingOptions options;
        TrainingState state;
        Checkpoint? checkpoint = null;
        if (resume)
        {
            foreach (var flag in SettingsFlags)
                if (cli.Has(flag)) throw new UsageException($"--{flag} cannot be combined with --resume: a resumed run keeps the checkpoint's settings (only --epochs may change).");
            checkpoint = Checkpoint.Read(checkpointPath);
            if (checkpoint.Options is null || !checkpoint.HasOptimizerState)
                throw new InvalidDataException($"{checkpointPath}: holds weights only (no optimizer state), so it cannot be resumed; train without --resume into another --out folder.");
            config = checkpoint.Config;
            if (cli.Has("model") && kind != config.Kind)
                throw new UsageException($"--model {kind}: the checkpoint in {outDir} holds a '{config.Kind}' model; a resumed run keeps its model.");
            options = checkpoint.Options with { Epochs = epochs };
            state = checkpoint.State;
        }
        else
        {
            config = ModelOptions.FromCli(kind, cli, 784, 10);
            if (ImportanceSamples(config) > 1 && freeBits > 0)
                throw new UsageException("--free-bits floors each latent dimension's batch-mean KL, a term the IWAE objective (--iwae) does not have (its KL is inside the log-weights): give one.");
            if (ImportanceSamples(config) > 1 && cli.Has("kl-capacity"))
                throw new UsageException("--kl-capacity trains beta |KL - C| on the batch-mean KL, a term the IWAE objective (--iwae) does not have (its KL is inside the log-weights): give one.");
            options = new TrainingOptions
            {
                Epochs = epochs,
                BatchSize = cli.Int("batch", 128, 1, 65536),
                Adam = new AdamSettings(cli.Float("lr", 1e-3f, 0f, 10f), WeightDecay: cli.Float("weight-decay", 0f, 0f, 10f)),
                ClipNorm = cli.Float("clip", 0f, 0f, 1e9f),
                Seed = (ulong)cli.Int("seed", 1, 0, int.MaxValue),
                FreeBits = freeBits,
            };
            state = new TrainingState();
            if (File.Exists(checkpointPath) && !force)
                throw new UsageException($"{checkpointPath} already exists. Pass --resume to continue that run, --force to replace it, or --out another folder.");
        }
        options = options with { UseGraphs = !noGraph };
        string dataDir = CommonOptions.DataDirectory(cli);
        using var backend = CommonOptions.Backend(cli);
        cli.RejectUnknown();

        var train = ImageDatasets.Load(dataDir, train: true);
        var test = ImageDatasets.Load(dataDir, train: false);
        if (!resume) config = ModelOptions.FromCli(kind, cli, train.Pixels, train.Classes);   // the data's shape (flags were checked above)
        if (train.Pixels != config.Input)
            throw new InvalidDataException($"{dataDir}: images have {train.Pixels} pixels but the checkpoint's model takes {config.Input}.");
        if (test.Pixels != train.Pixels) throw new InvalidDataException($"{dataDir}: training images have {train.Pixels} pixels but test images {test.Pixels}.");

        if (!resume && (klWarmupEpochs > 0 || klCycleEpochs > 0 || cli.Has("kl-capacity")))
        {
            // Epochs to steps with this training set's batches per epoch (the checkpoint records steps).
            long stepsPerEpoch = (train.Count + options.BatchSize - 1) / options.BatchSize;
            long Steps(float epochs) => Math.Max(1, (long)Math.Round(epochs * stepsPerEpoch));
            options = options with
            {
                KlSchedule = klWarmupEpochs > 0 ? KlSchedule.Linear(Steps(klWarmupEpochs))
                    : klCycleEpochs > 0 ? KlSchedule.Cyclical(Steps(klCycleEpochs), klRamp)
                    : KlSchedule.Capacity(klCapacity, Steps(klCapacityEpochs > 0 ? klCapacityEpochs : options.Epochs)),
            };
        }

        int importanceSamples = ImportanceSamples(config);
        using var vae = config.Create(backend, options.BatchSize);
        if (checkpoint is not null) checkpoint.LoadInto(vae, withOptimizerState: true);
        else vae.InitializeParameters(options.Seed);
        CommonOptions.CheckImageSize(test, vae);
        using var trainSet = CommonOptions.Upload(backend, train, vae);
        using var testSet = CommonOptions.Upload(backend, test, vae);
        using var trainer = new Trainer(vae, trainSet, testSet, options, state);

        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"training {config.Kind} {config} ({vae.ParameterCount:N0} parameters) on {train.Name}: {train.Count} train / {test.Count} test images"));
        Console.WriteLine(string.Create(inv, $"backend {backend.Name}, batch {options.BatchSize}, Adam lr {options.Adam.LearningRate}, seed {options.Seed}, {options.Epochs} epochs -> {Path.GetFullPath(outDir)}"));
        if (options.KlSchedule.VariesPerStep) Console.WriteLine($"KL weight schedule: {options.KlSchedule} (times beta {config.Beta})");
        if (options.FreeBits > 0) Console.WriteLine(string.Create(inv, $"free bits: a KL floor of {options.FreeBits} nats per latent dimension"));
        if (importanceSamples > 1) Console.WriteLine(string.Create(inv, $"objective: the IWAE bound with K = {importanceSamples} importance samples per image (Burda et al. 2016)"));
        if (resume) Console.WriteLine(string.Create(inv, $"resuming after epoch {state.Epoch} (step {state.Step})"));
        if (state.Epoch >= options.Epochs) Console.WriteLine($"the checkpoint already has {state.Epoch} epochs; nothing to train (raise --epochs to continue).");

        Directory.CreateDirectory(outDir);
        List<string>? written = null;
        var progress = new ProgressBar();
        var iwaeProgress = vae is VaeModel { ImportanceSamples: > 1 } iwaeModel ? new IwaeProgress(progress, iwaeModel, testSet) : null;
        try
        {
            trainer.Run(iwaeProgress ?? (ITrainingObserver)progress, record =>
            {
                Checkpoint.Save(checkpointPath, vae, options, state);
                written = RunFiles.WritePictures(outDir, vae, test, state.History, options.Seed);
            });
        }
        catch (TrainingDivergedException e)
        {
            Console.Error.WriteLine($"vae: {e.Message}");
            Console.Error.WriteLine(File.Exists(checkpointPath)
                ? $"vae: the last good checkpoint is kept unchanged: {checkpointPath} (epoch {Checkpoint.Read(checkpointPath).State.Epoch})."
                : "vae: no checkpoint was written (the run diverged in its first epoch).");
            return 1;
        }

        written ??= RunFiles.WritePictures(outDir, vae, test, state.History, options.Seed);   // nothing trained: redraw
        var final = trainer.LastEvaluation ?? Evaluation.Run(vae, testSet, null);
        Console.WriteLine(string.Create(inv,
            $"test: loss {final.Loss:F2} nats/image (recon {final.Recon:F2}, kl {final.Kl:F2}), latent variance {final.LatentVariance:F3}, active units {final.ActiveUnits}/{vae.LatentGroups.Sum(g => g.Width)}, mean |corr| {final.MeanAbsLatentCorrelation:F3}"));
        if (iwaeProgress is not null)
            Console.WriteLine(string.Create(inv, $"test: IWAE bound (K = {importanceSamples}) {iwaeProgress.LastTestBound ?? iwaeProgress.TestBound():F2} nats/image"));
        Console.WriteLine($"checkpoint: {checkpointPath}");
        foreach (var path in written) Console.WriteLine($"wrote {path}");
        return 0;
    }

    /// <summary>K of a plain VAE trained on the IWAE bound; 1 for the ELBO and for every other model.</summary>
    static int ImportanceSamples(IModelConfig config) => config is VaeConfig vaeConfig ? vaeConfig.ImportanceSamples : 1;

    /// <summary>
    /// The progress display plus, for a model trained on the IWAE bound, each epoch's bound in nats per image: the mean
    /// over the epoch's training batches (read from the model after each step, with the noise it trained on) and on the
    /// test set (ImportanceSampling with the model's K and its fixed noise stream, the estimate `vae eval --nll K` gives).
    /// </summary>
    sealed class IwaeProgress(ITrainingObserver display, VaeModel model, DeviceDataset test) : ITrainingObserver
    {
        readonly float[] batchBound = new float[1];
        double trainSum;
        long trainImages;

        /// <summary>The test-set bound after the last epoch (null before the first).</summary>
        public double? LastTestBound { get; private set; }

        public void OnBatch(in BatchProgress progress)
        {
            if (progress.Batch == 1) trainSum = 0;
            model.Backend.Download<float>(model.IwaeBoundTotal, batchBound);
            trainSum += batchBound[0];
            trainImages = progress.Images;
            display.OnBatch(progress);
        }

        public void OnEpoch(EpochRecord record)
        {
            display.OnEpoch(record);
            LastTestBound = TestBound();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {record.Epoch,3}  iwae-{model.ImportanceSamples} bound  train {trainSum / Math.Max(trainImages, 1):F2}  test {LastTestBound:F2} nats/image"));
        }

        public double TestBound()
        {
            using var weights = model.CreateImportanceWeights();
            return ImportanceSampling.Run(weights, test, model.ImportanceSamples).Nll;
        }
    }
}
