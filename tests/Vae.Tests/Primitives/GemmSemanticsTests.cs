// BLAS corner cases of Gemm that random comparisons do not reach: alpha = 0 and k = 0 never read a and b,
// beta = 0 never reads c. Checked on every host backend with NaN-filled operands.
using Vae.Cpu;
using Xunit;

namespace Vae.Tests.Primitives;

public sealed class GemmSemanticsTests
{
    public static TheoryData<string> Backends => new() { "cpu", "cpu-1", "reference" };

    static IComputeBackend Create(string name) => name switch
    {
        "cpu" => new CpuBackend(),
        "cpu-1" => new CpuBackend(threads: 1),
        _ => new ReferenceBackend(),
    };

    static DeviceSpan<float> Upload(IComputeBackend backend, float[] values)
    {
        var view = backend.Allocate(Math.Max(values.Length, 1) * sizeof(float)).AsSpan<float>().Slice(0, values.Length);
        backend.Upload<float>(values, view);
        return view;
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Alpha_zero_and_k_zero_do_not_read_a_and_b(string backendName)
    {
        using var backend = Create(backendName);
        foreach (var (m, n, k, alpha) in new[] { (37, 29, 53, 0f), (37, 29, 0, 1.5f), (128, 400, 20, 0f) })
        {
            foreach (bool transA in new[] { false, true })
            foreach (bool transB in new[] { false, true })
            {
                var a = Upload(backend, Enumerable.Repeat(float.NaN, m * k).ToArray());
                var b = Upload(backend, Enumerable.Repeat(float.PositiveInfinity, k * n).ToArray());
                var cInitial = Enumerable.Range(0, m * n).Select(i => (float)(i % 7) - 3f).ToArray();
                foreach (float beta in new[] { 0f, 1f, -0.5f })
                {
                    var c = Upload(backend, cInitial);
                    backend.Gemm(transA, transB, m, n, k, alpha, a, b, beta, c);
                    var got = new float[m * n];
                    backend.Download(c, got);
                    for (int i = 0; i < got.Length; i++)
                    {
                        float want = beta == 0 ? 0f : beta * cInitial[i];
                        Assert.True(got[i] == want,
                            $"{backendName} transA={transA} transB={transB} m={m} n={n} k={k} alpha={alpha} beta={beta}: c[{i}] = {got[i]}, want {want}.");
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Beta_zero_does_not_read_c(string backendName)
    {
        using var backend = Create(backendName);
        const int m = 19, n = 33, k = 21;
        var a = Upload(backend, Enumerable.Range(0, m * k).Select(i => (i % 5) * 0.25f).ToArray());
        var b = Upload(backend, Enumerable.Range(0, k * n).Select(i => (i % 3) - 1f).ToArray());
        var c = Upload(backend, Enumerable.Repeat(float.NaN, m * n).ToArray());
        backend.Gemm(false, false, m, n, k, 1f, a, b, 0f, c);
        var got = new float[m * n];
        backend.Download(c, got);
        Assert.All(got, v => Assert.True(float.IsFinite(v), $"{backendName}: NaN from c leaked into the result."));
    }
}
