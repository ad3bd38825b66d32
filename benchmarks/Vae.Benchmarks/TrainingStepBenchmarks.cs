// BenchmarkDotNet: one whole training step of the seed VAE (784-400-400-20, batch 128: gather, noise, forward, BCE +
// KL, backward, Adam) on the CPU backend with one thread (the baseline) and with every core.
// One step per invocation; [MemoryDiagnoser] shows the 0 bytes allocated. `vae bench train` prints the same step
// time with GFLOP/s against the measured FMA peak; benchmarks/pytorch/compare.sh puts PyTorch beside it.
// Run: dotnet run -c Release --project benchmarks/Vae.Benchmarks -- --filter '*TrainingStep*'
using BenchmarkDotNet.Attributes;
using Vae.Cpu;
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
        readonly CpuBackend backend;
        readonly VaeModel model;
        readonly DeviceDataset data;
        readonly Trainer trainer;
        readonly int[] order = new int[Images];
        int position;

        public Setup(int? threads)
        {
            backend = new CpuBackend(threads);
            var config = VaeConfig.Default;
            model = new VaeModel(backend, config, Batch);
            model.InitializeParameters(1);
            var random = new System.Random(3);
            var pixels = new float[Images * config.Input];
            for (int i = 0; i < pixels.Length; i++) pixels[i] = random.NextSingle() < 0.5f ? 0f : random.NextSingle();
            data = new DeviceDataset(backend, pixels, Images, config.Input);
            trainer = new Trainer(model, data, null, new TrainingOptions { BatchSize = Batch }, new TrainingState());
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

    Setup oneThread = null!, allCores = null!;

    [GlobalSetup]
    public void GlobalSetup()
    {
        oneThread = new Setup(1);
        allCores = new Setup(null);
    }

    [Benchmark(Baseline = true)]
    public void OneThread() => oneThread.Step();

    [Benchmark]
    public void AllCores() => allCores.Step();

    [GlobalCleanup]
    public void Cleanup()
    {
        oneThread.Dispose();
        allCores.Dispose();
    }
}
