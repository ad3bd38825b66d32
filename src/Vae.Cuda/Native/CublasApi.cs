// The cuBLAS entry points Vae uses (SGEMM on column-major matrices), bound with [LibraryImport] under their C names;
// the _v2 names are the handle-based API.
using System.Runtime.InteropServices;

namespace Vae.Cuda.Native;

internal static unsafe partial class CublasApi
{
    const string Lib = CudaLibraries.Cublas;

    [LibraryImport(Lib, EntryPoint = "cublasCreate_v2")] public static partial int cublasCreate(nint* handle);
    [LibraryImport(Lib, EntryPoint = "cublasDestroy_v2")] public static partial int cublasDestroy(nint handle);
    [LibraryImport(Lib, EntryPoint = "cublasSetStream_v2")] public static partial int cublasSetStream(nint handle, nint stream);
    [LibraryImport(Lib, EntryPoint = "cublasGetVersion_v2")] public static partial int cublasGetVersion(nint handle, int* version);
    [LibraryImport(Lib)] public static partial int cublasSetMathMode(nint handle, int mode);
    [LibraryImport(Lib, EntryPoint = "cublasSetWorkspace_v2")] public static partial int cublasSetWorkspace(nint handle, void* workspace, nuint bytes);
    [LibraryImport(Lib, EntryPoint = "cublasSgemm_v2")] public static partial int cublasSgemm(nint handle, int transA, int transB, int m, int n, int k,
        float* alpha, ulong a, int lda, ulong b, int ldb, float* beta, ulong c, int ldc);
    [LibraryImport(Lib)] public static partial byte* cublasGetStatusString(int status);

    public const int OpN = 0, OpT = 1;
    public const int MathDefault = 0, MathPedantic = 2, MathTf32 = 3;

    public static string StatusName(int status) => status switch
    {
        0 => "CUBLAS_STATUS_SUCCESS", 1 => "CUBLAS_STATUS_NOT_INITIALIZED", 3 => "CUBLAS_STATUS_ALLOC_FAILED",
        7 => "CUBLAS_STATUS_INVALID_VALUE", 8 => "CUBLAS_STATUS_ARCH_MISMATCH", 11 => "CUBLAS_STATUS_MAPPING_ERROR",
        13 => "CUBLAS_STATUS_EXECUTION_FAILED", 14 => "CUBLAS_STATUS_INTERNAL_ERROR", 15 => "CUBLAS_STATUS_NOT_SUPPORTED",
        _ => $"CUBLAS_STATUS_{status}",
    };
}
