// BenchmarkDotNet: one whole training step of the seed VAE (784-400-400-20, batch 128: gather, noise, forward, BCE +
// KL, backward, Adam, and the loss download, which synchronizes) on each backend this machine has, in one table:
// cpu (every core), and with a GPU cuda (a replayed CUDA graph) and cuda-no-graph (eager launches). The baseline,
// measured in the same run beside each, is the CPU backend on one thread.
// One step per invocation; [MemoryDiagnoser] shows the 0 bytes allocated. `vae bench train` prints the same step
// time with GFLOP/s against the measured FMA peak; benchmarks/pytorch/compare.sh puts PyTorch beside it.
// Run: dotnet run -c Release --project benchmarks/Vae.Benchmarks -- --filter '*TrainingStep*'
using BenchmarkDotNet.Attributes;
using Vae.Cpu;
using Vae.Cuda;
using Vae.Cuda.Device;
using Vae.Models;
using Vae.Training;

namespace Vae.Benchmarks;

[MemoryDiagnoser]
public class TrainingStepBenchmarks
{
    const int Batch = 128, Images = 2048;

    /// <summary>A backend with its model, data and trainer.</summary>
    sealed class Setup : IDisposable
    {
        readonly IComputeBackend backend;
        readonly VaeModel model;
        readonly DeviceDataset data;
        readonly Trainer trainer;
        readonly int[] order = new int[Images];
        int position;

        public Setup(string backendName)
        {
            backend = backendName switch
            {
                "cpu-1" => new CpuBackend(1),
                "cpu" => new CpuBackend(),
                _ => CudaBackend.Open(),
            };
            var config = VaeConfig.Default;
            model = new VaeModel(backend, config, Batch);
            model.InitializeParameters(1);
            var random = new System.Random(3);
            var pixels = new float[Images * config.Input];
            for (int i = 0; i < pixels.Length; i++) pixels[i] = random.NextSingle() < 0.5f ? 0f : random.NextSingle();
            data = new DeviceDataset(backend, pixels, Images, config.Input);
            trainer = new Trainer(model, data, null, new TrainingOptions { BatchSize = Batch, UseGraphs = backendName != "cuda-no-graph" }, new TrainingState());
            Shuffle.Permutation(order, 1, 1);
        }

        public void Step()
        {
            if (position + Batch > Images) position = 0;
            trainer.LoadBatch(data, order.AsSpan(position, Batch));
            trainer.TrainStep(Batch);
            position += Batch;
        }

        public void Dispose()
        {
            trainer.Dispose();
            data.Dispose();
            model.Dispose();
            backend.Dispose();
        }
    }

    /// <summary>The backends this machine can run: cpu always, cuda and cuda-no-graph when it has a GPU.</summary>
    public static IEnumerable<string> Backends()
    {
        yield return "cpu";
        if (CudaDriverDevice.DeviceCount(out _) > 0)
        {
            yield return "cuda";
            yield return "cuda-no-graph";
        }
    }

    [ParamsSource(nameof(Backends))]
    public string Backend { get; set; } = "cpu";

    Setup baseline = null!, measured = null!;

    [GlobalSetup]
    public void GlobalSetup()
    {
        baseline = new Setup("cpu-1");
        measured = new Setup(Backend);
        for (int i = 0; i < 3; i++) measured.Step();   // the first step is eager; the second captures the graph
    }

    [Benchmark(Baseline = true, Description = "cpu, one thread")]
    public void CpuOneThread() => baseline.Step();

    [Benchmark(Description = "training step")]
    public void TrainingStep() => measured.Step();

    [GlobalCleanup]
    public void Cleanup()
    {
        baseline.Dispose();
        measured.Dispose();
    }
}
