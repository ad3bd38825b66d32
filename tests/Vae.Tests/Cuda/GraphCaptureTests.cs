// CUDA graph capture, on the interpreted device (which records and replays exactly what stream capture would): a
// replay runs the recorded kernels on the device memory of that moment, a captured training step gives bit-identical
// results to eager steps over several epochs (step count and noise offset are read from device memory), and calls
// that cannot be captured (host copies) fail the capture without breaking the backend.
using Vae.Cuda;
using Vae.Models;
using Vae.Tests.Support;
using Vae.Training;
using Xunit;

namespace Vae.Tests.Cuda;

public sealed class GraphCaptureTests
{
    [Fact]
    public void A_replay_reads_the_device_memory_of_the_moment()
    {
        var device = new InterpretedCudaDevice();
        using var backend = new CudaBackend(device);
        using var buffer = backend.Allocate(4 * sizeof(float));
        var x = buffer.AsSpan<float>();
        backend.Upload<float>([1, 2, 3, 4], x);
        using var graph = backend.Capture(() => backend.Scale(x, 2f));
        var got = new float[4];
        backend.Download(x, got);
        Assert.Equal([1f, 2, 3, 4], got);            // capturing runs nothing
        graph.Replay();
        backend.Download(x, got);
        Assert.Equal([2f, 4, 6, 8], got);
        backend.Upload<float>([-1, 0, 0.5f, 10], x);
        graph.Replay();
        backend.Download(x, got);
        Assert.Equal([-2f, 0, 1, 20], got);
        Assert.Equal(2, device.GraphReplays);
    }

    [Fact]
    public void A_host_copy_inside_a_capture_fails_it_and_the_backend_keeps_working()
    {
        using var backend = new CudaBackend(new InterpretedCudaDevice());
        using var buffer = backend.Allocate(2 * sizeof(float));
        var x = buffer.AsSpan<float>();
        var host = new float[2];
        var e = Assert.Throws<InvalidOperationException>(() => backend.Capture(() => { backend.Fill(x, 1f); backend.Download(x, host); }));
        Assert.Contains("graph capture", e.Message);
        backend.Fill(x, 3f);
        backend.Download(x, host);
        Assert.Equal([3f, 3f], host);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.5f)]   // gradient clipping inside the captured step too
    public void Captured_training_steps_equal_eager_steps_bit_for_bit(float clip)
    {
        var config = new VaeConfig(12, [7], 3, ReconstructionLoss.Bce, 1f);
        var images = SyntheticImages.Uniform(5, 23, 12);   // 23 images, batch 8: two full batches and a partial one per epoch
        float[] Train(bool graphs, out int replays, out long steps, out ulong noise)
        {
            var device = new InterpretedCudaDevice();
            var options = new TrainingOptions { Epochs = 3, BatchSize = 8, Seed = 9, ClipNorm = clip, UseGraphs = graphs };
            var state = new TrainingState();
            using var setup = new TrainingSetup(new CudaBackend(device), config, options, state, images, null);
            Assert.Equal(graphs, setup.Trainer.UsesGraphs);
            setup.Trainer.Run(null);
            var p = new float[setup.Model.Parameters.Layout.TotalLength];
            setup.Backend.Download<float>(setup.Model.Parameters.Parameters, p);
            replays = device.GraphReplays;
            steps = state.Step;
            noise = state.RngOffset;
            return p;
        }
        var eager = Train(false, out int eagerReplays, out long eagerSteps, out ulong eagerNoise);
        var replayed = Train(true, out int replays, out long steps, out ulong noise);
        Assert.Equal(0, eagerReplays);
        Assert.Equal(8, replays);                        // 9 steps: the first eager, then replays (two graphs: rows 8 and 7)
        Assert.Equal((eagerSteps, eagerNoise), (steps, noise));
        Tolerance.AssertBitwiseEqual("parameters after 3 epochs", replayed, eager);
    }
}
