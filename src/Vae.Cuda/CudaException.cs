// The one error path for native calls: every failing CUresult or cublasStatus_t becomes a CudaException naming the
// call, the status name and the library's own text. CudaUnavailableException says why CUDA cannot be used at all.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Vae.Cuda.Native;

namespace Vae.Cuda;

public class CudaException : Exception
{
    public string Call { get; }
    public int Status { get; }
    public string StatusName { get; }

    public CudaException(string call, int status, string statusName, string text, string? detail = null)
        : base($"{call} failed: {statusName} ({status}): {text}{(string.IsNullOrEmpty(detail) ? "" : "\n" + detail)}")
    {
        Call = call;
        Status = status;
        StatusName = statusName;
    }
}

/// <summary>No usable CUDA driver or device; the message says which and what to do.</summary>
public sealed class CudaUnavailableException(string reason) : Exception($"CUDA unavailable: {reason}")
{
    public string Reason { get; } = reason;
}

public static class CudaErrors
{
    /// <summary>Throws a <see cref="CudaException"/> when a driver call did not return CUDA_SUCCESS.</summary>
    public static void Check(int result, [CallerArgumentExpression(nameof(result))] string call = "")
    {
        if (result != CudaDriverApi.Success) throw Driver(result, call);
    }

    /// <summary>Throws a <see cref="CudaException"/> when a cuBLAS call did not return CUBLAS_STATUS_SUCCESS.</summary>
    public static void CheckCublas(int status, [CallerArgumentExpression(nameof(status))] string call = "")
    {
        if (status != 0) throw new CudaException(Trim(call), status, CublasApi.StatusName(status), CublasText(status));
    }

    public static CudaException Driver(int result, string call, string? detail = null) =>
        new(Trim(call), result, DriverName(result), DriverText(result), detail);

    static string Trim(string call)
    {
        int paren = call.IndexOf('(');
        string name = paren > 0 ? call[..paren] : call;
        int dot = name.LastIndexOf('.');
        return dot >= 0 ? name[(dot + 1)..] : name;
    }

    public static unsafe string DriverName(int result)
    {
        try
        {
            byte* s = null;
            if (CudaDriverApi.cuGetErrorName(result, &s) == 0 && s != null) return Marshal.PtrToStringUTF8((nint)s) ?? $"CUDA_ERROR_{result}";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        return result switch
        {
            1 => "CUDA_ERROR_INVALID_VALUE", 2 => "CUDA_ERROR_OUT_OF_MEMORY", 3 => "CUDA_ERROR_NOT_INITIALIZED",
            34 => "CUDA_ERROR_STUB_LIBRARY", 100 => "CUDA_ERROR_NO_DEVICE", 101 => "CUDA_ERROR_INVALID_DEVICE",
            200 => "CUDA_ERROR_INVALID_IMAGE", 201 => "CUDA_ERROR_INVALID_CONTEXT", 209 => "CUDA_ERROR_NO_BINARY_FOR_GPU",
            218 => "CUDA_ERROR_INVALID_PTX", 221 => "CUDA_ERROR_JIT_COMPILER_NOT_FOUND", 222 => "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
            400 => "CUDA_ERROR_INVALID_HANDLE", 500 => "CUDA_ERROR_NOT_FOUND", 700 => "CUDA_ERROR_ILLEGAL_ADDRESS",
            701 => "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", 719 => "CUDA_ERROR_LAUNCH_FAILED", 801 => "CUDA_ERROR_NOT_SUPPORTED",
            900 => "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED", 901 => "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED",
            908 => "CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD", 999 => "CUDA_ERROR_UNKNOWN",
            _ => $"CUDA_ERROR_{result}",
        };
    }

    static unsafe string DriverText(int result)
    {
        try
        {
            byte* s = null;
            if (CudaDriverApi.cuGetErrorString(result, &s) == 0 && s != null) return Marshal.PtrToStringUTF8((nint)s) ?? "(no description)";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        return "(the driver gave no description)";
    }

    static unsafe string CublasText(int status)
    {
        try
        {
            byte* s = CublasApi.cublasGetStatusString(status);
            if (s != null) return Marshal.PtrToStringUTF8((nint)s) ?? "(no description)";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        return "(cuBLAS gave no description)";
    }
}
