// The in-place calls the overlap rule allows (an output identical to an input of the same shape, as documented in
// IComputeBackend) give exactly the out-of-place results, bit for bit, on every backend. Each case runs a primitive
// twice on fresh copies of the same data: once with every output in its own buffer, initialized with the data of the
// input it will alias (so accumulating outputs start from the same values), and once with each aliased output passed
// as that very input view. Sizes cover the scalar path, the vector loops with their overlapping last vector, and work
// large enough for the CPU backend to split over its pool.
using Vae.Cpu;
using Vae.Tests.Support;
using Xunit;
using Xunit.Sdk;

namespace Vae.Tests;

public abstract class InPlaceCallTests
{
    /// <summary>A fresh instance of the backend under test.</summary>
    protected abstract IComputeBackend CreateBackend();

    /// <summary>
    /// One in-place call: <paramref name="Inputs"/> float inputs (rows, cols) and <paramref name="Aliases"/>[j] = the input
    /// that output j is in the in-place run, or -1 for an output that keeps its own buffer. Call gets the backend, the
    /// inputs, the outputs, class targets (rows) and the shape.
    /// </summary>
    public sealed record InPlaceCase(string Name, int Inputs, int[] Aliases, Action<IComputeBackend, DeviceSpan<float>[], DeviceSpan<float>[], DeviceSpan<int>, int, int> Call);

    static InPlaceCase Case(string name, int inputs, int[] aliases, Action<IComputeBackend, DeviceSpan<float>[], DeviceSpan<float>[], DeviceSpan<int>, int, int> call) =>
        new(name, inputs, aliases, call);

    public static IReadOnlyList<InPlaceCase> Cases { get; } = BuildCases();

    static List<InPlaceCase> BuildCases()
    {
        var cases = new List<InPlaceCase>
        {
            Case("Copy: destination is source", 1, [0], (b, i, o, t, r, c) => b.Copy(i[0], o[0])),
            Case("Axpy: y is x", 1, [0], (b, i, o, t, r, c) => b.Axpy(-0.75f, i[0], o[0])),
            Case("BceWithLogitsBackward: dLogits is logits", 2, [0], (b, i, o, t, r, c) => b.BceWithLogitsBackward(i[0], i[1], o[0], r, c, 0.5f)),
            Case("BceWithLogitsBackward: dLogits is targets", 2, [1], (b, i, o, t, r, c) => b.BceWithLogitsBackward(i[0], i[1], o[0], r, c, 0.5f)),
            Case("MseBackward: dPrediction is prediction", 2, [0], (b, i, o, t, r, c) => b.MseBackward(i[0], i[1], o[0], r, c, 0.25f)),
            Case("MseBackward: dPrediction is targets", 2, [1], (b, i, o, t, r, c) => b.MseBackward(i[0], i[1], o[0], r, c, 0.25f)),
            Case("GaussianNllBackward: dMean is mean, dLogVar is targets", 3, [0, 2],
                (b, i, o, t, r, c) => b.GaussianNllBackward(i[0], i[1], i[2], o[0], o[1], r, c, 0.5f)),
            Case("GaussianNllBackward: dMean is logVar, dLogVar is mean", 3, [1, 0],
                (b, i, o, t, r, c) => b.GaussianNllBackward(i[0], i[1], i[2], o[0], o[1], r, c, 0.5f)),
            Case("CrossEntropyBackward: dLogits is logits", 1, [0], (b, i, o, t, r, c) => b.CrossEntropyBackward(i[0], t, o[0], r, c, -100, 0.5f)),
            Case("KlStandardNormalBackward: dMu is mu, dLogVar is logVar", 2, [0, 1],
                (b, i, o, t, r, c) => b.KlStandardNormalBackward(i[0], i[1], o[0], o[1], r, c, 0.5f)),
            Case("KlStandardNormalBackward: dMu is logVar, dLogVar is mu", 2, [1, 0],
                (b, i, o, t, r, c) => b.KlStandardNormalBackward(i[0], i[1], o[0], o[1], r, c, 0.5f)),
            Case("KlGaussianBackward: each gradient is its own input", 4, [0, 1, 2, 3],
                (b, i, o, t, r, c) => b.KlGaussianBackward(i[0], i[1], i[2], i[3], o[0], o[1], o[2], o[3], r, c, 0.5f)),
            Case("KlGaussianBackward: gradients are other inputs", 4, [3, -1, 0, 1],
                (b, i, o, t, r, c) => b.KlGaussianBackward(i[0], i[1], i[2], i[3], o[0], o[1], o[2], o[3], r, c, 0.5f)),
            Case("ReparameterizeForward: z is mu", 3, [0], (b, i, o, t, r, c) => b.ReparameterizeForward(i[0], i[1], i[2], o[0], -1.5f, 1.5f)),
            Case("ReparameterizeForward: z is logVar", 3, [1], (b, i, o, t, r, c) => b.ReparameterizeForward(i[0], i[1], i[2], o[0], -1.5f, 1.5f)),
            Case("ReparameterizeForward: z is eps", 3, [2], (b, i, o, t, r, c) => b.ReparameterizeForward(i[0], i[1], i[2], o[0], -1.5f, 1.5f)),
            Case("ReparameterizeBackward: dMu is dz, dLogVar is logVar", 3, [2, 0],
                (b, i, o, t, r, c) => b.ReparameterizeBackward(i[0], i[1], i[2], o[0], o[1], -1.5f, 1.5f)),
            Case("ReparameterizeBackward: dMu is eps, dLogVar is dz", 3, [1, 2],
                (b, i, o, t, r, c) => b.ReparameterizeBackward(i[0], i[1], i[2], o[0], o[1], -1.5f, 1.5f)),
            Case("SoftmaxRows: y is x (logSumExp apart)", 1, [0, -1], (b, i, o, t, r, c) => b.SoftmaxRows(i[0], o[0], o[1], r, c)),
            Case("ScaleRows: y is x", 2, [0], (b, i, o, t, r, c) => b.ScaleRows(i[0], i[1], o[0], r, c)),
        };
        foreach (var f in Enum.GetValues<Activation>())
        {
            cases.Add(Case($"ActivationForward({f}): y is x", 1, [0], (b, i, o, t, r, c) => b.ActivationForward(f, i[0], o[0], 0.1f)));
            // inputs x, y, dy; the backward reads x or y as f needs, and dx may be any of the three.
            for (int alias = 0; alias < 3; alias++)
            {
                string name = alias switch { 0 => "x", 1 => "y", _ => "dy" };
                cases.Add(Case($"ActivationBackward({f}): dx is {name}", 3, [alias], (b, i, o, t, r, c) => b.ActivationBackward(f, i[0], i[1], i[2], o[0], 0.1f)));
            }
        }
        return cases;
    }

    public static TheoryData<string> CaseNames
    {
        get
        {
            var names = new TheoryData<string>();
            foreach (var c in Cases) names.Add(c.Name);
            return names;
        }
    }

    /// <summary>(rows, cols): one small matrix, one that runs the vector loops with a ragged end, one split over the pool.</summary>
    static readonly (int Rows, int Cols)[] Shapes = [(3, 4), (7, 37), (512, 401)];

    [Theory]
    [MemberData(nameof(CaseNames), MemberType = typeof(InPlaceCallTests))]
    public void In_place_call_gives_the_out_of_place_result(string name)
    {
        var c = Cases.Single(x => x.Name == name);
        int caseIndex = 0;
        while (Cases[caseIndex] != c) caseIndex++;
        using var backend = CreateBackend();
        foreach (var (rows, cols) in Shapes)
        {
            int n = rows * cols;
            var rng = new System.Random(1000 * caseIndex + rows + cols);
            // Values in (-1.9, 1.9): valid probabilities are not needed, every formula is finite there, and about half
            // the log-variances fall outside the clamp [-1.5, 1.5] of the reparameterization cases.
            var inputData = new float[c.Inputs][];
            for (int k = 0; k < c.Inputs; k++) inputData[k] = HostData.Uniform(rng, n, -1.9f, 1.9f);
            var targetData = new int[rows];
            for (int r = 0; r < rows; r++) targetData[r] = r % 5 == 1 ? -100 : rng.Next(cols);
            var ownData = new float[c.Aliases.Length][];
            for (int j = 0; j < c.Aliases.Length; j++) ownData[j] = c.Aliases[j] >= 0 ? inputData[c.Aliases[j]] : HostData.Uniform(rng, n, -1f, 1f);

            var outOfPlace = Run(backend, c, rows, cols, inputData, targetData, ownData, inPlace: false);
            var inPlace = Run(backend, c, rows, cols, inputData, targetData, ownData, inPlace: true);
            for (int j = 0; j < outOfPlace.Length; j++)
            {
                for (int e = 0; e < n; e++)
                {
                    if (BitConverter.SingleToInt32Bits(outOfPlace[j][e]) != BitConverter.SingleToInt32Bits(inPlace[j][e]))
                        throw new XunitException($"{name} on '{backend.Name}', shape ({rows}, {cols}): output {j} element {e} is {inPlace[j][e]} in place " +
                                                 $"but {outOfPlace[j][e]} out of place.");
                }
            }
        }
    }

    /// <summary>Runs the case on fresh buffers and returns every output's data.</summary>
    static float[][] Run(IComputeBackend backend, InPlaceCase c, int rows, int cols, float[][] inputData, int[] targetData, float[][] ownData, bool inPlace)
    {
        var buffers = new List<DeviceBuffer>();
        try
        {
            var inputs = new DeviceSpan<float>[inputData.Length];
            for (int k = 0; k < inputs.Length; k++) inputs[k] = Upload(backend, buffers, inputData[k]);
            var outputs = new DeviceSpan<float>[ownData.Length];
            for (int j = 0; j < outputs.Length; j++)
                outputs[j] = inPlace && c.Aliases[j] >= 0 ? inputs[c.Aliases[j]] : Upload(backend, buffers, ownData[j]);
            var targetBuffer = backend.Allocate(Math.Max(targetData.Length, 1) * sizeof(int));
            buffers.Add(targetBuffer);
            var targets = targetBuffer.AsSpan<int>().Slice(0, targetData.Length);
            backend.Upload<int>(targetData, targets);

            c.Call(backend, inputs, outputs, targets, rows, cols);

            var results = new float[outputs.Length][];
            for (int j = 0; j < outputs.Length; j++)
            {
                results[j] = new float[outputs[j].Length];
                backend.Download(outputs[j], results[j]);
            }
            return results;
        }
        finally
        {
            foreach (var buffer in buffers) buffer.Dispose();
        }
    }

    static DeviceSpan<float> Upload(IComputeBackend backend, List<DeviceBuffer> buffers, float[] data)
    {
        var buffer = backend.Allocate(Math.Max(data.Length, 1) * sizeof(float));
        buffers.Add(buffer);
        var view = buffer.AsSpan<float>().Slice(0, data.Length);
        backend.Upload<float>(data, view);
        return view;
    }
}

public sealed class CpuBackendInPlaceCallTests : InPlaceCallTests
{
    protected override IComputeBackend CreateBackend() => new CpuBackend(threads: 3);
}

public sealed class ReferenceBackendInPlaceCallTests : InPlaceCallTests
{
    protected override IComputeBackend CreateBackend() => new ReferenceBackend();
}

/// <summary>The CUDA backend's kernels on the PTX interpreter.</summary>
public sealed class InterpretedCudaBackendInPlaceCallTests : InPlaceCallTests
{
    protected override IComputeBackend CreateBackend() => new Vae.Cuda.CudaBackend(new InterpretedCudaDevice());
}
