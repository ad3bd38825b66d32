// Measures this machine's single-core FMA peak in GFLOP/s: the yardstick GEMM throughput is reported against.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Vae.Cpu.Gemm;

public static class FmaPeak
{
    /// <summary>
    /// Best of <paramref name="repetitions"/> runs of about <paramref name="duration"/> each, on the calling thread, of a loop of
    /// independent vector FMAs (12 chains: more than the 2 pipes x 4 cycles of FMA latency need, few enough for 16 AVX2 registers). Uses Vector512 where it is
    /// hardware accelerated, Vector256 otherwise. One FMA lane counts 2 FLOPs.
    /// </summary>
    public static double MeasureGflops(TimeSpan duration, int repetitions = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
        bool wide = Vector512.IsHardwareAccelerated;
        int lanes = wide ? Vector512<float>.Count : Vector256<float>.Count;
        const int ChainsTimesSteps = Chains * StepsPerCall;

        // warm up and size a batch of calls to ~1 ms
        Run(wide, 1000);
        long callsPerBatch = 1;
        while (true)
        {
            long start = Stopwatch.GetTimestamp();
            Run(wide, callsPerBatch);
            if (Stopwatch.GetElapsedTime(start).TotalMilliseconds >= 1 || callsPerBatch > 1 << 30) break;
            callsPerBatch *= 2;
        }

        double best = 0;
        for (int r = 0; r < repetitions; r++)
        {
            long calls = 0;
            long start = Stopwatch.GetTimestamp();
            TimeSpan elapsed;
            do
            {
                Run(wide, callsPerBatch);
                calls += callsPerBatch;
                elapsed = Stopwatch.GetElapsedTime(start);
            }
            while (elapsed < duration);
            double flops = (double)calls * ChainsTimesSteps * lanes * 2;
            best = Math.Max(best, flops / elapsed.TotalSeconds / 1e9);
        }
        return best;
    }

    const int Chains = 12;
    const int StepsPerCall = 64;

    static float sink;

    static void Run(bool wide, long calls)
    {
        float s = wide ? Chains512(calls) : Chains256(calls);
        sink += s;   // keeps the loop's result observable
    }

    /// <summary>Chains (12) independent FMA chains of StepsPerCall * calls steps; x * 0.99999994 + 1e-7 stays finite and normal.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    static float Chains512(long calls)
    {
        var x = Vector512.Create(0.99999994f);
        var y = Vector512.Create(1e-7f);
        Vector512<float> a0 = Vector512.Create(1f), a1 = a0 + y, a2 = a1 + y, a3 = a2 + y, a4 = a3 + y, a5 = a4 + y, a6 = a5 + y, a7 = a6 + y;
        Vector512<float> a8 = a7 + y, a9 = a8 + y, a10 = a9 + y, a11 = a10 + y;
        for (long i = 0; i < calls * StepsPerCall; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, x, y); a1 = Vector512.FusedMultiplyAdd(a1, x, y);
            a2 = Vector512.FusedMultiplyAdd(a2, x, y); a3 = Vector512.FusedMultiplyAdd(a3, x, y);
            a4 = Vector512.FusedMultiplyAdd(a4, x, y); a5 = Vector512.FusedMultiplyAdd(a5, x, y);
            a6 = Vector512.FusedMultiplyAdd(a6, x, y); a7 = Vector512.FusedMultiplyAdd(a7, x, y);
            a8 = Vector512.FusedMultiplyAdd(a8, x, y); a9 = Vector512.FusedMultiplyAdd(a9, x, y);
            a10 = Vector512.FusedMultiplyAdd(a10, x, y); a11 = Vector512.FusedMultiplyAdd(a11, x, y);
        }
        var sum = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
        return Vector512.Sum(sum);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    static float Chains256(long calls)
    {
        var x = Vector256.Create(0.99999994f);
        var y = Vector256.Create(1e-7f);
        Vector256<float> a0 = Vector256.Create(1f), a1 = a0 + y, a2 = a1 + y, a3 = a2 + y, a4 = a3 + y, a5 = a4 + y, a6 = a5 + y, a7 = a6 + y;
        Vector256<float> a8 = a7 + y, a9 = a8 + y, a10 = a9 + y, a11 = a10 + y;
        for (long i = 0; i < calls * StepsPerCall; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, x, y); a1 = Vector256.FusedMultiplyAdd(a1, x, y);
            a2 = Vector256.FusedMultiplyAdd(a2, x, y); a3 = Vector256.FusedMultiplyAdd(a3, x, y);
            a4 = Vector256.FusedMultiplyAdd(a4, x, y); a5 = Vector256.FusedMultiplyAdd(a5, x, y);
            a6 = Vector256.FusedMultiplyAdd(a6, x, y); a7 = Vector256.FusedMultiplyAdd(a7, x, y);
            a8 = Vector256.FusedMultiplyAdd(a8, x, y); a9 = Vector256.FusedMultiplyAdd(a9, x, y);
            a10 = Vector256.FusedMultiplyAdd(a10, x, y); a11 = Vector256.FusedMultiplyAdd(a11, x, y);
        }
        var sum = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
        return Vector256.Sum(sum);
    }
}
