// The CUDA driver API entry points Vae uses, bound with [LibraryImport] under their C names. The _v2 suffixes matter:
// the unsuffixed names are the legacy 32-bit-pointer ABI. CUdeviceptr = ulong, handles = nint, CUresult = int.
using System.Runtime.InteropServices;

namespace Vae.Cuda.Native;

internal static unsafe partial class CudaDriverApi
{
    const string Lib = CudaLibraries.Driver;

    [LibraryImport(Lib)] public static partial int cuInit(uint flags);
    [LibraryImport(Lib)] public static partial int cuDriverGetVersion(int* version);
    [LibraryImport(Lib)] public static partial int cuDeviceGetCount(int* count);
    [LibraryImport(Lib)] public static partial int cuDeviceGet(int* device, int ordinal);
    [LibraryImport(Lib)] public static partial int cuDeviceGetName(byte* name, int length, int device);
    [LibraryImport(Lib)] public static partial int cuDeviceGetAttribute(int* value, int attribute, int device);
    [LibraryImport(Lib, EntryPoint = "cuDeviceTotalMem_v2")] public static partial int cuDeviceTotalMem(nuint* bytes, int device);
    [LibraryImport(Lib)] public static partial int cuDevicePrimaryCtxRetain(nint* context, int device);
    [LibraryImport(Lib, EntryPoint = "cuDevicePrimaryCtxRelease_v2")] public static partial int cuDevicePrimaryCtxRelease(int device);
    [LibraryImport(Lib)] public static partial int cuCtxSetCurrent(nint context);
    [LibraryImport(Lib)] public static partial int cuCtxSynchronize();
    [LibraryImport(Lib)] public static partial int cuModuleLoadDataEx(nint* module, byte* image, uint numOptions, int* options, nint* optionValues);
    [LibraryImport(Lib)] public static partial int cuModuleUnload(nint module);
    [LibraryImport(Lib)] public static partial int cuModuleGetFunction(nint* function, nint module, byte* name);
    [LibraryImport(Lib)] public static partial int cuLaunchKernel(nint function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedBytes, nint stream, void** kernelParams, void** extra);
    [LibraryImport(Lib, EntryPoint = "cuMemAlloc_v2")] public static partial int cuMemAlloc(ulong* pointer, nuint bytes);
    [LibraryImport(Lib, EntryPoint = "cuMemFree_v2")] public static partial int cuMemFree(ulong pointer);
    [LibraryImport(Lib, EntryPoint = "cuMemcpyHtoDAsync_v2")] public static partial int cuMemcpyHtoDAsync(ulong destination, void* source, nuint bytes, nint stream);
    [LibraryImport(Lib, EntryPoint = "cuMemcpyDtoHAsync_v2")] public static partial int cuMemcpyDtoHAsync(void* destination, ulong source, nuint bytes, nint stream);
    [LibraryImport(Lib, EntryPoint = "cuMemcpyDtoDAsync_v2")] public static partial int cuMemcpyDtoDAsync(ulong destination, ulong source, nuint bytes, nint stream);
    [LibraryImport(Lib, EntryPoint = "cuMemsetD32Async")] public static partial int cuMemsetD32Async(ulong destination, uint value, nuint count, nint stream);
    [LibraryImport(Lib, EntryPoint = "cuMemGetInfo_v2")] public static partial int cuMemGetInfo(nuint* free, nuint* total);
    [LibraryImport(Lib)] public static partial int cuStreamCreate(nint* stream, uint flags);
    [LibraryImport(Lib)] public static partial int cuStreamSynchronize(nint stream);
    [LibraryImport(Lib, EntryPoint = "cuStreamDestroy_v2")] public static partial int cuStreamDestroy(nint stream);
    [LibraryImport(Lib, EntryPoint = "cuStreamBeginCapture_v2")] public static partial int cuStreamBeginCapture(nint stream, int mode);
    [LibraryImport(Lib)] public static partial int cuStreamEndCapture(nint stream, nint* graph);
    [LibraryImport(Lib)] public static partial int cuGraphInstantiateWithFlags(nint* graphExec, nint graph, ulong flags);
    [LibraryImport(Lib)] public static partial int cuGraphLaunch(nint graphExec, nint stream);
    [LibraryImport(Lib)] public static partial int cuGraphExecDestroy(nint graphExec);
    [LibraryImport(Lib)] public static partial int cuGraphDestroy(nint graph);
    [LibraryImport(Lib)] public static partial int cuGetErrorName(int error, byte** name);
    [LibraryImport(Lib)] public static partial int cuGetErrorString(int error, byte** text);

    // CUresult values named in messages and checks (cuda.md).
    public const int Success = 0, NoDevice = 100, InvalidPtx = 218, NoBinaryForGpu = 209, UnsupportedPtxVersion = 222, JitCompilerNotFound = 221;

    // CUjit_option values.
    public const int JitInfoLogBuffer = 3, JitInfoLogBufferSizeBytes = 4, JitErrorLogBuffer = 5, JitErrorLogBufferSizeBytes = 6;

    // Device attributes.
    public const int AttrMaxThreadsPerBlock = 1, AttrMaxSharedMemoryPerBlock = 8, AttrWarpSize = 10, AttrMultiprocessorCount = 16,
        AttrComputeCapabilityMajor = 75, AttrComputeCapabilityMinor = 76;
}
