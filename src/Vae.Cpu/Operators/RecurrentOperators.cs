// The LSTM cell backward as one fused operator (the forward is TensorPrimitives calls per row, CpuBackend.Recurrent.cs):
// from the activated gates i, f, g, o, cPrev, tanh(c) and the incoming gradients dh, dcNext it gives the four gate
// pre-activation gradients and dcPrev, one overload per width, and the loop that applies it across one chunk of a row.
// The loop computes the overlapping last vector before storing anything, so dGates may be the activated gates and
// dcPrev may be dcNext (in place).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Vae.Cpu.Operators;

/// <summary>(i, f, g, o, cPrev, tc, dhNext, dy, dcNext) -> (dI, dF, dG, dO, dcPrev) of one LSTM step (tc = tanh(c), dh = dhNext + dy).</summary>
internal interface ILstmCellGradientFunction<T>
{
    void Invoke(T i, T f, T g, T o, T cPrev, T tc, T dhNext, T dy, T dcNext, out T dI, out T dF, out T dG, out T dO, out T dcPrev);
}

internal interface ILstmCellGradientOperator :
    ILstmCellGradientFunction<float>, ILstmCellGradientFunction<Vector128<float>>,
    ILstmCellGradientFunction<Vector256<float>>, ILstmCellGradientFunction<Vector512<float>>
{
}

/// <summary>
/// dh = dhNext + dy; dc = dcNext + dh o (1 - tc^2); dI = dc g i (1 - i); dF = dc cPrev f (1 - f); dG = dc i (1 - g^2); dO = dh tc o (1 - o);
/// dcPrev = dc f.
/// </summary>
internal readonly struct LstmCellGradientOperator : ILstmCellGradientOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(float i, float f, float g, float o, float cPrev, float tc, float dhNext, float dy, float dcNext,
        out float dI, out float dF, out float dG, out float dO, out float dcPrev)
    {
        float dh = dhNext + dy;
        float dc = dcNext + dh * o * (1f - tc * tc);
        dI = dc * g * (i * (1f - i));
        dF = dc * cPrev * (f * (1f - f));
        dG = dc * i * (1f - g * g);
        dO = dh * tc * (o * (1f - o));
        dcPrev = dc * f;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(Vector128<float> i, Vector128<float> f, Vector128<float> g, Vector128<float> o, Vector128<float> cPrev, Vector128<float> tc,
        Vector128<float> dhNext, Vector128<float> dy, Vector128<float> dcNext,
        out Vector128<float> dI, out Vector128<float> dF, out Vector128<float> dG, out Vector128<float> dO, out Vector128<float> dcPrev)
    {
        var dh = dhNext + dy;
        var one = Vector128<float>.One;
        var dc = dcNext + dh * o * (one - tc * tc);
        dI = dc * g * (i * (one - i));
        dF = dc * cPrev * (f * (one - f));
        dG = dc * i * (one - g * g);
        dO = dh * tc * (o * (one - o));
        dcPrev = dc * f;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(Vector256<float> i, Vector256<float> f, Vector256<float> g, Vector256<float> o, Vector256<float> cPrev, Vector256<float> tc,
        Vector256<float> dhNext, Vector256<float> dy, Vector256<float> dcNext,
        out Vector256<float> dI, out Vector256<float> dF, out Vector256<float> dG, out Vector256<float> dO, out Vector256<float> dcPrev)
    {
        var dh = dhNext + dy;
        var one = Vector256<float>.One;
        var dc = dcNext + dh * o * (one - tc * tc);
        dI = dc * g * (i * (one - i));
        dF = dc * cPrev * (f * (one - f));
        dG = dc * i * (one - g * g);
        dO = dh * tc * (o * (one - o));
        dcPrev = dc * f;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(Vector512<float> i, Vector512<float> f, Vector512<float> g, Vector512<float> o, Vector512<float> cPrev, Vector512<float> tc,
        Vector512<float> dhNext, Vector512<float> dy, Vector512<float> dcNext,
        out Vector512<float> dI, out Vector512<float> dF, out Vector512<float> dG, out Vector512<float> dO, out Vector512<float> dcPrev)
    {
        var dh = dhNext + dy;
        var one = Vector512<float>.One;
        var dc = dcNext + dh * o * (one - tc * tc);
        dI = dc * g * (i * (one - i));
        dF = dc * cPrev * (f * (one - f));
        dG = dc * i * (one - g * g);
        dO = dh * tc * (o * (one - o));
        dcPrev = dc * f;
    }
}

internal static unsafe class RecurrentLoops
{
    /// <summary>
    /// One chunk of <paramref name="length"/> columns of one row: activated and dGates point at the chunk's columns of the i
    /// block, whose f, g, o blocks follow <paramref name="hidden"/> floats apart; cPrev, tc, dhNext, dcNext, dcPrev point at
    /// the same columns of (rows, hidden) rows; dy is null (no output gradient) or the chunk's columns of the output gradient.
    /// dh = dhNext + dy. dGates may be activated and dcPrev may be dcNext.
    /// </summary>
    public static void LstmCellGradient<TOp>(TOp op, float* activated, float* cPrev, float* tc, float* dhNext, float* dy, float* dcNext,
        float* dGates, float* dcPrev, int hidden, int length) where TOp : struct, ILstmCellGradientOperator
    {
        if (Vector512.IsHardwareAccelerated && length >= Vector512<float>.Count)
            LstmCellGradient<TOp, Width512, Vector512<float>, Vector512<double>>(op, activated, cPrev, tc, dhNext, dy, dcNext, dGates, dcPrev, hidden, length);
        else if (Vector256.IsHardwareAccelerated && length >= Vector256<float>.Count)
            LstmCellGradient<TOp, Width256, Vector256<float>, Vector256<double>>(op, activated, cPrev, tc, dhNext, dy, dcNext, dGates, dcPrev, hidden, length);
        else if (Vector128.IsHardwareAccelerated && length >= Vector128<float>.Count)
            LstmCellGradient<TOp, Width128, Vector128<float>, Vector128<double>>(op, activated, cPrev, tc, dhNext, dy, dcNext, dGates, dcPrev, hidden, length);
        else if (length > 0)
            LstmCellGradient<TOp, Width1, float, double>(op, activated, cPrev, tc, dhNext, dy, dcNext, dGates, dcPrev, hidden, length);
    }

    static void LstmCellGradient<TOp, TW, TV, TD>(TOp op, float* activated, float* cPrev, float* tc, float* dhNext, float* dy, float* dcNext,
        float* dGates, float* dcPrev, int hidden, int length)
        where TOp : struct, ILstmCellGradientFunction<TV> where TW : IVectorWidth<TV, TD> where TV : unmanaged where TD : unmanaged
    {
        int count = TW.Count, last = length - count;
        Step<TOp, TW, TV, TD>(op, activated, cPrev, tc, dhNext, dy, dcNext, hidden, last,
            out TV endI, out TV endF, out TV endG, out TV endO, out TV endC);
        for (int p = 0; p < last; p += count)
        {
            Step<TOp, TW, TV, TD>(op, activated, cPrev, tc, dhNext, dy, dcNext, hidden, p, out TV dI, out TV dF, out TV dG, out TV dO, out TV dC);
            Store<TW, TV, TD>(dGates, dcPrev, hidden, p, dI, dF, dG, dO, dC);
        }
        Store<TW, TV, TD>(dGates, dcPrev, hidden, last, endI, endF, endG, endO, endC);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Step<TOp, TW, TV, TD>(TOp op, float* activated, float* cPrev, float* tc, float* dhNext, float* dy, float* dcNext, int hidden, int p,
        out TV dI, out TV dF, out TV dG, out TV dO, out TV dC)
        where TOp : struct, ILstmCellGradientFunction<TV> where TW : IVectorWidth<TV, TD> where TV : unmanaged where TD : unmanaged
    {
        TV gradient = dy != null ? TW.Load(dy + p) : TW.Broadcast(0f);
        op.Invoke(TW.Load(activated + p), TW.Load(activated + hidden + p), TW.Load(activated + 2 * hidden + p), TW.Load(activated + 3 * hidden + p),
            TW.Load(cPrev + p), TW.Load(tc + p), TW.Load(dhNext + p), gradient, TW.Load(dcNext + p), out dI, out dF, out dG, out dO, out dC);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store<TW, TV, TD>(float* dGates, float* dcPrev, int hidden, int p, TV dI, TV dF, TV dG, TV dO, TV dC)
        where TW : IVectorWidth<TV, TD> where TV : unmanaged where TD : unmanaged
    {
        TW.Store(dGates + p, dI);
        TW.Store(dGates + hidden + p, dF);
        TW.Store(dGates + 2 * hidden + p, dG);
        TW.Store(dGates + 3 * hidden + p, dO);
        TW.Store(dcPrev + p, dC);
    }
}
