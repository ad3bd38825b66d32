// Runs the per-element instruction kernels of Kernels/instructions/*.ptx: uploads the inputs a, b, c, launches
// kernel(out, a, b, c, n) over n elements (blocks of 64 threads, the last one partly outside n) and reads back out,
// where the kernel wrote variant v of element i to out[v * n + i].
using System.Runtime.CompilerServices;
using Vae.PtxInterpreter.Tests.Support;

namespace Vae.PtxInterpreter.Tests.Instructions;

internal static class InstructionRunner
{
    public const int ThreadsPerBlock = 64;

    /// <summary>Pattern the output buffer is filled with before the launch, so an element the kernel never wrote stands out.</summary>
    public const uint Sentinel = 0xA5A5A5A5;

    /// <summary>Runs <paramref name="kernel"/> over a.Length elements and returns out split into <paramref name="variants"/> arrays.</summary>
    public static TOut[][] RunVariants<TA, TB, TC, TOut>(string file, string kernel, int variants, TA[] a, TB[] b, TC[] c)
        where TA : unmanaged where TB : unmanaged where TC : unmanaged where TOut : unmanaged
        => RunVariants<TA, TB, TC, TOut>(file, kernel, variants, a.Length, a, b, c);

    /// <summary>Runs <paramref name="kernel"/> over <paramref name="n"/> elements (the inputs may hold several values per element).</summary>
    public static TOut[][] RunVariants<TA, TB, TC, TOut>(string file, string kernel, int variants, int n, TA[] a, TB[] b, TC[] c)
        where TA : unmanaged where TB : unmanaged where TC : unmanaged where TOut : unmanaged
    {
        TOut[] flat = Run<TA, TB, TC, TOut>(file, kernel, n, variants * n, a, b, c);
        var result = new TOut[variants][];
        for (int v = 0; v < variants; v++)
            result[v] = flat.AsSpan(v * n, n).ToArray();
        return result;
    }

    /// <summary>Runs <paramref name="kernel"/> with n = <paramref name="n"/> and returns the first <paramref name="outputCount"/> elements of out.</summary>
    public static TOut[] Run<TA, TB, TC, TOut>(string file, string kernel, int n, int outputCount, TA[] a, TB[] b, TC[] c)
        where TA : unmanaged where TB : unmanaged where TC : unmanaged where TOut : unmanaged
    {
        PtxModule module = TestKernels.Load("instructions/" + file);
        var gpu = new PtxMachine();
        DevicePointer pa = gpu.Upload<TA>(a);
        DevicePointer pb = gpu.Upload<TB>(b);
        DevicePointer pc = gpu.Upload<TC>(c);
        long words = ((long)outputCount * Unsafe.SizeOf<TOut>() + 3) / 4;
        DevicePointer pout = gpu.Allocate(words * 4);
        gpu.Memset32(pout, Sentinel, words);
        int blocks = (n + ThreadsPerBlock - 1) / ThreadsPerBlock;
        gpu.Launch(module, kernel, new Dim3(blocks), new Dim3(ThreadsPerBlock), 0, pout, pa, pb, pc, (uint)n);
        return gpu.Read<TOut>(pout, outputCount);
    }
}
