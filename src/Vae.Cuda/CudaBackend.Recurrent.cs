// Recurrent launchers: one LSTM time step forward and backward (kernels/recurrent.ptx), each a grid-stride loop over the
// rows * hidden state elements, one thread owning an element's four gate columns. The mask's lengths, the output y and
// its gradient dy may be null views: the kernels get 0 and skip them.
using Vae.Cuda.Device;

namespace Vae.Cuda;

public sealed partial class CudaBackend
{
    public void LstmCellForward(DeviceSpan<float> gates, DeviceSpan<float> cPrev, DeviceSpan<float> hPrev, DeviceSpan<int> lengths,
        DeviceSpan<float> activated, DeviceSpan<float> c, DeviceSpan<float> h, DeviceSpan<float> y, int rows, int hidden, int yStride, int step)
    {
        BackendChecks.LstmCellForward(this, gates, cPrev, hPrev, lengths, activated, c, h, y, rows, hidden, yStride, step);
        int total = rows * hidden;   // c holds it, so it fits in an int
        if (total == 0) return;
        Arg(gates); Arg(cPrev); Arg(hPrev); Arg(lengths); Arg(activated); Arg(c); Arg(h); Arg(y);
        Arg(hidden); Arg(y.IsNull ? 0 : yStride); Arg(step); Arg(total);
        Launch("recurrent_lstm_cell_forward", StrideGrid(total), new LaunchDims(BlockSize));
    }

    public void LstmCellBackward(DeviceSpan<float> activated, DeviceSpan<float> cPrev, DeviceSpan<float> c, DeviceSpan<int> lengths,
        DeviceSpan<float> dy, DeviceSpan<float> dhNext, DeviceSpan<float> dcNext, DeviceSpan<float> dGates, DeviceSpan<float> dhPrev, DeviceSpan<float> dcPrev,
        int rows, int hidden, int dyStride, int step)
    {
        BackendChecks.LstmCellBackward(this, activated, cPrev, c, lengths, dy, dhNext, dcNext, dGates, dhPrev, dcPrev, rows, hidden, dyStride, step);
        int total = rows * hidden;
        if (total == 0) return;
        Arg(activated); Arg(cPrev); Arg(c); Arg(lengths); Arg(dy); Arg(dhNext); Arg(dcNext); Arg(dGates); Arg(dhPrev); Arg(dcPrev);
        Arg(hidden); Arg(dy.IsNull ? 0 : dyStride); Arg(step); Arg(total);
        Launch("recurrent_lstm_cell_backward", StrideGrid(total), new LaunchDims(BlockSize));
    }
}
