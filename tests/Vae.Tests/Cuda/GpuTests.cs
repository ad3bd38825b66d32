// Tests on a real GPU (skipped, with the reason, on machines without one, such as CI): the backend-agnostic primitive
// tests against cuBLAS and the JIT-compiled kernels, graph replay against eager launches, and the allocation-free
// training step. The same code paths run on the PTX interpreter in every CI run (InterpretedCuda* tests).
using Vae.Cuda;
using Vae.Models;
using Vae.Tests.Primitives;
using Vae.Tests.Support;
using Vae.Training;
using Xunit;

namespace Vae.Tests.Cuda;

/// <summary>The primitive property tests on GPU 0. Marked Category=Gpu: build.sh excludes them (saying so) when there is no GPU.</summary>
[Trait("Category", "Gpu")]
public sealed class CudaBackendPrimitiveTests : BackendPrimitiveTests
{
    protected override IComputeBackend CreateBackend() => CudaBackend.Open();
}

public sealed class GpuTrainingTests
{
    [GpuFact]
    public void Graph_replays_equal_eager_launches_on_the_gpu()
    {
        var config = new VaeConfig(784, [400, 400], 20);
        var images = SyntheticImages.Uniform(5, 300, 784);
        float[] Train(bool graphs)
        {
            var options = new TrainingOptions { Epochs = 2, BatchSize = 128, Seed = 9, UseGraphs = graphs };
            using var setup = new TrainingSetup(CudaBackend.Open(), config, options, new TrainingState(), images, null);
            setup.Trainer.Run(null);
            var p = new float[setup.Model.Parameters.Layout.TotalLength];
            setup.Backend.Download<float>(setup.Model.Parameters.Parameters, p);
            return p;
        }
        Tolerance.AssertBitwiseEqual("parameters after 2 epochs", Train(true), Train(false));
    }

    [GpuFact]
    public void A_graph_replayed_training_step_allocates_nothing()
    {
        var config = VaeConfig.Default;
        var options = new TrainingOptions { Epochs = 1, BatchSize = 128, Seed = 3 };
        using var run = new TrainingSetup(CudaBackend.Open(), config, options, new TrainingState(), SyntheticImages.Uniform(1, 300, config.Input), null);
        Assert.True(run.Trainer.UsesGraphs);
        var indices = Enumerable.Range(0, 128).ToArray();
        void Step()
        {
            run.Trainer.LoadBatch(run.Train, indices);
            run.Trainer.TrainStep(128);
        }
        for (int i = 0; i < 3; i++) Step();
        var m = AllocationMeter.Measure(Step, 8, run.Backend.Synchronize);
        Assert.True(m.FewestOnThread == 0, $"a replayed step allocated {m.FewestOnThread} bytes on the calling thread");
    }
}
