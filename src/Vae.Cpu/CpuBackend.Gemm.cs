// IComputeBackend.Gemm for the CPU backend: validation, then the packed, register-blocked, multi-threaded GEMM.
using Vae.Cpu.Gemm;

namespace Vae.Cpu;

public sealed unsafe partial class CpuBackend
{
    /// <summary>Packed-panel workspace of this backend's GEMM, reused by every call.</summary>
    readonly PackedGemm gemm = new();

    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, DeviceSpan<float> a, DeviceSpan<float> b, float beta, DeviceSpan<float> c)
    {
        BackendChecks.Gemm(this, transA, transB, m, n, k, a, b, c);
        gemm.Multiply(Pool, transA, transB, m, n, k, alpha, Ptr(a), Ptr(b), beta, Ptr(c));
    }
}
