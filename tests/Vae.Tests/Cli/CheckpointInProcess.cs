// A trained run's checkpoint loaded in the test process on the CPU backend as `vae eval` loads it (a model of batch
// capacity 500 unless told, without the optimizer state), with the test set of a dataset folder on the backend: what
// the CLI tests compare the tool's output with.
using Vae.Checkpoints;
using Vae.Cpu;
using Vae.Data;
using Vae.Models;
using Vae.Training;

namespace Vae.Tests.Cli;

sealed class CheckpointInProcess : IDisposable
{
    public CheckpointInProcess(string checkpointPath, string dataFolder, int capacity = 500)
    {
        Checkpoint = Checkpoint.Read(checkpointPath);
        Backend = new CpuBackend();
        Model = Checkpoint.Config.Create(Backend, capacity);
        Checkpoint.LoadInto(Model, withOptimizerState: false);
        var test = ImageDatasets.Load(dataFolder, train: false);
        Test = new DeviceDataset(Backend, test.Images, test.Count, test.Pixels);
    }

    public Checkpoint Checkpoint { get; }
    public CpuBackend Backend { get; }
    public ITrainableModel Model { get; }
    /// <summary>The dataset folder's test images on <see cref="Backend"/> (without labels).</summary>
    public DeviceDataset Test { get; }

    public void Dispose()
    {
        Test.Dispose();
        Model.Dispose();
        Backend.Dispose();
    }
}
