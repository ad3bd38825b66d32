// SafeHandles for the native objects the CUDA device owns: the primary context (released, not destroyed), the
// stream, the cuBLAS handle, loaded modules and device allocations. Their release never throws (finalizer safe).
using System.Runtime.InteropServices;

namespace Vae.Cuda.Native;

internal sealed class CudaContextHandle : SafeHandle
{
    readonly int _device;

    public CudaContextHandle(nint context, int device) : base(0, ownsHandle: true)
    {
        _device = device;
        SetHandle(context);
    }

    public override bool IsInvalid => handle == 0;
    protected override bool ReleaseHandle() => CudaDriverApi.cuDevicePrimaryCtxRelease(_device) == 0;
}

internal sealed class CudaStreamHandle : SafeHandle
{
    public CudaStreamHandle(nint stream) : base(0, ownsHandle: true) => SetHandle(stream);
    public override bool IsInvalid => handle == 0;
    protected override bool ReleaseHandle() => CudaDriverApi.cuStreamDestroy(handle) == 0;
}

internal sealed class CublasHandle : SafeHandle
{
    public CublasHandle(nint cublas) : base(0, ownsHandle: true) => SetHandle(cublas);
    public override bool IsInvalid => handle == 0;
    protected override bool ReleaseHandle() => CublasApi.cublasDestroy(handle) == 0;
}

internal sealed class CudaModuleHandle : SafeHandle
{
    public CudaModuleHandle(nint module) : base(0, ownsHandle: true) => SetHandle(module);
    public override bool IsInvalid => handle == 0;
    protected override bool ReleaseHandle() => CudaDriverApi.cuModuleUnload(handle) == 0;
}

internal sealed class CudaMemoryHandle : SafeHandle
{
    public CudaMemoryHandle(ulong pointer) : base(0, ownsHandle: true) => SetHandle((nint)pointer);
    public override bool IsInvalid => handle == 0;
    protected override bool ReleaseHandle() => CudaDriverApi.cuMemFree((ulong)handle) == 0;
}
