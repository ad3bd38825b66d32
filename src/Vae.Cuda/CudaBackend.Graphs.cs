// CUDA graphs for the CUDA backend: Capture records a sequence of launches (kernels, memsets, device copies, cuBLAS
// GEMMs) through the device seam without running them; Replay runs the whole sequence with one launch.
namespace Vae.Cuda;

public sealed partial class CudaBackend : IGraphCapture
{
    public ICapturedGraph Capture(Action work)
    {
        ArgumentNullException.ThrowIfNull(work);
        _device.BeginCapture();
        try
        {
            work();
        }
        catch
        {
            _argumentCount = 0;
            _device.EndCapture(abandon: true);
            throw;
        }
        return new CudaGraph(_device, _device.EndCapture());
    }

    sealed class CudaGraph(Device.ICudaDevice device, nint exec) : ICapturedGraph
    {
        nint _exec = exec;

        public void Replay()
        {
            ObjectDisposedException.ThrowIf(_exec == 0, this);
            device.LaunchGraph(_exec);
        }

        public void Dispose()
        {
            if (_exec == 0) return;
            device.DestroyGraph(_exec);
            _exec = 0;
        }
    }
}
