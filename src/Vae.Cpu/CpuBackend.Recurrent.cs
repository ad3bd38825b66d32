// The LSTM cell's time step, forward and backward, one row of the batch per piece of work. The forward is TensorPrimitives
// calls over a row's gate blocks (sigmoid over i and f together, tanh over g, sigmoid over o, then c and h); the backward
// takes tanh(c) in chunks into a stack buffer and applies the fused gradient operator (Operators/RecurrentOperators.cs).
// A padding row (step >= lengths[r]) copies its state through and writes zeros.
using System.Numerics.Tensors;
using Vae.Cpu.Operators;
using Vae.Cpu.Threading;

namespace Vae.Cpu;

public sealed unsafe partial class CpuBackend
{
    /// <summary>Columns of one backward chunk: tanh(c) for them lives on the stack.</summary>
    const int LstmChunk = 256;

    /// <summary>Work per hidden unit of a forward step: three sigmoids and two tanh.</summary>
    const int LstmForwardCost = 5 * RangeWork.TranscendentalCost;

    /// <summary>Work per hidden unit of a backward step: one tanh and about twenty multiplies and adds.</summary>
    const int LstmBackwardCost = 2 * RangeWork.TranscendentalCost;

    public void LstmCellForward(DeviceSpan<float> gates, DeviceSpan<float> cPrev, DeviceSpan<float> hPrev, DeviceSpan<int> lengths,
        DeviceSpan<float> activated, DeviceSpan<float> c, DeviceSpan<float> h, DeviceSpan<float> y, int rows, int hidden, int yStride, int step)
    {
        BackendChecks.LstmCellForward(this, gates, cPrev, hPrev, lengths, activated, c, h, y, rows, hidden, yStride, step);
        if (hidden == 0) return;
        var kernel = new LstmForwardKernel(Ptr(gates), Ptr(cPrev), Ptr(hPrev), lengths.IsNull ? null : Ptr(lengths),
            Ptr(activated), Ptr(c), Ptr(h), y.IsNull ? null : Ptr(y), hidden, yStride, step);
        RangeWork.RunRows(Pool, kernel, rows, hidden, LstmForwardCost);
    }

    public void LstmCellBackward(DeviceSpan<float> activated, DeviceSpan<float> cPrev, DeviceSpan<float> c, DeviceSpan<int> lengths,
        DeviceSpan<float> dy, DeviceSpan<float> dhNext, DeviceSpan<float> dcNext, DeviceSpan<float> dGates, DeviceSpan<float> dhPrev, DeviceSpan<float> dcPrev,
        int rows, int hidden, int dyStride, int step)
    {
        BackendChecks.LstmCellBackward(this, activated, cPrev, c, lengths, dy, dhNext, dcNext, dGates, dhPrev, dcPrev, rows, hidden, dyStride, step);
        if (hidden == 0) return;
        var kernel = new LstmBackwardKernel(Ptr(activated), Ptr(cPrev), Ptr(c), lengths.IsNull ? null : Ptr(lengths), dy.IsNull ? null : Ptr(dy),
            Ptr(dhNext), Ptr(dcNext), Ptr(dGates), Ptr(dhPrev), Ptr(dcPrev), hidden, dyStride, step);
        RangeWork.RunRows(Pool, kernel, rows, hidden, LstmBackwardCost);
    }

    /// <summary>Rows [start, start + count) of one LSTM forward step; lengths and y may be null (no mask, no output).</summary>
    readonly struct LstmForwardKernel(float* gates, float* cPrev, float* hPrev, int* lengths, float* activated, float* c, float* h, float* y,
        int hidden, int yStride, int step) : IRangeKernel
    {
        public void Execute(int start, int count)
        {
            for (int r = start; r < start + count; r++)
            {
                long s = (long)r * hidden, g = 4 * s;
                var cRow = new Span<float>(c + s, hidden);
                var hRow = new Span<float>(h + s, hidden);
                var yRow = y == null ? default : new Span<float>(y + (long)r * yStride, hidden);
                if (lengths != null && step >= lengths[r])
                {
                    new Span<float>(activated + g, 4 * hidden).Clear();
                    new ReadOnlySpan<float>(cPrev + s, hidden).CopyTo(cRow);
                    new ReadOnlySpan<float>(hPrev + s, hidden).CopyTo(hRow);
                    yRow.Clear();
                    continue;
                }
                // activated may be gates (in place): each TensorPrimitives call reads a block before it writes the same block.
                TensorPrimitives.Sigmoid(new ReadOnlySpan<float>(gates + g, 2 * hidden), new Span<float>(activated + g, 2 * hidden));
                TensorPrimitives.Tanh(new ReadOnlySpan<float>(gates + g + 2 * hidden, hidden), new Span<float>(activated + g + 2 * hidden, hidden));
                TensorPrimitives.Sigmoid(new ReadOnlySpan<float>(gates + g + 3 * hidden, hidden), new Span<float>(activated + g + 3 * hidden, hidden));
                var i = new ReadOnlySpan<float>(activated + g, hidden);
                var f = new ReadOnlySpan<float>(activated + g + hidden, hidden);
                var cell = new ReadOnlySpan<float>(activated + g + 2 * hidden, hidden);
                var o = new ReadOnlySpan<float>(activated + g + 3 * hidden, hidden);
                // c = f cPrev + i g; h = o tanh(c)
                TensorPrimitives.Multiply(i, cell, cRow);
                TensorPrimitives.FusedMultiplyAdd(f, new ReadOnlySpan<float>(cPrev + s, hidden), cRow, cRow);
                TensorPrimitives.Tanh(cRow, hRow);
                TensorPrimitives.Multiply(hRow, o, hRow);
                if (y != null) hRow.CopyTo(yRow);
            }
        }
    }

    /// <summary>Rows [start, start + count) of one LSTM backward step; lengths and dy may be null (no mask, no output gradient).</summary>
    readonly struct LstmBackwardKernel(float* activated, float* cPrev, float* c, int* lengths, float* dy, float* dhNext, float* dcNext,
        float* dGates, float* dhPrev, float* dcPrev, int hidden, int dyStride, int step) : IRangeKernel
    {
        public void Execute(int start, int count)
        {
            float* tc = stackalloc float[LstmChunk];
            for (int r = start; r < start + count; r++)
            {
                long s = (long)r * hidden, g = 4 * s;
                var dhPrevRow = new Span<float>(dhPrev + s, hidden);
                if (lengths != null && step >= lengths[r])
                {
                    // Padding: the state passed through, so do its gradients; the gates had no effect.
                    new Span<float>(dGates + g, 4 * hidden).Clear();
                    new ReadOnlySpan<float>(dcNext + s, hidden).CopyTo(new Span<float>(dcPrev + s, hidden));
                    new ReadOnlySpan<float>(dhNext + s, hidden).CopyTo(dhPrevRow);
                    continue;
                }
                float* dyRow = dy == null ? null : dy + (long)r * dyStride;
                for (int first = 0; first < hidden; first += LstmChunk)
                {
                    int width = Math.Min(LstmChunk, hidden - first);
                    TensorPrimitives.Tanh(new ReadOnlySpan<float>(c + s + first, width), new Span<float>(tc, width));
                    RecurrentLoops.LstmCellGradient(new LstmCellGradientOperator(), activated + g + first, cPrev + s + first, tc, dhNext + s + first,
                        dyRow == null ? null : dyRow + first, dcNext + s + first, dGates + g + first, dcPrev + s + first, hidden, width);
                }
                // h fed the gates only: the caller adds dGates W_hh. Cleared after the loop, which read dhNext (it may be dhPrev).
                dhPrevRow.Clear();
            }
        }
    }
}
