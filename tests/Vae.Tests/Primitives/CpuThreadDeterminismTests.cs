// Results must not depend on the number of threads: every primitive of a large workload runs on CpuBackend with 1, 2
// and 3 threads (odd counts split work unevenly) and the outputs must agree bit for bit, call by call.
using Vae.Cpu;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Primitives;

public sealed class CpuThreadDeterminismTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Every_primitive_gives_bit_identical_results_for_any_thread_count(int threads)
    {
        using var single = new CpuBackend(threads: 1);
        using var multi = new CpuBackend(threads: threads);
        using var expected = new PrimitiveWorkload(single, WorkloadSize.Large, seed: 77);
        using var actual = new PrimitiveWorkload(multi, WorkloadSize.Large, seed: 77);
        var failures = new List<string>();
        for (int i = 0; i < expected.Calls.Count; i++)
        {
            var want = expected.Calls[i];
            var got = actual.Calls[i];
            // Twice, so accumulating and in-place primitives also run on their own previous results.
            for (int repeat = 0; repeat < 2; repeat++)
            {
                want.Invoke();
                got.Invoke();
            }
            for (int k = 0; k < want.FloatOutputs.Length; k++)
            {
                var wantData = new float[want.FloatOutputs[k].Length];
                var gotData = new float[got.FloatOutputs[k].Length];
                single.Download(want.FloatOutputs[k], wantData);
                multi.Download(got.FloatOutputs[k], gotData);
                try
                {
                    Tolerance.AssertBitwiseEqual($"{want.Name} output {k}", gotData, wantData);
                }
                catch (Xunit.Sdk.XunitException e)
                {
                    failures.Add(e.Message);
                }
            }
            for (int k = 0; k < want.IntOutputs.Length; k++)
            {
                var wantData = new int[want.IntOutputs[k].Length];
                var gotData = new int[got.IntOutputs[k].Length];
                single.Download(want.IntOutputs[k], wantData);
                multi.Download(got.IntOutputs[k], gotData);
                try
                {
                    Tolerance.AssertEqual($"{want.Name} output {k}", gotData, wantData);
                }
                catch (Xunit.Sdk.XunitException e)
                {
                    failures.Add(e.Message);
                }
            }
        }
        Assert.True(failures.Count == 0, $"{threads} threads differ from 1 thread:\n" + string.Join("\n", failures));
    }
}
