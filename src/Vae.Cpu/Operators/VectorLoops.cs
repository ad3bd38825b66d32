// The generic loops that apply an operator over float arrays (single-threaded; CpuBackend splits large work over
// the pool). Each public method picks the widest accelerated vector that fits the length, then runs one loop body
// specialized for that width. Maps finish with an overlapping last vector computed before anything is stored, so an
// output may be one of the inputs; reductions mask the lanes of the overlapping last vector that were already counted
// and accumulate in double in a fixed order.
using System.Runtime.Intrinsics;

namespace Vae.Cpu.Operators;

internal static unsafe class VectorLoops
{
    // ------------------------------------------------------------------------------------------------ maps

    /// <summary>result[i] = op(x[i]).</summary>
    public static void Map<TOp>(TOp op, float* x, float* result, int length) where TOp : struct, IUnaryOperator
    {
        if (Vector512.IsHardwareAccelerated && length >= Vector512<float>.Count) Map<TOp, Width512, Vector512<float>, Vector512<double>>(op, x, result, length);
        else if (Vector256.IsHardwareAccelerated && length >= Vector256<float>.Count) Map<TOp, Width256, Vector256<float>, Vector256<double>>(op, x, result, length);
        else if (Vector128.IsHardwareAccelerated && length >= Vector128<float>.Count) Map<TOp, Width128, Vector128<float>, Vector128<double>>(op, x, result, length);
        else if (length > 0) Map<TOp, Width1, float, double>(op, x, result, length);
    }

    static void Map<TOp, TW, TV, TD>(TOp op, float* x, float* result, int length)
        where TOp : struct, IUnaryFunction<TV> where TW : IVectorWidth<TV, TD> where TV : unmanaged where TD : unmanaged
    {
        int count = TW.Count, last = length - count, i = 0;
        TV end = op.Invoke(TW.Load(x + last));
        for (; i <= length - 2 * count; i += 2 * count)
        {
            TV a = op.Invoke(TW.Load(x + i));
            TV b = op.Invoke(TW.Load(x + i + count));
            TW.Store(result + i, a);
            TW.Store(result + i + count, b);
        }
        if (i <= last) TW.Store(result + i, op.Invoke(TW.Load(x + i)));
        TW.Store(result + last, end);
    }

    /// <summary>result[i] = op(x[i]) and returns the sum of the results, accumulated in double.</summary>
    public static double MapAndSum<TOp>(TOp op, float* x, float* result, int length) where TOp : struct, IUnaryOperator
    {
        if (Vector512.IsHardwareAccelerated && length >= Vector512<float>.Count) return MapAndSum<TOp, Width512, Vector512<float>, Vector512<double>>(op, x, result, length);
        if (Vector256.IsHardwareAccelerated && length >= Vector256<float>.Count) return MapAndSum<TOp, Width256, Vector256<float>, Vector256<double>>(op, x, result, length);
        if (Vector128.IsHardwareAccelerated && length >= Vector128<float>.Count) return MapAndSum<TOp, Width128, Vector128<float>, Vector128<double>>(op, x, result, length);
        return length > 0 ? MapAndSum<TOp, Width1, float, double>(op, x, result, length) : 0d;
    }

    static double MapAndSum<TOp, TW, TV, TD>(TOp op, float* x, float* result, int length)
        where TOp : struct, IUnaryFunction<TV> where TW : IVectorWidth<TV, TD> where TV : unmanaged where TD : unmanaged
    {
        int count = TW.Count, last = length - count, i = 0;
        TV end = op.Invoke(TW.Load(x + last));
        TD sum0 = TW.Zero, sum1 = TW.Zero;
        for (; i <= length - 2 * count; i += 2 * count)
        {
            TV a = op.Invoke(TW.Load(x + i));
            TV b = op.Invoke(TW.Load(x + i + count));
            TW.Store(result + i, a);
            TW.Store(result + i + count, b);
            sum0 = TW.AddWidened(sum0, a);
            sum1 = TW.AddWidened(sum1, b);
        }
        if (i <= last)
        {
            TV a = op.Invoke(TW.Load(x + i));
            TW.Store(result + i, a);
            sum0 = TW.AddWidened(sum0, a);
            i += count;
        }
        if (i < length) sum1 = TW.AddWidened(sum1, TW.KeepLast(end, length - i));
        TW.Store(result + last, end);
        return TW.Sum(TW.Add(sum0, sum1));
    }

    /// <summary>result[i] = op(x[i], y[i]).</summary>
    public static void Map<TOp>(TOp op, float* x, float* y, float* result, int length) where TOp : struct, IBinaryOperator
    {
        if (Vector512.IsHardwareAccelerated && length >= Vector512<float>.Count) Map<TOp, Width512, Vector512<float>, Vector512<double>>(op, x, y, result, length);
        else if (Vector256.IsHardwareAccelerated && length >= Vector256<float>.Count) Map<TOp, Width256, Vector256<float>, Vector256<double>>(op, x, y, result, length);
        else if (Vector128.IsHardwareAccelerated && length >= Vector128<float>.Count) Map<TOp, Width128, Vector128<float>, Vector128<double>>(op, x, y, result, length);
        else if (length > 0) Map<TOp, Width1, float, double>(op, x, y, result, length);
    }

    static void Map<TOp, TW, TV, TD>(TOp op, float* x, float* y, float* result, int length)
        where TOp : struct, IBinaryFunction<TV> where TW : IVectorWidth<TV, TD> where TV : unmanaged where TD : unmanaged
    {
        int count = TW.Count, last = length - count, i = 0;
        TV end = op.Invoke(TW.Load(x + last), TW.Load(y + last));
        for (; i <= length - 2 * count; i += 2 * count)
        {
            TV a = op.Invoke(TW.Load(x + i), TW.Load(y + i));
            TV b = op.Invoke(TW.Load(x + i + count), TW.Load(y + i + count));
            TW.Store(result + i, a);
            TW.Store(result + i + count, b);
        }
        if (i <= last) TW.Store(result + i, op.Invoke(TW.Load(x + i), TW.Load(y + i)));
        TW.Store(result + last, end);
    }

    /// <summary>result[i] = op(x[i], y[i], z[i]).</summary>
    public static void Map<TOp>(TOp op, float* x, float* y, float* z, float* result, int length) where TOp : struct, ITernaryOperator
    {
        if (Vector512.IsHardwareAccelerated && length >= Vector512<float>.Count) Map<TOp, Width512, Vector512<float>, Vector512<double>>(op, x, y, z, result, length);
        else if (Vector256.IsHardwareAccelerated && length >= Vector256<float>.Count) Map<TOp, Width256, Vector256<float>, Vector256<double>>(op, x, y, z, result, length);
        else if (Vector128.IsHardwareAccelerated && length >= Vector128<float>.Count) Map<TOp, Width128, Vector128<float>, Vector128<double>>(op, x, y, z, result, length);
        else if (length > 0) Map<TOp, Width1, float, double>(op, x, y, z, result, length);
    }

    static void Map<TOp, TW, TV, TD>(TOp op, float* x, float* y, float* z, float* result, int length)
        where TOp : struct, ITernaryFunction<TV> where TW : IVectorWidth<TV, TD> where TV : unmanaged where TD : unmanaged
    {
        int count = TW.Count, last = length - count, i = 0;
        TV end = op.Invoke(TW.Load(x + last), TW.Load(y + last), TW.Load(z + last));
        for (; i <= length - 2 * count; i += 2 * count)
        {
            TV a = op.Invoke(TW.Load(x + i), TW.Load(y + i), TW.Load(z + i));
            TV b = op.Invoke(TW.Load(x + i + count), TW.Load(y + i + count), TW.Load(z + i + count));
            TW.Store(result + i, a);
            TW.Store(result + i + count, b);
        }
        if (i <= last) TW.Store(result + i, op.Invoke(TW.Load(x + i), TW.Load(y + i), TW.Load(z + i)));
        TW.Store(result + last, end);
    }

    /// <summary>(first[i], second[i]) = op(x[i], y[i], z[i]).</summary>
    public static void MapPair<TOp>(TOp op, float* x, float* y, float* z, float* first, float* second, int length) where TOp : struct, ITernaryPairOperator
    {
        if (Vector512.IsHardwareAccelerated && length >= Vector512<float>.Count) MapPair<TOp, Width512, Vector512<float>, Vector512<double>>(op, x, y, z, first, second, length);
        else if (Vector256.IsHardwareAccelerated && length >= Vector256<float>.Count) MapPair<TOp, Width256, Vector256<float>, Vector256<double>>(op, x, y, z, first, second, length);
        else if (Vector128.IsHardwareAccelerated && length >= Vector128<float>.Count) MapPair<TOp, Width128, Vector128<float>, Vector128<double>>(op, x, y, z, first, second, length);
        else if (length > 0) MapPair<TOp, Width1, float, double>(op, x, y, z, first, second, length);
    }

    static void MapPair<TOp, TW, TV, TD>(TOp op, float* x, float* y, float* z, float* first, float* second, int length)
        where TOp : struct, ITernaryPairFunction<TV> where TW : IVectorWidth<TV, TD> where TV : unmanaged where TD : unmanaged
    {
        int count = TW.Count, last = length - count;
        op.Invoke(TW.Load(x + last), TW.Load(y + last), TW.Load(z + last), out TV endFirst, out TV endSecond);
        for (int i = 0; i < last; i += count)
        {
            op.Invoke(TW.Load(x + i), TW.Load(y + i), TW.Load(z + i), out TV a, out TV b);
            TW.Store(first + i, a);
            TW.Store(second + i, b);
        }
        TW.Store(first + last, endFirst);
        TW.Store(second + last, endSecond);
    }

    /// <summary>(first[i], second[i]) = op(x[i], y[i], z[i], w[i]); first and second may be z and w (updates).</summary>
    public static void MapPair<TOp>(TOp op, float* x, float* y, float* z, float* w, float* first, float* second, int length) where TOp : struct, IQuaternaryPairOperator
    {
        if (Vector512.IsHardwareAccelerated && length >= Vector512<float>.Count) MapPair<TOp, Width512, Vector512<float>, Vector512<double>>(op, x, y, z, w, first, second, length);
        else if (Vector256.IsHardwareAccelerated && length >= Vector256<float>.Count) MapPair<TOp, Width256, Vector256<float>, Vector256<double>>(op, x, y, z, w, first, second, length);
        else if (Vector128.IsHardwareAccelerated && length >= Vector128<float>.Count) MapPair<TOp, Width128, Vector128<float>, Vector128<double>>(op, x, y, z, w, first, second, length);
        else if (length > 0) MapPair<TOp, Width1, float, double>(op, x, y, z, w, first, second, length);
    }

    static void MapPair<TOp, TW, TV, TD>(TOp op, float* x, float* y, float* z, float* w, float* first, float* second, int length)
        where TOp : struct, IQuaternaryPairFunction<TV> where TW : IVectorWidth<TV, TD> where TV : unmanaged where TD : unmanaged
    {
        int count = TW.Count, last = length - count;
        op.Invoke(TW.Load(x + last), TW.Load(y + last), TW.Load(z + last), TW.Load(w + last), out TV endFirst, out TV endSecond);
        for (int i = 0; i < last; i += count)
        {
            op.Invoke(TW.Load(x + i), TW.Load(y + i), TW.Load(z + i), TW.Load(w + i), out TV a, out TV b);
            TW.Store(first + i, a);
            TW.Store(second + i, b);
        }
        TW.Store(first + last, endFirst);
        TW.Store(second + last, endSecond);
    }

    /// <summary>One Adam update of parameters, m and v (in place) from gradients.</summary>
    public static void Adam<TOp>(TOp op, float* parameters, float* gradients, float* m, float* v, int length) where TOp : struct, IAdamOperator
    {
        if (Vector512.IsHardwareAccelerated && length >= Vector512<float>.Count) Adam<TOp, Width512, Vector512<float>, Vector512<double>>(op, parameters, gradients, m, v, length);
        else if (Vector256.IsHardwareAccelerated && length >= Vector256<float>.Count) Adam<TOp, Width256, Vector256<float>, Vector256<double>>(op, parameters, gradients, m, v, length);
        else if (Vector128.IsHardwareAccelerated && length >= Vector128<float>.Count) Adam<TOp, Width128, Vector128<float>, Vector128<double>>(op, parameters, gradients, m, v, length);
        else if (length > 0) Adam<TOp, Width1, float, double>(op, parameters, gradients, m, v, length);
    }

    static void Adam<TOp, TW, TV, TD>(TOp op, float* parameters, float* gradients, float* m, float* v, int length)
        where TOp : struct, IAdamFunction<TV> where TW : IVectorWidth<TV, TD> where TV : unmanaged where TD : unmanaged
    {
        int count = TW.Count, last = length - count;
        TV endP = TW.Load(parameters + last), endM = TW.Load(m + last), endV = TW.Load(v + last);
        op.Invoke(ref endP, TW.Load(gradients + last), ref endM, ref endV);
        for (int i = 0; i < last; i += count)
        {
            TV p = TW.Load(parameters + i), mi = TW.Load(m + i), vi = TW.Load(v + i);
            op.Invoke(ref p, TW.Load(gradients + i), ref mi, ref vi);
            TW.Store(parameters + i, p);
            TW.Store(m + i, mi);
            TW.Store(v + i, vi);
        }
        TW.Store(parameters + last, endP);
        TW.Store(m + last, endM);
        TW.Store(v + last, endV);
    }

    /// <summary>Adds op's gradients of (muQ, logVarQ, muP, logVarP) into the four accumulators.</summary>
    public static void AccumulateGradients<TOp>(TOp op, float* muQ, float* logVarQ, float* muP, float* logVarP,
        float* dMuQ, float* dLogVarQ, float* dMuP, float* dLogVarP, int length) where TOp : struct, IGaussianPairGradientOperator
    {
        if (Vector512.IsHardwareAccelerated && length >= Vector512<float>.Count)
            AccumulateGradients<TOp, Width512, Vector512<float>, Vector512<double>>(op, muQ, logVarQ, muP, logVarP, dMuQ, dLogVarQ, dMuP, dLogVarP, length);
        else if (Vector256.IsHardwareAccelerated && length >= Vector256<float>.Count)
            AccumulateGradients<TOp, Width256, Vector256<float>, Vector256<double>>(op, muQ, logVarQ, muP, logVarP, dMuQ, dLogVarQ, dMuP, dLogVarP, length);
        else if (Vector128.IsHardwareAccelerated && length >= Vector128<float>.Count)
            AccumulateGradients<TOp, Width128, Vector128<float>, Vector128<double>>(op, muQ, logVarQ, muP, logVarP, dMuQ, dLogVarQ, dMuP, dLogVarP, length);
        else if (length > 0)
            AccumulateGradients<TOp, Width1, float, double>(op, muQ, logVarQ, muP, logVarP, dMuQ, dLogVarQ, dMuP, dLogVarP, length);
    }

    static void AccumulateGradients<TOp, TW, TV, TD>(TOp op, float* muQ, float* logVarQ, float* muP, float* logVarP,
        float* dMuQ, float* dLogVarQ, float* dMuP, float* dLogVarP, int length)
        where TOp : struct, IGaussianPairGradientFunction<TV> where TW : IVectorWidth<TV, TD> where TV : unmanaged where TD : unmanaged
    {
        int count = TW.Count, last = length - count;
        TV e0 = TW.Load(dMuQ + last), e1 = TW.Load(dLogVarQ + last), e2 = TW.Load(dMuP + last), e3 = TW.Load(dLogVarP + last);
        op.Invoke(TW.Load(muQ + last), TW.Load(logVarQ + last), TW.Load(muP + last), TW.Load(logVarP + last), ref e0, ref e1, ref e2, ref e3);
        for (int i = 0; i < last; i += count)
        {
            TV a0 = TW.Load(dMuQ + i), a1 = TW.Load(dLogVarQ + i), a2 = TW.Load(dMuP + i), a3 = TW.Load(dLogVarP + i);
            op.Invoke(TW.Load(muQ + i), TW.Load(logVarQ + i), TW.Load(muP + i), TW.Load(logVarP + i), ref a0, ref a1, ref a2, ref a3);
            TW.Store(dMuQ + i, a0);
            TW.Store(dLogVarQ + i, a1);
            TW.Store(dMuP + i, a2);
            TW.Store(dLogVarP + i, a3);
        }
        TW.Store(dMuQ + last, e0);
        TW.Store(dLogVarQ + last, e1);
        TW.Store(dMuP + last, e2);
        TW.Store(dLogVarP + last, e3);
    }

    // ------------------------------------------------------------------------------------------------ reductions

    /// <summary>Sum over i of op(x[i]), accumulated in double.</summary>
    public static double Sum<TOp>(TOp op, float* x, int length) where TOp : struct, IUnaryOperator
    {
        if (Vector512.IsHardwareAccelerated && length >= Vector512<float>.Count) return Sum<TOp, Width512, Vector512<float>, Vector512<double>>(op, x, length);
        if (Vector256.IsHardwareAccelerated && length >= Vector256<float>.Count) return Sum<TOp, Width256, Vector256<float>, Vector256<double>>(op, x, length);
        if (Vector128.IsHardwareAccelerated && length >= Vector128<float>.Count) return Sum<TOp, Width128, Vector128<float>, Vector128<double>>(op, x, length);
        return Sum<TOp, Width1, float, double>(op, x, length);
    }

    static double Sum<TOp, TW, TV, TD>(TOp op, float* x, int length)
        where TOp : struct, IUnaryFunction<TV> where TW : IVectorWidth<TV, TD> where TV : unmanaged where TD : unmanaged
    {
        int count = TW.Count, i = 0;
        TD sum0 = TW.Zero, sum1 = TW.Zero;
        for (; i <= length - 2 * count; i += 2 * count)
        {
            sum0 = TW.AddWidened(sum0, op.Invoke(TW.Load(x + i)));
            sum1 = TW.AddWidened(sum1, op.Invoke(TW.Load(x + i + count)));
        }
        if (i <= length - count)
        {
            sum0 = TW.AddWidened(sum0, op.Invoke(TW.Load(x + i)));
            i += count;
        }
        if (i < length) sum1 = TW.AddWidened(sum1, TW.KeepLast(op.Invoke(TW.Load(x + length - count)), length - i));
        return TW.Sum(TW.Add(sum0, sum1));
    }

    /// <summary>Sum over i of op(x[i], y[i]), accumulated in double.</summary>
    public static double Sum<TOp>(TOp op, float* x, float* y, int length) where TOp : struct, IBinaryOperator
    {
        if (Vector512.IsHardwareAccelerated && length >= Vector512<float>.Count) return Sum<TOp, Width512, Vector512<float>, Vector512<double>>(op, x, y, length);
        if (Vector256.IsHardwareAccelerated && length >= Vector256<float>.Count) return Sum<TOp, Width256, Vector256<float>, Vector256<double>>(op, x, y, length);
        if (Vector128.IsHardwareAccelerated && length >= Vector128<float>.Count) return Sum<TOp, Width128, Vector128<float>, Vector128<double>>(op, x, y, length);
        return Sum<TOp, Width1, float, double>(op, x, y, length);
    }

    static double Sum<TOp, TW, TV, TD>(TOp op, float* x, float* y, int length)
        where TOp : struct, IBinaryFunction<TV> where TW : IVectorWidth<TV, TD> where TV : unmanaged where TD : unmanaged
    {
        int count = TW.Count, i = 0;
        TD sum0 = TW.Zero, sum1 = TW.Zero;
        for (; i <= length - 2 * count; i += 2 * count)
        {
            sum0 = TW.AddWidened(sum0, op.Invoke(TW.Load(x + i), TW.Load(y + i)));
            sum1 = TW.AddWidened(sum1, op.Invoke(TW.Load(x + i + count), TW.Load(y + i + count)));
        }
        if (i <= length - count)
        {
            sum0 = TW.AddWidened(sum0, op.Invoke(TW.Load(x + i), TW.Load(y + i)));
            i += count;
        }
        if (i < length)
        {
            int start = length - count;
            sum1 = TW.AddWidened(sum1, TW.KeepLast(op.Invoke(TW.Load(x + start), TW.Load(y + start)), length - i));
        }
        return TW.Sum(TW.Add(sum0, sum1));
    }

    /// <summary>Sum over i of op(x[i], y[i], z[i]), accumulated in double.</summary>
    public static double Sum<TOp>(TOp op, float* x, float* y, float* z, int length) where TOp : struct, ITernaryOperator
    {
        if (Vector512.IsHardwareAccelerated && length >= Vector512<float>.Count) return Sum<TOp, Width512, Vector512<float>, Vector512<double>>(op, x, y, z, length);
        if (Vector256.IsHardwareAccelerated && length >= Vector256<float>.Count) return Sum<TOp, Width256, Vector256<float>, Vector256<double>>(op, x, y, z, length);
        if (Vector128.IsHardwareAccelerated && length >= Vector128<float>.Count) return Sum<TOp, Width128, Vector128<float>, Vector128<double>>(op, x, y, z, length);
        return Sum<TOp, Width1, float, double>(op, x, y, z, length);
    }

    static double Sum<TOp, TW, TV, TD>(TOp op, float* x, float* y, float* z, int length)
        where TOp : struct, ITernaryFunction<TV> where TW : IVectorWidth<TV, TD> where TV : unmanaged where TD : unmanaged
    {
        int count = TW.Count, i = 0;
        TD sum0 = TW.Zero, sum1 = TW.Zero;
        for (; i <= length - 2 * count; i += 2 * count)
        {
            sum0 = TW.AddWidened(sum0, op.Invoke(TW.Load(x + i), TW.Load(y + i), TW.Load(z + i)));
            sum1 = TW.AddWidened(sum1, op.Invoke(TW.Load(x + i + count), TW.Load(y + i + count), TW.Load(z + i + count)));
        }
        if (i <= length - count)
        {
            sum0 = TW.AddWidened(sum0, op.Invoke(TW.Load(x + i), TW.Load(y + i), TW.Load(z + i)));
            i += count;
        }
        if (i < length)
        {
            int start = length - count;
            sum1 = TW.AddWidened(sum1, TW.KeepLast(op.Invoke(TW.Load(x + start), TW.Load(y + start), TW.Load(z + start)), length - i));
        }
        return TW.Sum(TW.Add(sum0, sum1));
    }

    /// <summary>Sum over i of op(x[i], y[i], z[i], w[i]), accumulated in double.</summary>
    public static double Sum<TOp>(TOp op, float* x, float* y, float* z, float* w, int length) where TOp : struct, IQuaternaryOperator
    {
        if (Vector512.IsHardwareAccelerated && length >= Vector512<float>.Count) return Sum<TOp, Width512, Vector512<float>, Vector512<double>>(op, x, y, z, w, length);
        if (Vector256.IsHardwareAccelerated && length >= Vector256<float>.Count) return Sum<TOp, Width256, Vector256<float>, Vector256<double>>(op, x, y, z, w, length);
        if (Vector128.IsHardwareAccelerated && length >= Vector128<float>.Count) return Sum<TOp, Width128, Vector128<float>, Vector128<double>>(op, x, y, z, w, length);
        return Sum<TOp, Width1, float, double>(op, x, y, z, w, length);
    }

    static double Sum<TOp, TW, TV, TD>(TOp op, float* x, float* y, float* z, float* w, int length)
        where TOp : struct, IQuaternaryFunction<TV> where TW : IVectorWidth<TV, TD> where TV : unmanaged where TD : unmanaged
    {
        int count = TW.Count, i = 0;
        TD sum0 = TW.Zero, sum1 = TW.Zero;
        for (; i <= length - 2 * count; i += 2 * count)
        {
            sum0 = TW.AddWidened(sum0, op.Invoke(TW.Load(x + i), TW.Load(y + i), TW.Load(z + i), TW.Load(w + i)));
            int j = i + count;
            sum1 = TW.AddWidened(sum1, op.Invoke(TW.Load(x + j), TW.Load(y + j), TW.Load(z + j), TW.Load(w + j)));
        }
        if (i <= length - count)
        {
            sum0 = TW.AddWidened(sum0, op.Invoke(TW.Load(x + i), TW.Load(y + i), TW.Load(z + i), TW.Load(w + i)));
            i += count;
        }
        if (i < length)
        {
            int start = length - count;
            sum1 = TW.AddWidened(sum1, TW.KeepLast(op.Invoke(TW.Load(x + start), TW.Load(y + start), TW.Load(z + start), TW.Load(w + start)), length - i));
        }
        return TW.Sum(TW.Add(sum0, sum1));
    }

    /// <summary>Sum of x[i]^2, squared and accumulated in double.</summary>
    public static double SumOfSquares(float* x, int length)
    {
        if (Vector512.IsHardwareAccelerated && length >= Vector512<float>.Count) return SumOfSquares<Width512, Vector512<float>, Vector512<double>>(x, length);
        if (Vector256.IsHardwareAccelerated && length >= Vector256<float>.Count) return SumOfSquares<Width256, Vector256<float>, Vector256<double>>(x, length);
        if (Vector128.IsHardwareAccelerated && length >= Vector128<float>.Count) return SumOfSquares<Width128, Vector128<float>, Vector128<double>>(x, length);
        return SumOfSquares<Width1, float, double>(x, length);
    }

    static double SumOfSquares<TW, TV, TD>(float* x, int length) where TW : IVectorWidth<TV, TD> where TV : unmanaged where TD : unmanaged
    {
        int count = TW.Count, i = 0;
        TD sum0 = TW.Zero, sum1 = TW.Zero;
        for (; i <= length - 2 * count; i += 2 * count)
        {
            sum0 = TW.AddSquaresWidened(sum0, TW.Load(x + i));
            sum1 = TW.AddSquaresWidened(sum1, TW.Load(x + i + count));
        }
        if (i <= length - count)
        {
            sum0 = TW.AddSquaresWidened(sum0, TW.Load(x + i));
            i += count;
        }
        if (i < length) sum1 = TW.AddSquaresWidened(sum1, TW.KeepLast(TW.Load(x + length - count), length - i));
        return TW.Sum(TW.Add(sum0, sum1));
    }

    /// <summary>Sum of (a[i] - b[i])^2, subtracted, squared and accumulated in double.</summary>
    public static double SquaredDistance(float* a, float* b, int length)
    {
        if (Vector512.IsHardwareAccelerated && length >= Vector512<float>.Count) return SquaredDistance<Width512, Vector512<float>, Vector512<double>>(a, b, length);
        if (Vector256.IsHardwareAccelerated && length >= Vector256<float>.Count) return SquaredDistance<Width256, Vector256<float>, Vector256<double>>(a, b, length);
        if (Vector128.IsHardwareAccelerated && length >= Vector128<float>.Count) return SquaredDistance<Width128, Vector128<float>, Vector128<double>>(a, b, length);
        return SquaredDistance<Width1, float, double>(a, b, length);
    }

    static double SquaredDistance<TW, TV, TD>(float* a, float* b, int length) where TW : IVectorWidth<TV, TD> where TV : unmanaged where TD : unmanaged
    {
        int count = TW.Count, i = 0;
        TD sum0 = TW.Zero, sum1 = TW.Zero;
        for (; i <= length - 2 * count; i += 2 * count)
        {
            sum0 = TW.AddSquaredDifferencesWidened(sum0, TW.Load(a + i), TW.Load(b + i));
            sum1 = TW.AddSquaredDifferencesWidened(sum1, TW.Load(a + i + count), TW.Load(b + i + count));
        }
        if (i <= length - count)
        {
            sum0 = TW.AddSquaredDifferencesWidened(sum0, TW.Load(a + i), TW.Load(b + i));
            i += count;
        }
        if (i < length)
        {
            // Lanes already counted get equal values (both masked to zero), so they add nothing.
            int start = length - count, lanes = length - i;
            sum1 = TW.AddSquaredDifferencesWidened(sum1, TW.KeepLast(TW.Load(a + start), lanes), TW.KeepLast(TW.Load(b + start), lanes));
        }
        return TW.Sum(TW.Add(sum0, sum1));
    }

    /// <summary>True when some x[i] is infinite or NaN.</summary>
    public static bool AnyNonFinite(float* x, int length)
    {
        if (Vector512.IsHardwareAccelerated && length >= Vector512<float>.Count) return AnyNonFinite<Width512, Vector512<float>, Vector512<double>>(x, length);
        if (Vector256.IsHardwareAccelerated && length >= Vector256<float>.Count) return AnyNonFinite<Width256, Vector256<float>, Vector256<double>>(x, length);
        if (Vector128.IsHardwareAccelerated && length >= Vector128<float>.Count) return AnyNonFinite<Width128, Vector128<float>, Vector128<double>>(x, length);
        return length > 0 && AnyNonFinite<Width1, float, double>(x, length);
    }

    static bool AnyNonFinite<TW, TV, TD>(float* x, int length) where TW : IVectorWidth<TV, TD> where TV : unmanaged where TD : unmanaged
    {
        int count = TW.Count, last = length - count;
        for (int i = 0; i < last; i += count)
        {
            if (TW.AnyNonFinite(TW.Load(x + i))) return true;
        }
        return TW.AnyNonFinite(TW.Load(x + last));   // overlapping last vector: re-reading counted lanes is harmless
    }

    // ------------------------------------------------------------------------------------------------ columns

    /// <summary>
    /// columnSums[c] += sum over r of x[r * stride + c] for c in [0, cols), each column accumulated in double in row order.
    /// x is (rows, stride) with cols &lt;= stride.
    /// </summary>
    public static void AddColumnSums(float* x, float* columnSums, int rows, int cols, int stride)
    {
        if (Vector512.IsHardwareAccelerated && cols >= Vector512<float>.Count) AddColumnSums<Width512, Vector512<float>, Vector512<double>>(x, columnSums, rows, cols, stride);
        else if (Vector256.IsHardwareAccelerated && cols >= Vector256<float>.Count) AddColumnSums<Width256, Vector256<float>, Vector256<double>>(x, columnSums, rows, cols, stride);
        else if (Vector128.IsHardwareAccelerated && cols >= Vector128<float>.Count) AddColumnSums<Width128, Vector128<float>, Vector128<double>>(x, columnSums, rows, cols, stride);
        else if (cols > 0) AddColumnSums<Width1, float, double>(x, columnSums, rows, cols, stride);
    }

    static void AddColumnSums<TW, TV, TD>(float* x, float* columnSums, int rows, int cols, int stride)
        where TW : IVectorWidth<TV, TD> where TV : unmanaged where TD : unmanaged
    {
        int count = TW.Count, c = 0;
        for (; c <= cols - count; c += count)
        {
            TW.Store(columnSums + c, SumColumnStripe<TW, TV, TD>(x + c, columnSums + c, rows, stride));
        }
        if (c < cols)
        {
            // Overlapping last stripe: only its last (cols - c) lanes are new; the others keep the value just stored.
            int start = cols - count;
            TV old = TW.Load(columnSums + start);
            TW.Store(columnSums + start, TW.BlendLast(old, SumColumnStripe<TW, TV, TD>(x + start, columnSums + start, rows, stride), cols - c));
        }
    }

    /// <summary>columnSums[0..Count) + the sums over rows of x[r * stride + 0..Count), in double, rounded once.</summary>
    static TV SumColumnStripe<TW, TV, TD>(float* x, float* columnSums, int rows, int stride)
        where TW : IVectorWidth<TV, TD> where TV : unmanaged where TD : unmanaged
    {
        // Two accumulator pairs (even and odd rows) hide the latency of the double adds.
        TV initial = TW.Load(columnSums);
        TD lowerEven = TW.WidenLower(initial), upperEven = TW.WidenUpper(initial), lowerOdd = TW.Zero, upperOdd = TW.Zero;
        int r = 0;
        for (; r + 1 < rows; r += 2)
        {
            TV even = TW.Load(x + (long)r * stride);
            TV odd = TW.Load(x + (long)(r + 1) * stride);
            lowerEven = TW.Add(lowerEven, TW.WidenLower(even));
            upperEven = TW.Add(upperEven, TW.WidenUpper(even));
            lowerOdd = TW.Add(lowerOdd, TW.WidenLower(odd));
            upperOdd = TW.Add(upperOdd, TW.WidenUpper(odd));
        }
        if (r < rows)
        {
            TV row = TW.Load(x + (long)r * stride);
            lowerEven = TW.Add(lowerEven, TW.WidenLower(row));
            upperEven = TW.Add(upperEven, TW.WidenUpper(row));
        }
        return TW.Narrow(TW.Add(lowerEven, lowerOdd), TW.Add(upperEven, upperOdd));
    }
}
