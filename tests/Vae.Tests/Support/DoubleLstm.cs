// An independent double-precision LSTM for the layer tests, written per sequence the way PyTorch runs a packed batch
// (not with masks like Nn/Lstm): sequence b runs its first lengths[b] steps forward from its initial state, and, when
// bidirectional, those same steps backward from its own initial state; outputs past its length are 0, h_n and c_n are
// the states after its last processed step. Gates in PyTorch's order i, f, g, o; parameters by nn.LSTM's names.
namespace Vae.Tests.Support;

public sealed class DoubleLstm(int inputSize, int hiddenSize, int layers, bool bidirectional)
{
    public int Directions { get; } = bidirectional ? 2 : 1;

    /// <summary>
    /// x (steps, batch, input), lengths (batch) or null (all steps), h0 and c0 (layers directions, batch, hidden) or null
    /// (zeros) -> output (steps, batch, directions hidden), h_n and c_n (layers directions, batch, hidden).
    /// </summary>
    public (double[] Output, double[] HN, double[] CN) Forward(IReadOnlyDictionary<string, double[]> p, double[] x, int[]? lengths,
        double[]? h0, double[]? c0, int steps, int batch)
    {
        int h = hiddenSize, width = Directions * h;
        var hN = new double[layers * Directions * batch * h];
        var cN = new double[hN.Length];
        var layerInput = x;
        int inWidth = inputSize;
        double[] output = [];
        for (int l = 0; l < layers; l++)
        {
            output = new double[steps * batch * width];
            for (int d = 0; d < Directions; d++)
            {
                string suffix = $"_l{l}{(d == 1 ? "_reverse" : "")}";
                var wIh = p["weight_ih" + suffix];
                var wHh = p["weight_hh" + suffix];
                var bIh = p["bias_ih" + suffix];
                var bHh = p["bias_hh" + suffix];
                int k = l * Directions + d;
                for (int b = 0; b < batch; b++)
                {
                    var hState = new double[h];
                    var cState = new double[h];
                    for (int j = 0; j < h; j++)
                    {
                        hState[j] = h0 is null ? 0 : h0[(k * batch + b) * h + j];
                        cState[j] = c0 is null ? 0 : c0[(k * batch + b) * h + j];
                    }
                    int length = lengths is null ? steps : lengths[b];
                    for (int i = 0; i < length; i++)
                    {
                        int t = d == 0 ? i : length - 1 - i;
                        var z = new double[4 * h];
                        for (int g = 0; g < 4 * h; g++)
                        {
                            double s = bIh[g] + bHh[g];
                            for (int q = 0; q < inWidth; q++) s += wIh[g * inWidth + q] * layerInput[(t * batch + b) * inWidth + q];
                            for (int q = 0; q < h; q++) s += wHh[g * h + q] * hState[q];
                            z[g] = s;
                        }
                        for (int j = 0; j < h; j++)
                        {
                            double ig = Sigmoid(z[j]), fg = Sigmoid(z[h + j]), gg = Math.Tanh(z[2 * h + j]), og = Sigmoid(z[3 * h + j]);
                            cState[j] = fg * cState[j] + ig * gg;
                            hState[j] = og * Math.Tanh(cState[j]);
                        }
                        for (int j = 0; j < h; j++) output[(t * batch + b) * width + d * h + j] = hState[j];
                    }
                    for (int j = 0; j < h; j++)
                    {
                        hN[(k * batch + b) * h + j] = hState[j];
                        cN[(k * batch + b) * h + j] = cState[j];
                    }
                }
            }
            layerInput = output;
            inWidth = width;
        }
        return (output, hN, cN);
    }

    /// <summary>sum wY output + sum wH h_n + sum wC c_n: the objective the layer tests differentiate.</summary>
    public double Objective(IReadOnlyDictionary<string, double[]> p, double[] x, int[]? lengths, double[]? h0, double[]? c0, int steps, int batch,
        double[] wY, double[] wH, double[] wC)
    {
        var (output, hN, cN) = Forward(p, x, lengths, h0, c0, steps, batch);
        double sum = 0;
        for (int i = 0; i < output.Length; i++) sum += wY[i] * output[i];
        for (int i = 0; i < hN.Length; i++) sum += wH[i] * hN[i] + wC[i] * cN[i];
        return sum;
    }

    static double Sigmoid(double v) => v >= 0 ? 1 / (1 + Math.Exp(-v)) : Math.Exp(v) / (1 + Math.Exp(v));
}
