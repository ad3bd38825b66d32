// Device memory for the CUDA backend: one allocation per buffer, freed through the device that made it.
namespace Vae.Cuda;

public sealed class CudaBuffer : DeviceBuffer
{
    readonly Device.ICudaDevice _device;

    internal CudaBuffer(IComputeBackend owner, Device.ICudaDevice device, long byteLength) : base(owner, byteLength)
    {
        _device = device;
        Pointer = device.Allocate(Math.Max(byteLength, 4));
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
