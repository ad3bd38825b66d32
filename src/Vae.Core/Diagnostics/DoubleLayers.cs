// The building block of the double-precision oracles (DoubleVaeLoss here; the tests' DoubleHvae, DoubleCvae and
// DoubleVqVae): Linear layers read by their PyTorch state_dict names from a double copy of a model's flat parameters,
// written as plain loops, and stacks of them with ReLU. Every call reads Parameters afresh, so a caller can perturb it
// for finite differences.
using Vae.Models;

namespace Vae.Diagnostics;

public sealed class DoubleLayers(IReadOnlyList<NamedTensor> tensors, float[] parameters)
{
    readonly Dictionary<string, NamedTensor> byName = tensors.ToDictionary(t => t.Name);

    /// <summary>The flat parameters as doubles (indexed by the named tensors' offsets).</summary>
    public double[] Parameters { get; } = parameters.Select(v => (double)v).ToArray();

    /// <summary>The named tensor <paramref name="name"/> (e.g. "codebook.weight").</summary>
    public NamedTensor this[string name] => byName[name];

    /// <summary>y (rows, outF) = x (rows, inF) W^T + b of the layer "NAME.weight" (outF, inF), "NAME.bias".</summary>
    public double[] Linear(string name, double[] x, int rows, int inF, int outF)
    {
        var w = byName[name + ".weight"];
        var b = byName[name + ".bias"];
        var y = new double[rows * outF];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outF; o++)
            {
                double s = Parameters[b.Offset + o];
                for (int i = 0; i < inF; i++) s += x[r * inF + i] * Parameters[w.Offset + o * inF + i];
                y[r * outF + o] = s;
            }
        return y;
    }

    /// <summary>ReLU layers PREFIX.0, PREFIX.1, ... of the widths <paramref name="sizes"/> on x (rows, inF); the last output and its width (x itself without layers).</summary>
    public (double[] H, int Width) Hidden(string prefix, double[] x, int rows, int inF, IReadOnlyList<int> sizes)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        var h = x;
        int width = inF;
        for (int i = 0; i < sizes.Count; i++)
        {
            h = Linear($"{prefix}.{i}", h, rows, width, sizes[i]).Select(v => Math.Max(0, v)).ToArray();
            width = sizes[i];
        }
        return (h, width);
    }
}
