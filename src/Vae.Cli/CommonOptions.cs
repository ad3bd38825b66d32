// Options shared by the commands: the backend, the dataset folder, and a model restored from a checkpoint.
using Vae.Checkpoints;
using Vae.Data;
using Vae.Models;

namespace Vae.Cli;

public static class CommonOptions
{
    public const string BackendHelp = "  --backend NAME     cpu (default), reference, or cuda (GPU 0; vae info lists what this machine has)\n  --threads N        CPU worker threads (default: all cores)\n";
    public const string DataHelp = "  --data DIR         folder with the four IDX files (default /usr/share/datasets/fashion-mnist; MNIST works too)\n";

    public static IComputeBackend Backend(CliArgs cli)
    {
        string name = cli.String("backend") ?? "cpu";
        int? threads = cli.Has("threads") ? cli.Int("threads", 1, 1, 4096) : null;
        return BackendFactory.Create(name, threads);
    }

    public static string DataDirectory(CliArgs cli) => cli.String("data") ?? ImageDatasets.DefaultDirectory;

    public static string CheckpointPath(CliArgs cli) =>
        cli.String("checkpoint") ?? throw new UsageException("--checkpoint FILE is required (a .safetensors file written by 'vae train', e.g. runs/vae/vae.safetensors).");

    /// <summary>Reads a checkpoint and builds its model (of whatever kind) on <paramref name="backend"/> with the weights loaded.</summary>
    public static (Checkpoint Checkpoint, ITrainableModel Model) LoadModel(IComputeBackend backend, string path, int capacity)
    {
        var checkpoint = Checkpoint.Read(path);
        var model = checkpoint.Config.Create(backend, capacity);
        try { checkpoint.LoadInto(model, withOptimizerState: false); }
        catch { model.Dispose(); throw; }
        return (checkpoint, model);
    }

    /// <summary>As <see cref="LoadModel"/> for commands that work on the plain (beta-)VAE only: another kind is a clear error.</summary>
    public static (Checkpoint Checkpoint, VaeModel Model) LoadVae(IComputeBackend backend, string path, int capacity, string command)
    {
        var (checkpoint, model) = LoadModel(backend, path, capacity);
        if (model is VaeModel vae) return (checkpoint, vae);
        model.Dispose();
        throw new InvalidDataException($"{path}: holds a '{checkpoint.Config.Kind}' model; 'vae {command}' works on plain VAE checkpoints (train --model vae).");
    }

    public static void CheckImageSize(ImageDataset data, ITrainableModel model)
    {
        if (data.Pixels != model.Config.Input)
            throw new InvalidDataException($"{data.Name}: images have {data.Height}x{data.Width} = {data.Pixels} pixels but the model takes {model.Config.Input}; use the dataset it was trained on.");
        if (model.Classes > 0 && data.Classes > model.Classes)
            throw new InvalidDataException($"{data.Name}: labels go up to {data.Classes - 1} but the model is conditioned on {model.Classes} classes; use the dataset it was trained on.");
    }

    /// <summary>The dataset on the backend, with its labels as one-hot rows when the model is conditional.</summary>
    public static Vae.Training.DeviceDataset Upload(IComputeBackend backend, ImageDataset data, ITrainableModel model) =>
        new(backend, data.Images, data.Count, data.Pixels, data.Labels, model.Classes);
}
