// Device memory for the CUDA backend: one allocation per buffer, freed through the device that made it when the
// buffer is disposed. A buffer that is never disposed is freed too: its finalizer hands the address to the backend,
// which frees it on its own thread at the next allocation or disposal (device calls never run on the finalizer thread).
namespace Vae.Cuda;

public sealed class CudaBuffer : DeviceBuffer
{
    readonly CudaBackend _backend;
    readonly Device.ICudaDevice _device;

    internal CudaBuffer(CudaBackend owner, Device.ICudaDevice device, long byteLength) : base(owner, byteLength)
    {
        _backend = owner;
        _device = device;
        Pointer = device.Allocate(Math.Max(byteLength, 4));
    }

    ~CudaBuffer()
    {
        if (Pointer != 0) _backend.FreeLater(Pointer);
    }

    /// <summary>Device address of the first byte.</summary>
    public ulong Pointer { get; private set; }

    protected override void Release()
    {
        if (Pointer == 0) return;
        _device.Free(Pointer);
        Pointer = 0;
    }
}
