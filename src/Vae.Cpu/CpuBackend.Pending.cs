// TEMPORARY during parallel development: each primitive moves out of this file as it is implemented.
// This file must be gone before anything lands on main.
namespace Vae.Cpu;

public sealed partial class CpuBackend
{
    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, DeviceSpan<float> a, DeviceSpan<float> b, float beta, DeviceSpan<float> c) => throw new NotImplementedException("Gemm");
}
