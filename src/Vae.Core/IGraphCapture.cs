// Optional backend capability: record a sequence of calls once and replay it with one launch (CUDA graphs). A
// training step is launch-bound on a GPU (dozens of small kernels), so the trainer captures it after a warm-up step
// and replays it; values that change between steps (Adam's step count, the noise offset, the batch) live in device
// memory, which the captured calls read when they run.
namespace Vae;

public interface IGraphCapture
{
    /// <summary>
    /// Records the backend calls <paramref name="work"/> makes, WITHOUT running them, and returns a graph that runs
    /// them each time it is replayed. Inside <paramref name="work"/> only device-side calls are allowed: no Upload,
    /// Download, Synchronize or Allocate (they throw, and the capture is abandoned).
    /// </summary>
    ICapturedGraph Capture(Action work);
}

/// <summary>A recorded sequence of backend calls.</summary>
public interface ICapturedGraph : IDisposable
{
    /// <summary>Runs the recorded calls once, asynchronously like any other call.</summary>
    void Replay();
}
