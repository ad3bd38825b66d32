// The readable reference GEMM: three loops, one dot product per element of C, accumulated in double.
// It states what PackedGemm computes; tests and benchmarks compare against it.
namespace Vae.Cpu.Gemm;

public static class NaiveGemm
{
    /// <summary>
    /// c (m, n) = alpha * op(a) * op(b) + beta * c, row-major: op(a) is (m, k), stored (m, k), or (k, m) when transA;
    /// op(b) is (k, n), stored (k, n), or (n, k) when transB. beta = 0 overwrites c without reading it.
    /// </summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (a.Length < (long)m * k || b.Length < (long)k * n || c.Length < (long)m * n)
            throw new ArgumentException($"Spans of lengths a {a.Length}, b {b.Length}, c {c.Length} are too short for m = {m}, n = {n}, k = {k}.");

        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float aip = transA ? a[p * m + i] : a[i * k + p];
                    float bpj = transB ? b[j * k + p] : b[p * n + j];
                    sum += (double)aip * bpj;
                }
                double result = alpha * sum;
                if (beta != 0f) result += (double)beta * c[i * n + j];
                c[i * n + j] = (float)result;
            }
        }
    }
}
