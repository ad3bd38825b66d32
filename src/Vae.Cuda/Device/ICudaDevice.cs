// The device seam: the few operations the CUDA backend's launchers need (load a PTX module, allocate, copy, launch,
// GEMM, synchronize). CudaDriverDevice implements it with the driver API and cuBLAS; the tests implement it with the
// PTX interpreter and a CPU GEMM, so every kernel and launcher runs in CI without a GPU.
namespace Vae.Cuda.Device;

/// <summary>Grid or block dimensions of a launch.</summary>
public readonly record struct LaunchDims(uint X, uint Y = 1, uint Z = 1)
{
    public override string ToString() => $"({X},{Y},{Z})";
}

public interface ICudaDevice : IDisposable
{
    /// <summary>"cuda" for a real GPU, "ptx-interpreter" for the test device.</summary>
    string Kind { get; }

    /// <summary>Compiles (JIT) or parses a PTX module; throws with the compiler's log on failure.</summary>
    nint LoadModule(string ptx, string name);

    nint GetFunction(nint module, string kernelName);

    /// <summary>Allocates device memory (contents undefined).</summary>
    ulong Allocate(long bytes);

    void Free(ulong pointer);

    void CopyToDevice(ulong destination, ReadOnlySpan<byte> source);

    /// <summary>Copies to the host; waits for pending work first.</summary>
    void CopyToHost(ulong source, Span<byte> destination);

    void CopyDeviceToDevice(ulong destination, ulong source, long bytes);

    /// <summary>Sets <paramref name="count"/> 32-bit words to <paramref name="value"/>.</summary>
    void Memset32(ulong destination, uint value, long count);

    /// <summary>Launches a kernel; <paramref name="kernelParams"/> points to one pointer per parameter, to its value (cuLaunchKernel).</summary>
    unsafe void Launch(nint function, LaunchDims grid, LaunchDims block, int sharedBytes, void** kernelParams, int parameterCount);

    /// <summary>
    /// Column-major SGEMM, cuBLAS semantics: C (m x n, leading dimension ldc) = alpha op(A) op(B) + beta C, where op(A) is
    /// m x k and op(B) is k x n; beta = 0 does not read C.
    /// </summary>
    void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, ulong a, int lda, ulong b, int ldb, float beta, ulong c, int ldc);

    /// <summary>Waits for all submitted work.</summary>
    void Synchronize();

    /// <summary>Starts recording the launches, memsets, device copies and GEMMs submitted from now on, without running them.</summary>
    void BeginCapture();

    /// <summary>Ends the recording and returns an executable graph; <paramref name="abandon"/> discards it (after a failure).</summary>
    nint EndCapture(bool abandon = false);

    /// <summary>Runs a captured graph once.</summary>
    void LaunchGraph(nint graph);

    void DestroyGraph(nint graph);
}
