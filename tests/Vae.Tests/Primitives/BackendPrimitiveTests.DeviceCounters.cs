// The device-counter forms of RandomNormal and AdamStep (what a captured CUDA graph replays): on every backend they
// give what the host-counter forms give, and advance their counter in device memory by exactly one call's worth.
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.Primitives;

public abstract partial class BackendPrimitiveTests
{
    [Theory]
    [InlineData(0, 0UL)]
    [InlineData(1, 3UL)]
    [InlineData(37, 1UL << 40)]
    [InlineData(1000, ulong.MaxValue - 5)] // the offset wraps modulo 2^64 across the call
    public void RandomNormal_with_a_device_offset_equals_the_host_offset_form_and_advances_it(int length, ulong start)
    {
        var be = Backend;
        using var buffer = be.Allocate(2L * (length + 1) * sizeof(float) + 2 * sizeof(ulong));
        var viaDevice = buffer.AsSpan<float>().Slice(0, length);
        var viaHost = buffer.AsSpan<float>().Slice(length + 1, length);
        var counter = new DeviceSpan<ulong>(buffer, (2L * (length + 1) * sizeof(float) + 7) / 8, 1);
        be.Upload<ulong>([start], counter);
        for (int call = 0; call < 3; call++)
        {
            ulong offset = start + (ulong)(call * length);
            be.RandomNormal(viaDevice, 17, counter);
            be.RandomNormal(viaHost, 17, offset);
            var got = new float[length];
            var want = new float[length];
            be.Download(viaDevice, got);
            be.Download(viaHost, want);
            Tolerance.AssertBitwiseEqual($"call {call}", got, want);
            var after = new ulong[1];
            be.Download(counter, after);
            Assert.Equal(offset + (ulong)length, after[0]);
        }
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(300, 0)]
    [InlineData(65, 999)]
    public void AdamStep_with_a_device_step_equals_the_host_step_form_and_counts(int length, int start)
    {
        var be = Backend;
        var rng = new System.Random(length + start);
        var settings = new AdamSettings(LearningRate: 1e-2f, Beta1: 0.8f, Beta2: 0.99f, WeightDecay: 0.05f, Decoupled: true);
        using var buffer = be.Allocate(8L * length * sizeof(float) + 64);
        var views = Enumerable.Range(0, 8).Select(i => buffer.AsSpan<float>().Slice(i * length, length)).ToArray();
        var counter = new DeviceSpan<int>(buffer, 8L * length + 4, 1);
        float[] p = HostData.Uniform(rng, length, -1, 1), m = HostData.Uniform(rng, length, -0.1f, 0.1f), v = HostData.Uniform(rng, length, 0, 0.01f);
        for (int twin = 0; twin < 2; twin++)
        {
            be.Upload<float>(p, views[4 * twin]);
            be.Upload<float>(m, views[4 * twin + 2]);
            be.Upload<float>(v, views[4 * twin + 3]);
        }
        be.Upload<int>([start], counter);
        for (int step = start + 1; step <= start + 3; step++)
        {
            var g = HostData.Uniform(rng, length, -1, 1);
            be.Upload<float>(g, views[1]);
            be.Upload<float>(g, views[5]);
            be.AdamStep(views[0], views[1], views[2], views[3], settings, counter);
            be.AdamStep(views[4], views[5], views[6], views[7], settings, step);
            foreach (var (name, k) in new[] { ("parameters", 0), ("m", 2), ("v", 3) })
            {
                var got = new float[length];
                var want = new float[length];
                be.Download(views[k], got);
                be.Download(views[4 + k], want);
                Tolerance.AssertClose($"{name} after step {step}", got, want, Tolerance.Abs, Tolerance.Rel);
            }
            var count = new int[1];
            be.Download(counter, count);
            Assert.Equal(step, count[0]);
        }
    }
}
