// Bad arguments to every primitive are rejected with an ArgumentException (ArgumentOutOfRangeException included) whose
// ParamName and message name the offending argument and its length or shape, and NOTHING is written: every view a
// case creates is filled with random data first and must hold the same bits after the exception. Each backend
// supplies a subclass (CPU and reference here; a device backend later).
//
// ParamName must be one of the interface's argument names (alternatives written "a|b" below where the case does not
// single one out), and so must the names in the message: BackendChecks names every argument as IComputeBackend does.
// An overlap is reported on the output (the view written). The overlap cases follow the rule in the conventions of
// IComputeBackend.cs: partial overlaps and overlaps between outputs are rejected; identical in-place calls are accepted
// where documented, and InPlaceCallTests checks that they give the out-of-place results.
using System.Text.RegularExpressions;
using Vae.Cpu;
using Xunit;
using Xunit.Sdk;

namespace Vae.Tests;

/// <summary>Views for one validation case, all snapshotted at creation.</summary>
public sealed class ValidationViews : IDisposable
{
    readonly IComputeBackend backend;
    readonly Func<IComputeBackend> createOther;
    readonly System.Random rng = new(12345);
    readonly List<DeviceBuffer> buffers = [];
    readonly List<Action> checks = [];
    IComputeBackend? other;

    public ValidationViews(IComputeBackend backend, Func<IComputeBackend> createOther)
    {
        this.backend = backend;
        this.createOther = createOther;
    }

    /// <summary>A float view of <paramref name="length"/> random elements on the backend under test.</summary>
    public DeviceSpan<float> F(int length) => Floats(backend, length);

    /// <summary>An int view holding <paramref name="values"/>.</summary>
    public DeviceSpan<int> I(params int[] values)
    {
        var buffer = backend.Allocate(Math.Max(values.Length, 1) * sizeof(int));
        buffers.Add(buffer);
        var view = buffer.AsSpan<int>().Slice(0, values.Length);
        backend.Upload<int>(values, view);
        var snapshot = (int[])values.Clone();
        checks.Add(() =>
        {
            var now = new int[snapshot.Length];
            backend.Download(view, now);
            if (!now.AsSpan().SequenceEqual(snapshot)) throw new XunitException($"An int view of {snapshot.Length} elements was written before the exception.");
        });
        return view;
    }

    /// <summary>An int view of the same bytes as elements [start, start + length) of a float view (for overlap cases).</summary>
    public static DeviceSpan<int> IntsOver(DeviceSpan<float> view, int start, int length) =>
        new(view.Buffer!, view.Offset + start, length);

    /// <summary>A float view owned by another instance of the same backend type.</summary>
    public DeviceSpan<float> Foreign(int length) => Floats(other ??= createOther(), length);

    /// <summary>A float view whose buffer has been disposed.</summary>
    public DeviceSpan<float> Disposed(int length)
    {
        var buffer = backend.Allocate(length * sizeof(float));
        var view = buffer.AsSpan<float>();
        buffer.Dispose();
        return view;
    }

    /// <summary>Throws when any view created here changed.</summary>
    public void AssertUnchanged()
    {
        foreach (var check in checks) check();
    }

    public void Dispose()
    {
        foreach (var buffer in buffers) buffer.Dispose();
        other?.Dispose();
    }

    DeviceSpan<float> Floats(IComputeBackend owner, int length)
    {
        var buffer = owner.Allocate(Math.Max(length, 1) * sizeof(float));
        buffers.Add(buffer);
        var view = buffer.AsSpan<float>().Slice(0, length);
        var data = new float[length];
        for (int i = 0; i < length; i++) data[i] = (float)rng.NextDouble() + 1;
        owner.Upload<float>(data, view);
        checks.Add(() =>
        {
            var now = new float[length];
            owner.Download(view, now);
            for (int i = 0; i < length; i++)
            {
                if (BitConverter.SingleToInt32Bits(now[i]) != BitConverter.SingleToInt32Bits(data[i]))
                    throw new XunitException($"A float view of {length} elements was written before the exception: element {i} changed from {data[i]} to {now[i]}.");
            }
        });
        return view;
    }
}

public abstract class ArgumentValidationTests
{
    /// <summary>A fresh instance of the backend under test.</summary>
    protected abstract IComputeBackend CreateBackend();

    /// <summary>False for backends that cannot read index data cheaply before launching (device backends).</summary>
    protected virtual bool ChecksIndexValuesOnHost => true;

    public sealed record ValidationCase(string Name, Action<IComputeBackend, ValidationViews> Call, string Param, string[] Fragments, bool ReadsIndexValues = false, bool Disposed = false);

    static ValidationCase Case(string name, Action<IComputeBackend, ValidationViews> call, string param, params string[] fragments) => new(name, call, param, fragments);

    static ValidationCase IndexCase(string name, Action<IComputeBackend, ValidationViews> call, string param, params string[] fragments) => new(name, call, param, fragments, ReadsIndexValues: true);

    static ValidationCase DisposedCase(string name, Action<IComputeBackend, ValidationViews> call, string param) => new(name, call, param, [], Disposed: true);

    static readonly AdamSettings Adam = new();

    // Sizes used below: Gemm m=2, n=3, k=4; matrices rows=3, cols=4 (12 elements); Concat rows=2, colsA=3, colsB=4;
    // indexing tableRows=4, count=3, cols=2; cross-entropy rows=3, classes=4; NearestCode rows=3, codes=4, cols=2.
    public static IReadOnlyList<ValidationCase> Cases { get; } =
    [
        // memory
        Case("Allocate: negative size", (b, v) => b.Allocate(-1), "byteLength", "-1"),
        Case("Upload: length mismatch", (b, v) => b.Upload<float>(new float[3], v.F(4)), "source", "length 3", "length 4"),
        Case("Upload: foreign view", (b, v) => b.Upload<float>(new float[4], v.Foreign(4)), "destination", "belongs to a different backend instance"),
        Case("Download: length mismatch", (b, v) => b.Download(v.F(4), new float[5]), "destination", "length 4", "length 5"),
        Case("Download: foreign view", (b, v) => b.Download(v.Foreign(4), new float[4]), "source", "belongs to a different backend instance"),

        // Gemm (m 2, n 3, k 4)
        Case("Gemm: negative m", (b, v) => b.Gemm(false, false, -2, 3, 4, 1, v.F(8), v.F(12), 0, v.F(6)), "m", "-2"),
        Case("Gemm: negative n", (b, v) => b.Gemm(false, false, 2, -3, 4, 1, v.F(8), v.F(12), 0, v.F(6)), "n", "-3"),
        Case("Gemm: negative k", (b, v) => b.Gemm(false, false, 2, 3, -4, 1, v.F(8), v.F(12), 0, v.F(6)), "k", "-4"),
        Case("Gemm: a too small", (b, v) => b.Gemm(false, false, 2, 3, 4, 1, v.F(7), v.F(12), 0, v.F(6)), "a", "length 7", "(2, 4)"),
        Case("Gemm: transposed a too small", (b, v) => b.Gemm(true, false, 2, 3, 4, 1, v.F(7), v.F(12), 0, v.F(6)), "a", "length 7", "(4, 2)"),
        Case("Gemm: b too small", (b, v) => b.Gemm(false, false, 2, 3, 4, 1, v.F(8), v.F(11), 0, v.F(6)), "b", "length 11", "(4, 3)"),
        Case("Gemm: transposed b too small", (b, v) => b.Gemm(false, true, 2, 3, 4, 1, v.F(8), v.F(11), 0, v.F(6)), "b", "length 11", "(3, 4)"),
        Case("Gemm: c too small", (b, v) => b.Gemm(false, false, 2, 3, 4, 1, v.F(8), v.F(12), 1, v.F(5)), "c", "length 5", "(2, 3)"),
        Case("Gemm: c overlaps a", (b, v) =>
        {
            var shared = v.F(20);
            b.Gemm(false, false, 2, 3, 4, 1, shared.Slice(0, 8), v.F(12), 0, shared.Slice(4, 6));
        }, "c", "overlaps"),
        Case("Gemm: c overlaps b", (b, v) =>
        {
            var shared = v.F(20);
            b.Gemm(false, false, 2, 3, 4, 1, v.F(8), shared.Slice(6, 12), 0, shared.Slice(2, 6));
        }, "c", "overlaps"),
        Case("Gemm: a from another backend", (b, v) => b.Gemm(false, false, 2, 3, 4, 1, v.Foreign(8), v.F(12), 0, v.F(6)), "a", "belongs to a different backend instance"),
        Case("Gemm: b is the null view", (b, v) => b.Gemm(false, false, 2, 3, 4, 1, v.F(8), default, 0, v.F(6)), "b", "null view"),
        DisposedCase("Gemm: c disposed", (b, v) => b.Gemm(false, false, 2, 3, 4, 1, v.F(8), v.F(12), 0, v.Disposed(6)), "c"),

        // bias (rows 3, cols 4)
        Case("BiasAdd: x too small", (b, v) => b.BiasAdd(v.F(11), v.F(4), 3, 4), "x", "length 11", "12"),
        Case("BiasAdd: bias too small", (b, v) => b.BiasAdd(v.F(12), v.F(3), 3, 4), "bias", "length 3", "4"),
        Case("BiasAdd: negative cols", (b, v) => b.BiasAdd(v.F(12), v.F(4), 3, -4), "cols", "-4"),
        Case("BiasAdd: bias from another backend", (b, v) => b.BiasAdd(v.F(12), v.Foreign(4), 3, 4), "bias", "belongs to a different backend instance"),
        Case("BiasGradient: dy too small", (b, v) => b.BiasGradient(v.F(11), v.F(4), 3, 4), "dy", "length 11", "12"),
        Case("BiasGradient: dBias too small", (b, v) => b.BiasGradient(v.F(12), v.F(3), 3, 4), "dBias", "length 3", "4"),
        Case("BiasGradient: negative rows", (b, v) => b.BiasGradient(v.F(12), v.F(4), -3, 4), "rows", "-3"),
        Case("BiasGradient: dBias from another backend", (b, v) => b.BiasGradient(v.F(12), v.Foreign(4), 3, 4), "dBias", "belongs to a different backend instance"),

        // elementwise
        Case("Copy: length mismatch", (b, v) => b.Copy(v.F(5), v.F(6)), "source|destination", "length 5", "length 6"),
        Case("Copy: partial overlap", (b, v) =>
        {
            var shared = v.F(10);
            b.Copy(shared.Slice(0, 6), shared.Slice(2, 6));
        }, "destination", "partially overlaps", "source"),
        Case("Copy: destination from another backend", (b, v) => b.Copy(v.F(5), v.Foreign(5)), "destination", "belongs to a different backend instance"),
        Case("Fill: null view", (b, v) => b.Fill(default, 1f), "x", "null view"),
        Case("Fill: x from another backend", (b, v) => b.Fill(v.Foreign(5), 1f), "x", "belongs to a different backend instance"),
        Case("Scale: x from another backend", (b, v) => b.Scale(v.Foreign(5), 2f), "x", "belongs to a different backend instance"),
        DisposedCase("Scale: x disposed", (b, v) => b.Scale(v.Disposed(5), 2f), "x"),
        Case("Axpy: length mismatch", (b, v) => b.Axpy(1f, v.F(5), v.F(4)), "x|y", "length 5", "length 4"),
        Case("Axpy: y from another backend", (b, v) => b.Axpy(1f, v.F(5), v.Foreign(5)), "y", "belongs to a different backend instance"),
        Case("Concat: output too small", (b, v) => b.Concat(v.F(6), v.F(8), v.F(13), 2, 3, 4), "output", "length 13", "14"),
        Case("Concat: a too small", (b, v) => b.Concat(v.F(5), v.F(8), v.F(14), 2, 3, 4), "a", "length 5", "6"),
        Case("Concat: b too small", (b, v) => b.Concat(v.F(6), v.F(7), v.F(14), 2, 3, 4), "b", "length 7", "8"),
        Case("Concat: negative colsA", (b, v) => b.Concat(v.F(6), v.F(8), v.F(14), 2, -3, 4), "colsA", "-3"),
        Case("Split: input too small", (b, v) => b.Split(v.F(13), v.F(6), v.F(8), 2, 3, 4), "input", "length 13", "14"),
        Case("Split: a too small", (b, v) => b.Split(v.F(14), v.F(5), v.F(8), 2, 3, 4), "a", "length 5", "6"),
        Case("Split: b too small", (b, v) => b.Split(v.F(14), v.F(6), v.F(7), 2, 3, 4), "b", "length 7", "8"),
        Case("Split: negative rows", (b, v) => b.Split(v.F(14), v.F(6), v.F(8), -2, 3, 4), "rows", "-2"),
        Case("Sum: empty result", (b, v) => b.Sum(v.F(5), v.F(0)), "result", "length 0"),
        Case("Sum: x from another backend", (b, v) => b.Sum(v.Foreign(5), v.F(1)), "x", "belongs to a different backend instance"),

        // activations
        Case("ActivationForward: length mismatch", (b, v) => b.ActivationForward(Activation.Relu, v.F(5), v.F(6)), "x|y", "length 5", "length 6"),
        Case("ActivationForward: unknown activation", (b, v) => b.ActivationForward((Activation)42, v.F(5), v.F(5)), "f", "42"),
        Case("ActivationForward: y from another backend", (b, v) => b.ActivationForward(Activation.Tanh, v.F(5), v.Foreign(5)), "y", "belongs to a different backend instance"),
        Case("ActivationBackward: dx length mismatch", (b, v) => b.ActivationBackward(Activation.Sigmoid, v.F(5), v.F(5), v.F(5), v.F(6)), "dx|dy|x|y", "dx", "length 6"),
        Case("ActivationBackward: y length mismatch", (b, v) => b.ActivationBackward(Activation.Tanh, v.F(5), v.F(4), v.F(5), v.F(5)), "x|y|dy|dx", "y", "length 4"),
        Case("ActivationBackward: unknown activation", (b, v) => b.ActivationBackward((Activation)(-1), v.F(5), v.F(5), v.F(5), v.F(5)), "f", "-1"),

        // losses (rows 3, cols 4)
        Case("BceWithLogitsForward: logits too small", (b, v) => b.BceWithLogitsForward(v.F(11), v.F(12), v.F(3), v.F(1), 3, 4), "logits", "length 11", "12"),
        Case("BceWithLogitsForward: targets too small", (b, v) => b.BceWithLogitsForward(v.F(12), v.F(11), v.F(3), v.F(1), 3, 4), "targets", "length 11", "12"),
        Case("BceWithLogitsForward: perSample too small", (b, v) => b.BceWithLogitsForward(v.F(12), v.F(12), v.F(2), v.F(1), 3, 4), "perSample", "length 2", "3"),
        Case("BceWithLogitsForward: empty total", (b, v) => b.BceWithLogitsForward(v.F(12), v.F(12), v.F(3), v.F(0), 3, 4), "total", "length 0"),
        Case("BceWithLogitsForward: total overlaps perSample", (b, v) =>
        {
            var shared = v.F(4);
            b.BceWithLogitsForward(v.F(12), v.F(12), shared.Slice(0, 3), shared.Slice(2, 1), 3, 4);
        }, "total", "total overlaps perSample"),
        Case("BceWithLogitsForward: negative rows", (b, v) => b.BceWithLogitsForward(v.F(12), v.F(12), v.F(3), v.F(1), -3, 4), "rows", "-3"),
        Case("BceWithLogitsForward: negative cols", (b, v) => b.BceWithLogitsForward(v.F(12), v.F(12), v.F(3), v.F(1), 3, -4), "cols", "-4"),
        Case("BceWithLogitsBackward: dLogits too small", (b, v) => b.BceWithLogitsBackward(v.F(12), v.F(12), v.F(11), 3, 4, 1f), "dLogits", "length 11", "12"),
        Case("BceWithLogitsBackward: targets from another backend", (b, v) => b.BceWithLogitsBackward(v.F(12), v.Foreign(12), v.F(12), 3, 4, 1f), "targets", "belongs to a different backend instance"),
        Case("MseForward: prediction too small", (b, v) => b.MseForward(v.F(11), v.F(12), v.F(3), default, 3, 4), "prediction", "length 11", "12"),
        Case("MseForward: targets from another backend", (b, v) => b.MseForward(v.F(12), v.Foreign(12), v.F(3), default, 3, 4), "targets", "belongs to a different backend instance"),
        Case("MseBackward: dPrediction too small", (b, v) => b.MseBackward(v.F(12), v.F(12), v.F(11), 3, 4, 1f), "dPrediction", "length 11", "12"),
        Case("GaussianNllForward: logVar too small", (b, v) => b.GaussianNllForward(v.F(12), v.F(11), v.F(12), v.F(3), v.F(1), 3, 4), "logVar", "length 11", "12"),
        Case("GaussianNllForward: perSample too small", (b, v) => b.GaussianNllForward(v.F(12), v.F(12), v.F(12), v.F(2), default, 3, 4), "perSample", "length 2", "3"),
        Case("GaussianNllBackward: dLogVar too small", (b, v) => b.GaussianNllBackward(v.F(12), v.F(12), v.F(12), v.F(12), v.F(11), 3, 4, 1f), "dLogVar", "length 11", "12"),
        Case("GaussianNllBackward: dMean from another backend", (b, v) => b.GaussianNllBackward(v.F(12), v.F(12), v.F(12), v.Foreign(12), v.F(12), 3, 4, 1f), "dMean", "belongs to a different backend instance"),

        // cross-entropy (rows 3, classes 4)
        Case("CrossEntropyForward: logits too small", (b, v) => b.CrossEntropyForward(v.F(11), v.I(0, 1, 2), v.F(3), v.F(1), 3, 4, -100), "logits", "length 11", "12"),
        Case("CrossEntropyForward: targets too small", (b, v) => b.CrossEntropyForward(v.F(12), v.I(0, 1), v.F(3), v.F(1), 3, 4, -100), "targets", "length 2", "3"),
        Case("CrossEntropyForward: perSample too small", (b, v) => b.CrossEntropyForward(v.F(12), v.I(0, 1, 2), v.F(2), v.F(1), 3, 4, -100), "perSample", "length 2", "3"),
        Case("CrossEntropyForward: negative classes", (b, v) => b.CrossEntropyForward(v.F(12), v.I(0, 1, 2), v.F(3), v.F(1), 3, -4, -100), "classes", "-4"),
        IndexCase("CrossEntropyForward: target = classes in the last row", (b, v) => b.CrossEntropyForward(v.F(12), v.I(1, -100, 4), v.F(3), v.F(1), 3, 4, -100), "targets", "targets[2]", "4"),
        IndexCase("CrossEntropyForward: negative target that is not the ignore index", (b, v) => b.CrossEntropyForward(v.F(12), v.I(1, 0, -5), v.F(3), v.F(1), 3, 4, -100), "targets", "targets[2]", "-5"),
        Case("CrossEntropyBackward: dLogits too small", (b, v) => b.CrossEntropyBackward(v.F(12), v.I(0, 1, 2), v.F(11), 3, 4, -100, 1f), "dLogits", "length 11", "12"),
        IndexCase("CrossEntropyBackward: target = classes in the last row", (b, v) => b.CrossEntropyBackward(v.F(12), v.I(1, 3, 4), v.F(12), 3, 4, -1, 1f), "targets", "targets[2]", "4"),

        // KL (rows 3, cols 4)
        Case("KlStandardNormalForward: logVar too small", (b, v) => b.KlStandardNormalForward(v.F(12), v.F(11), v.F(3), v.F(1), 3, 4), "logVar", "length 11", "12"),
        Case("KlStandardNormalForward: perSample too small", (b, v) => b.KlStandardNormalForward(v.F(12), v.F(12), v.F(2), v.F(1), 3, 4), "perSample", "length 2", "3"),
        Case("KlStandardNormalBackward: dLogVar too small", (b, v) => b.KlStandardNormalBackward(v.F(12), v.F(12), v.F(12), v.F(11), 3, 4, 1f), "dLogVar", "length 11", "12"),
        Case("KlStandardNormalBackward: dMu from another backend", (b, v) => b.KlStandardNormalBackward(v.F(12), v.F(12), v.Foreign(12), v.F(12), 3, 4, 1f), "dMu", "belongs to a different backend instance"),
        Case("KlGaussianForward: muP too small", (b, v) => b.KlGaussianForward(v.F(12), v.F(12), v.F(11), v.F(12), v.F(3), v.F(1), 3, 4), "muP", "length 11", "12"),
        Case("KlGaussianForward: logVarP too small", (b, v) => b.KlGaussianForward(v.F(12), v.F(12), v.F(12), v.F(11), v.F(3), default, 3, 4), "logVarP", "length 11", "12"),
        Case("KlGaussianBackward: dMuP too small", (b, v) => b.KlGaussianBackward(v.F(12), v.F(12), v.F(12), v.F(12), v.F(12), v.F(12), v.F(11), v.F(12), 3, 4, 1f), "dMuP", "length 11", "12"),
        Case("KlGaussianBackward: dLogVarP too small", (b, v) => b.KlGaussianBackward(v.F(12), v.F(12), v.F(12), v.F(12), v.F(12), v.F(12), v.F(12), v.F(11), 3, 4, 1f), "dLogVarP", "length 11", "12"),
        Case("KlGaussianBackward: negative cols", (b, v) => b.KlGaussianBackward(v.F(12), v.F(12), v.F(12), v.F(12), v.F(12), v.F(12), v.F(12), v.F(12), 3, -4, 1f), "cols", "-4"),

        // reparameterization and randomness
        Case("ReparameterizeForward: z length mismatch", (b, v) => b.ReparameterizeForward(v.F(5), v.F(5), v.F(5), v.F(4), -30, 20), "z|mu|logVar|eps", "z", "length 4"),
        Case("ReparameterizeForward: eps length mismatch", (b, v) => b.ReparameterizeForward(v.F(5), v.F(5), v.F(6), v.F(5), -30, 20), "eps|mu|logVar|z", "eps", "length 6"),
        Case("ReparameterizeForward: minLogVar > maxLogVar", (b, v) => b.ReparameterizeForward(v.F(5), v.F(5), v.F(5), v.F(5), 3, -1), "minLogVar", "minLogVar = 3", "maxLogVar = -1"),
        Case("ReparameterizeForward: NaN clamp", (b, v) => b.ReparameterizeForward(v.F(5), v.F(5), v.F(5), v.F(5), float.NaN, 20), "minLogVar", "NaN"),
        Case("ReparameterizeBackward: dLogVar length mismatch", (b, v) => b.ReparameterizeBackward(v.F(5), v.F(5), v.F(5), v.F(5), v.F(6), -30, 20), "dLogVar|logVar|eps|dz|dMu", "dLogVar", "length 6"),
        Case("ReparameterizeBackward: minLogVar > maxLogVar", (b, v) => b.ReparameterizeBackward(v.F(5), v.F(5), v.F(5), v.F(5), v.F(5), 1, 0.5f), "minLogVar", "minLogVar = 1", "maxLogVar = 0.5"),
        Case("RandomNormal: output from another backend", (b, v) => b.RandomNormal(v.Foreign(8), 1, 0), "output", "belongs to a different backend instance"),
        Case("RandomNormal: null view", (b, v) => b.RandomNormal(default, 1, 0), "output", "null view"),
        DisposedCase("RandomNormal: output disposed", (b, v) => b.RandomNormal(v.Disposed(8), 1, 0), "output"),

        // indexing (tableRows 4, count 3, cols 2)
        Case("GatherRows: table too small", (b, v) => b.GatherRows(v.F(7), v.I(0, 1, 2), v.F(6), 4, 3, 2), "table", "length 7", "8"),
        Case("GatherRows: indices too small", (b, v) => b.GatherRows(v.F(8), v.I(0, 1), v.F(6), 4, 3, 2), "indices", "length 2", "3"),
        Case("GatherRows: output too small", (b, v) => b.GatherRows(v.F(8), v.I(0, 1, 2), v.F(5), 4, 3, 2), "output", "length 5", "6"),
        Case("GatherRows: negative cols", (b, v) => b.GatherRows(v.F(8), v.I(0, 1, 2), v.F(6), 4, 3, -2), "cols", "-2"),
        Case("GatherRows: output overlaps table", (b, v) =>
        {
            var shared = v.F(12);
            b.GatherRows(shared.Slice(0, 8), v.I(0, 1, 2), shared.Slice(4, 6), 4, 3, 2);
        }, "output", "output overlaps table"),
        IndexCase("GatherRows: index = tableRows in the last position", (b, v) => b.GatherRows(v.F(8), v.I(0, 3, 4), v.F(6), 4, 3, 2), "indices", "indices[2]", "4"),
        IndexCase("GatherRows: negative index in the last position", (b, v) => b.GatherRows(v.F(8), v.I(0, 3, -1), v.F(6), 4, 3, 2), "indices", "indices[2]", "-1"),
        Case("ScatterAddRows: dTable too small", (b, v) => b.ScatterAddRows(v.F(6), v.I(0, 1, 2), v.F(7), 4, 3, 2), "dTable", "length 7", "8"),
        Case("ScatterAddRows: dOutput too small", (b, v) => b.ScatterAddRows(v.F(5), v.I(0, 1, 2), v.F(8), 4, 3, 2), "dOutput", "length 5", "6"),
        Case("ScatterAddRows: negative count", (b, v) => b.ScatterAddRows(v.F(6), v.I(0, 1, 2), v.F(8), 4, -3, 2), "count", "-3"),
        IndexCase("ScatterAddRows: index = tableRows in the last position", (b, v) => b.ScatterAddRows(v.F(6), v.I(2, 2, 4), v.F(8), 4, 3, 2), "indices", "indices[2]", "4"),
        IndexCase("ScatterAddRows: negative index in the last position", (b, v) => b.ScatterAddRows(v.F(6), v.I(1, 0, -7), v.F(8), 4, 3, 2), "indices", "indices[2]", "-7"),
        Case("NearestCode: x too small", (b, v) => b.NearestCode(v.F(5), v.F(8), v.I(0, 0, 0), v.F(3), 3, 4, 2), "x", "length 5", "6"),
        Case("NearestCode: codebook too small", (b, v) => b.NearestCode(v.F(6), v.F(7), v.I(0, 0, 0), v.F(3), 3, 4, 2), "codebook", "length 7", "8"),
        Case("NearestCode: indices too small", (b, v) => b.NearestCode(v.F(6), v.F(8), v.I(0, 0), v.F(3), 3, 4, 2), "indices", "length 2", "3"),
        Case("NearestCode: distances too small", (b, v) => b.NearestCode(v.F(6), v.F(8), v.I(0, 0, 0), v.F(2), 3, 4, 2), "distances", "length 2", "3"),
        Case("NearestCode: negative codes", (b, v) => b.NearestCode(v.F(6), v.F(8), v.I(0, 0, 0), v.F(3), 3, -4, 2), "codes", "-4"),
        Case("ArgMaxRows: indices too small", (b, v) => b.ArgMaxRows(v.F(12), v.I(0, 0), 3, 4), "indices", "length 2", "3"),

        // optimizer
        Case("AdamStep: gradients length mismatch", (b, v) => b.AdamStep(v.F(6), v.F(5), v.F(6), v.F(6), Adam, 1), "gradients|parameters", "length 5", "length 6"),
        Case("AdamStep: m length mismatch", (b, v) => b.AdamStep(v.F(6), v.F(6), v.F(7), v.F(6), Adam, 1), "m|parameters", "length 7", "length 6"),
        Case("AdamStep: v length mismatch", (b, v) => b.AdamStep(v.F(6), v.F(6), v.F(6), v.F(5), Adam, 1), "v|parameters", "length 5", "length 6"),
        Case("AdamStep: step 0", (b, v) => b.AdamStep(v.F(6), v.F(6), v.F(6), v.F(6), Adam, 0), "step", "0"),
        Case("AdamStep: negative step", (b, v) => b.AdamStep(v.F(6), v.F(6), v.F(6), v.F(6), Adam, -3), "step", "-3"),
        Case("AdamStep: negative learning rate", (b, v) => b.AdamStep(v.F(6), v.F(6), v.F(6), v.F(6), Adam with { LearningRate = -1 }, 1), "LearningRate", "-1"),
        Case("AdamStep: beta1 = 1", (b, v) => b.AdamStep(v.F(6), v.F(6), v.F(6), v.F(6), Adam with { Beta1 = 1 }, 1), "Beta1", "1"),
        Case("AdamStep: epsilon 0", (b, v) => b.AdamStep(v.F(6), v.F(6), v.F(6), v.F(6), Adam with { Epsilon = 0 }, 1), "Epsilon", "0"),
        Case("AdamStep: parameters overlap gradients", (b, v) =>
        {
            var shared = v.F(9);
            b.AdamStep(shared.Slice(0, 6), shared.Slice(3, 6), v.F(6), v.F(6), Adam, 1);
        }, "parameters", "parameters overlaps gradients"),
        Case("AdamStep: v from another backend", (b, v) => b.AdamStep(v.F(6), v.F(6), v.F(6), v.Foreign(6), Adam, 1), "v", "belongs to a different backend instance"),
        Case("GlobalNorm: empty result", (b, v) => b.GlobalNorm(v.F(5), v.F(0)), "result", "length 0"),
        Case("GlobalNorm: x from another backend", (b, v) => b.GlobalNorm(v.Foreign(5), v.F(1)), "x", "belongs to a different backend instance"),
        Case("ClipByNorm: empty norm", (b, v) => b.ClipByNorm(v.F(5), v.F(0), 1f), "norm", "length 0"),
        Case("ClipByNorm: norm from another backend", (b, v) => b.ClipByNorm(v.F(5), v.Foreign(1), 1f), "norm", "belongs to a different backend instance"),
        Case("AllFinite: empty result", (b, v) => b.AllFinite(v.F(5), v.I()), "result", "length 0"),
        Case("AllFinite: x from another backend", (b, v) => b.AllFinite(v.Foreign(5), v.I(7)), "x", "belongs to a different backend instance"),

        // new rules: null views ActivationBackward accepts only for the input it does not read
        Case("ActivationBackward: Relu reads x, which is null", (b, v) => b.ActivationBackward(Activation.Relu, default, v.F(5), v.F(5), v.F(5)), "x", "null view"),
        Case("ActivationBackward: Sigmoid reads y, which is null", (b, v) => b.ActivationBackward(Activation.Sigmoid, v.F(5), default, v.F(5), v.F(5)), "y", "null view"),
        Case("ActivationBackward: dy null", (b, v) => b.ActivationBackward(Activation.Softplus, v.F(5), default, default, v.F(5)), "dy", "null view"),
        Case("ActivationBackward: unread x of another length", (b, v) => b.ActivationBackward(Activation.Tanh, v.F(4), v.F(5), v.F(5), v.F(5)), "x", "length 4", "dy", "length 5"),
        Case("ActivationBackward: dx from another backend", (b, v) => b.ActivationBackward(Activation.Relu, v.F(5), default, v.F(5), v.Foreign(5)), "dx", "belongs to a different backend instance"),

        // new rules: value checks
        Case("ClipByNorm: maxNorm 0", (b, v) => b.ClipByNorm(v.F(5), v.F(1), 0f), "maxNorm", "maxNorm = 0"),
        Case("ClipByNorm: negative maxNorm", (b, v) => b.ClipByNorm(v.F(5), v.F(1), -2f), "maxNorm", "maxNorm = -2"),
        Case("ClipByNorm: NaN maxNorm", (b, v) => b.ClipByNorm(v.F(5), v.F(1), float.NaN), "maxNorm", "NaN"),
        Case("ClipByNorm: infinite maxNorm", (b, v) => b.ClipByNorm(v.F(5), v.F(1), float.PositiveInfinity), "maxNorm", "finite"),
        Case("NearestCode: no codes for 3 rows", (b, v) => b.NearestCode(v.F(6), v.F(0), v.I(0, 0, 0), v.F(3), 3, 0, 2), "codes", "codes = 0", "3"),
        Case("ArgMaxRows: no columns for 3 rows", (b, v) => b.ArgMaxRows(v.F(0), v.I(0, 0, 0), 3, 0), "cols", "cols = 0", "3"),
        Case("Concat: colsA + colsB exceeds int", (b, v) => b.Concat(v.F(0), v.F(0), v.F(0), 0, int.MaxValue, 1), "colsB", "colsA + colsB"),

        // new rules: partial overlaps, overlapping outputs, and scalar results inside inputs (rows 3, cols 4 unless noted)
        Case("BiasAdd: bias overlaps x", (b, v) => { var s = v.F(14); b.BiasAdd(s.Slice(0, 12), s.Slice(10, 4), 3, 4); }, "x", "x overlaps bias"),
        Case("BiasGradient: dBias inside dy", (b, v) => { var s = v.F(12); b.BiasGradient(s, s.Slice(4, 4), 3, 4); }, "dBias", "dBias overlaps dy"),
        Case("Axpy: y partially overlaps x", (b, v) => { var s = v.F(8); b.Axpy(2f, s.Slice(0, 5), s.Slice(1, 5)); }, "y", "y partially overlaps x"),
        Case("Concat: output overlaps b", (b, v) => { var s = v.F(20); b.Concat(v.F(6), s.Slice(0, 8), s.Slice(6, 14), 2, 3, 4); }, "output", "output overlaps b"),
        Case("Split: a overlaps b", (b, v) => { var s = v.F(12); b.Split(v.F(14), s.Slice(0, 6), s.Slice(4, 8), 2, 3, 4); }, "a", "a overlaps b"),
        Case("Split: b overlaps input", (b, v) => { var s = v.F(20); b.Split(s.Slice(0, 14), v.F(6), s.Slice(12, 8), 2, 3, 4); }, "b", "b overlaps input"),
        Case("Sum: result inside x", (b, v) => { var s = v.F(5); b.Sum(s, s.Slice(2, 1)); }, "result", "result overlaps x"),
        Case("ActivationForward: y partially overlaps x", (b, v) => { var s = v.F(8); b.ActivationForward(Activation.Relu, s.Slice(0, 5), s.Slice(3, 5)); }, "y", "y partially overlaps x"),
        Case("ActivationBackward: dx partially overlaps dy", (b, v) => { var s = v.F(8); b.ActivationBackward(Activation.Relu, v.F(5), default, s.Slice(0, 5), s.Slice(2, 5)); }, "dx", "dx partially overlaps dy"),
        Case("ActivationBackward: dx partially overlaps y", (b, v) => { var s = v.F(8); b.ActivationBackward(Activation.Tanh, default, s.Slice(1, 5), v.F(5), s.Slice(0, 5)); }, "dx", "dx partially overlaps y"),
        Case("BceWithLogitsForward: perSample overlaps logits", (b, v) => { var s = v.F(14); b.BceWithLogitsForward(s.Slice(0, 12), v.F(12), s.Slice(11, 3), default, 3, 4); }, "perSample", "perSample overlaps logits"),
        Case("BceWithLogitsBackward: dLogits partially overlaps targets", (b, v) => { var s = v.F(14); b.BceWithLogitsBackward(v.F(12), s.Slice(0, 12), s.Slice(2, 12), 3, 4, 1f); }, "dLogits", "dLogits partially overlaps targets"),
        Case("MseForward: total inside targets", (b, v) => { var s = v.F(12); b.MseForward(v.F(12), s, v.F(3), s.Slice(5, 1), 3, 4); }, "total", "total overlaps targets"),
        Case("MseBackward: dPrediction partially overlaps prediction", (b, v) => { var s = v.F(13); b.MseBackward(s.Slice(1, 12), v.F(12), s.Slice(0, 12), 3, 4, 1f); }, "dPrediction", "dPrediction partially overlaps prediction"),
        Case("GaussianNllForward: perSample overlaps targets", (b, v) => { var s = v.F(12); b.GaussianNllForward(v.F(12), v.F(12), s, s.Slice(9, 3), v.F(1), 3, 4); }, "perSample", "perSample overlaps targets"),
        Case("GaussianNllBackward: dMean is dLogVar", (b, v) => { var s = v.F(12); b.GaussianNllBackward(v.F(12), v.F(12), v.F(12), s, s, 3, 4, 1f); }, "dMean", "dMean overlaps dLogVar"),
        Case("GaussianNllBackward: dLogVar partially overlaps mean", (b, v) => { var s = v.F(16); b.GaussianNllBackward(s.Slice(0, 12), v.F(12), v.F(12), v.F(12), s.Slice(4, 12), 3, 4, 1f); }, "dLogVar", "dLogVar partially overlaps mean"),
        Case("CrossEntropyForward: perSample overlaps targets' bytes", (b, v) => { var s = v.F(8); b.CrossEntropyForward(v.F(12), ValidationViews.IntsOver(s, 2, 3), s.Slice(0, 3), default, 3, 4, -100); }, "perSample", "perSample overlaps targets"),
        Case("CrossEntropyBackward: dLogits partially overlaps logits", (b, v) => { var s = v.F(15); b.CrossEntropyBackward(s.Slice(0, 12), v.I(0, 1, 2), s.Slice(3, 12), 3, 4, -100, 1f); }, "dLogits", "dLogits partially overlaps logits"),
        Case("CrossEntropyBackward: dLogits overlaps targets' bytes", (b, v) => { var s = v.F(16); b.CrossEntropyBackward(v.F(12), ValidationViews.IntsOver(s, 11, 3), s.Slice(0, 12), 3, 4, -100, 1f); }, "dLogits", "dLogits overlaps targets"),
        Case("KlStandardNormalForward: total inside logVar", (b, v) => { var s = v.F(12); b.KlStandardNormalForward(v.F(12), s, v.F(3), s.Slice(0, 1), 3, 4); }, "total", "total overlaps logVar"),
        Case("KlStandardNormalBackward: dMu is dLogVar", (b, v) => { var s = v.F(12); b.KlStandardNormalBackward(v.F(12), v.F(12), s, s, 3, 4, 1f); }, "dMu", "dMu overlaps dLogVar"),
        Case("KlStandardNormalBackward: dLogVar partially overlaps mu", (b, v) => { var s = v.F(20); b.KlStandardNormalBackward(s.Slice(8, 12), v.F(12), v.F(12), s.Slice(0, 12), 3, 4, 1f); }, "dLogVar", "dLogVar partially overlaps mu"),
        Case("KlGaussianForward: perSample overlaps logVarP", (b, v) => { var s = v.F(14); b.KlGaussianForward(v.F(12), v.F(12), v.F(12), s.Slice(0, 12), s.Slice(11, 3), default, 3, 4); }, "perSample", "perSample overlaps logVarP"),
        Case("KlGaussianBackward: dMuQ overlaps dLogVarP", (b, v) => { var s = v.F(18); b.KlGaussianBackward(v.F(12), v.F(12), v.F(12), v.F(12), s.Slice(0, 12), v.F(12), v.F(12), s.Slice(6, 12), 3, 4, 1f); }, "dMuQ", "dMuQ overlaps dLogVarP"),
        Case("KlGaussianBackward: dMuP partially overlaps logVarQ", (b, v) => { var s = v.F(13); b.KlGaussianBackward(v.F(12), s.Slice(0, 12), v.F(12), v.F(12), v.F(12), v.F(12), s.Slice(1, 12), v.F(12), 3, 4, 1f); }, "dMuP", "dMuP partially overlaps logVarQ"),
        Case("ReparameterizeForward: z partially overlaps eps", (b, v) => { var s = v.F(8); b.ReparameterizeForward(v.F(5), v.F(5), s.Slice(0, 5), s.Slice(2, 5), -30, 20); }, "z", "z partially overlaps eps"),
        Case("ReparameterizeBackward: dMu is dLogVar", (b, v) => { var s = v.F(5); b.ReparameterizeBackward(v.F(5), v.F(5), v.F(5), s, s, -30, 20); }, "dMu", "dMu overlaps dLogVar"),
        Case("ReparameterizeBackward: dLogVar partially overlaps dz", (b, v) => { var s = v.F(8); b.ReparameterizeBackward(v.F(5), v.F(5), s.Slice(3, 5), v.F(5), s.Slice(0, 5), -30, 20); }, "dLogVar", "dLogVar partially overlaps dz"),
        Case("GatherRows: output overlaps indices' bytes", (b, v) => { var s = v.F(10); b.GatherRows(v.F(8), ValidationViews.IntsOver(s, 5, 3), s.Slice(0, 6), 4, 3, 2); }, "output", "output overlaps indices"),
        Case("ScatterAddRows: dTable overlaps dOutput", (b, v) => { var s = v.F(12); b.ScatterAddRows(s.Slice(0, 6), v.I(0, 1, 2), s.Slice(4, 8), 4, 3, 2); }, "dTable", "dTable overlaps dOutput"),
        Case("ScatterAddRows: dTable overlaps indices' bytes", (b, v) => { var s = v.F(10); b.ScatterAddRows(v.F(6), ValidationViews.IntsOver(s, 0, 3), s.Slice(2, 8), 4, 3, 2); }, "dTable", "dTable overlaps indices"),
        Case("NearestCode: indices overlap distances' bytes", (b, v) => { var s = v.F(4); b.NearestCode(v.F(6), v.F(8), ValidationViews.IntsOver(s, 1, 3), s.Slice(0, 3), 3, 4, 2); }, "indices", "indices overlaps distances"),
        Case("NearestCode: distances overlap codebook", (b, v) => { var s = v.F(10); b.NearestCode(v.F(6), s.Slice(0, 8), v.I(0, 0, 0), s.Slice(7, 3), 3, 4, 2); }, "distances", "distances overlaps codebook"),
        Case("ArgMaxRows: indices overlap x's bytes", (b, v) => { var s = v.F(14); b.ArgMaxRows(s.Slice(0, 12), ValidationViews.IntsOver(s, 11, 3), 3, 4); }, "indices", "indices overlaps x"),
        Case("EmaCodebook: clusterSize too small", (b, v) => b.EmaCodebook(v.F(3), v.F(8), v.F(8), 4, 2, 1e-5f), "clusterSize", "length 3", "4"),
        Case("EmaCodebook: embedSum too small", (b, v) => b.EmaCodebook(v.F(4), v.F(7), v.F(8), 4, 2, 1e-5f), "embedSum", "length 7", "8"),
        Case("EmaCodebook: codebook too small", (b, v) => b.EmaCodebook(v.F(4), v.F(8), v.F(6), 4, 2, 1e-5f), "codebook", "length 6", "8"),
        Case("EmaCodebook: negative codes", (b, v) => b.EmaCodebook(v.F(4), v.F(8), v.F(8), -4, 2, 1e-5f), "codes", "-4"),
        Case("EmaCodebook: negative epsilon", (b, v) => b.EmaCodebook(v.F(4), v.F(8), v.F(8), 4, 2, -1e-5f), "epsilon", "finite and >= 0"),
        Case("EmaCodebook: NaN epsilon", (b, v) => b.EmaCodebook(v.F(4), v.F(8), v.F(8), 4, 2, float.NaN), "epsilon", "NaN"),
        Case("EmaCodebook: codebook is embedSum", (b, v) => { var s = v.F(8); b.EmaCodebook(v.F(4), s, s, 4, 2, 1e-5f); }, "codebook", "codebook overlaps embedSum"),
        Case("EmaCodebook: codebook overlaps clusterSize", (b, v) => { var s = v.F(10); b.EmaCodebook(s.Slice(6, 4), v.F(8), s.Slice(0, 8), 4, 2, 1e-5f); }, "codebook", "codebook overlaps clusterSize"),
        Case("AdamStep: m is v", (b, v) => { var s = v.F(6); b.AdamStep(v.F(6), v.F(6), s, s, Adam, 1); }, "m", "m overlaps v"),
        Case("AdamStep: v overlaps gradients", (b, v) => { var s = v.F(9); b.AdamStep(v.F(6), s.Slice(0, 6), v.F(6), s.Slice(3, 6), Adam, 1); }, "v", "v overlaps gradients"),
        Case("GlobalNorm: result inside x", (b, v) => { var s = v.F(5); b.GlobalNorm(s, s.Slice(4, 1)); }, "result", "result overlaps x"),
        Case("ClipByNorm: norm inside x", (b, v) => { var s = v.F(5); b.ClipByNorm(s, s.Slice(0, 1), 1f); }, "x", "x overlaps norm"),
        Case("AllFinite: result overlaps x's bytes", (b, v) => { var s = v.F(5); b.AllFinite(s, ValidationViews.IntsOver(s, 4, 1)); }, "result", "result overlaps x"),

        // LSTM cell (rows 3, hidden 2: gates 24, states 6)
        Case("LstmCellForward: negative hidden", (b, v) => b.LstmCellForward(v.F(24), v.F(6), v.F(6), default, v.F(24), v.F(6), v.F(6), default, 3, -2, 2, 0), "hidden", "-2"),
        Case("LstmCellForward: negative step", (b, v) => b.LstmCellForward(v.F(24), v.F(6), v.F(6), default, v.F(24), v.F(6), v.F(6), default, 3, 2, 2, -1), "step", "-1"),
        Case("LstmCellForward: gates too small", (b, v) => b.LstmCellForward(v.F(23), v.F(6), v.F(6), default, v.F(24), v.F(6), v.F(6), default, 3, 2, 2, 0), "gates", "length 23", "(3, 8)"),
        Case("LstmCellForward: lengths too short", (b, v) => b.LstmCellForward(v.F(24), v.F(6), v.F(6), v.I(1, 2), v.F(24), v.F(6), v.F(6), default, 3, 2, 2, 0), "lengths", "length 2"),
        Case("LstmCellForward: yStride below hidden", (b, v) => b.LstmCellForward(v.F(24), v.F(6), v.F(6), default, v.F(24), v.F(6), v.F(6), v.F(12), 3, 2, 1, 0), "yStride", "yStride = 1"),
        Case("LstmCellForward: y too small for its stride", (b, v) => b.LstmCellForward(v.F(24), v.F(6), v.F(6), default, v.F(24), v.F(6), v.F(6), v.F(9), 3, 2, 4, 0), "y", "length 9", "10"),
        Case("LstmCellForward: activated partially overlaps gates", (b, v) => { var s = v.F(30); b.LstmCellForward(s.Slice(0, 24), v.F(6), v.F(6), default, s.Slice(6, 24), v.F(6), v.F(6), default, 3, 2, 2, 0); }, "activated", "activated partially overlaps gates"),
        Case("LstmCellForward: h is c", (b, v) => { var s = v.F(6); b.LstmCellForward(v.F(24), v.F(6), v.F(6), default, v.F(24), s, s, default, 3, 2, 2, 0); }, "c", "c overlaps h"),
        Case("LstmCellForward: y overlaps hPrev", (b, v) => { var s = v.F(12); b.LstmCellForward(v.F(24), v.F(6), s.Slice(0, 6), default, v.F(24), v.F(6), v.F(6), s.Slice(4, 8), 3, 2, 3, 0); }, "y", "y overlaps hPrev"),
        Case("LstmCellBackward: dGates partially overlaps activated", (b, v) => { var s = v.F(26); b.LstmCellBackward(s.Slice(0, 24), v.F(6), v.F(6), default, default, v.F(6), v.F(6), s.Slice(2, 24), v.F(6), v.F(6), 3, 2, 2, 0); }, "dGates", "dGates partially overlaps activated"),
        Case("LstmCellBackward: dhPrev partially overlaps dhNext", (b, v) => { var s = v.F(8); b.LstmCellBackward(v.F(24), v.F(6), v.F(6), default, default, s.Slice(0, 6), v.F(6), v.F(24), s.Slice(2, 6), v.F(6), 3, 2, 2, 0); }, "dhPrev", "dhPrev partially overlaps dhNext"),
        Case("LstmCellBackward: dcPrev is dhNext", (b, v) => { var s = v.F(6); b.LstmCellBackward(v.F(24), v.F(6), v.F(6), default, default, s, v.F(6), v.F(24), v.F(6), s, 3, 2, 2, 0); }, "dcPrev", "dcPrev overlaps dhNext"),
        Case("LstmCellBackward: dcPrev overlaps dy", (b, v) => { var s = v.F(10); b.LstmCellBackward(v.F(24), v.F(6), v.F(6), default, s, v.F(6), v.F(6), v.F(24), v.F(6), s.Slice(4, 6), 3, 2, 4, 0); }, "dcPrev", "dcPrev overlaps dy"),
        Case("LstmCellBackward: dy too small for its stride", (b, v) => b.LstmCellBackward(v.F(24), v.F(6), v.F(6), default, v.F(7), v.F(6), v.F(6), v.F(24), v.F(6), v.F(6), 3, 2, 3, 0), "dy", "length 7", "8"),
        Case("LstmCellBackward: c too small", (b, v) => b.LstmCellBackward(v.F(24), v.F(6), v.F(5), default, default, v.F(6), v.F(6), v.F(24), v.F(6), v.F(6), 3, 2, 2, 0), "c", "length 5", "(3, 2)"),
    ];

    public static TheoryData<string> CaseNames
    {
        get
        {
            var names = new TheoryData<string>();
            foreach (var c in Cases) names.Add(c.Name);
            return names;
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames), MemberType = typeof(ArgumentValidationTests))]
    public void Rejects_bad_arguments_before_writing_anything(string name)
    {
        var c = Cases.Single(x => x.Name == name);
        if (c.ReadsIndexValues && !ChecksIndexValuesOnHost) return;
        using var backend = CreateBackend();
        using var views = new ValidationViews(backend, CreateBackend);

        var error = Record.Exception(() => c.Call(backend, views));

        if (error is null) throw new XunitException($"{name}: no exception.");
        if (c.Disposed)
        {
            if (error is not ObjectDisposedException disposed)
                throw new XunitException($"{name}: want ObjectDisposedException, got {error.GetType().Name}: {error.Message}");
            AssertNames(name, c.Param, disposed.ObjectName, disposed.Message);
        }
        else
        {
            if (error is not ArgumentException argument)
                throw new XunitException($"{name}: want ArgumentException, got {error.GetType().Name}: {error.Message}");
            AssertNames(name, c.Param, argument.ParamName, argument.Message);
            foreach (string fragment in c.Fragments)
            {
                if (!ContainsWord(argument.Message, fragment))
                    throw new XunitException($"{name}: the message should contain '{fragment}': {argument.Message}");
            }
        }
        views.AssertUnchanged();
    }

    [Fact]
    public void A_view_of_another_instance_is_named_with_its_owner()
    {
        using var backend = CreateBackend();
        using var views = new ValidationViews(backend, CreateBackend);
        var error = Assert.ThrowsAny<ArgumentException>(() => backend.Fill(views.Foreign(3), 1f));
        Assert.Equal("x", error.ParamName);
        Assert.Contains($"x belongs to a different backend instance ('{backend.Name}')", error.Message, StringComparison.Ordinal);
        views.AssertUnchanged();
    }

    [Fact]
    public void Case_names_are_unique()
    {
        var seen = new HashSet<string>();
        foreach (var c in Cases) Assert.True(seen.Add(c.Name), $"duplicate case name '{c.Name}'");
    }

    /// <summary>ParamName equals one of the '|'-separated names, or is an expression containing one as a word.</summary>
    static void AssertNames(string caseName, string expected, string? paramName, string message)
    {
        var alternatives = expected.Split('|');
        var tokens = Regex.Split(paramName ?? "", "[^A-Za-z0-9_]+");
        foreach (string name in alternatives)
        {
            if (name == paramName || tokens.Contains(name)) return;
        }
        throw new XunitException($"{caseName}: ParamName '{paramName}' names none of {expected}; message: {message}");
    }

    static bool ContainsWord(string text, string fragment) =>
        Regex.IsMatch(text, "(?<![A-Za-z0-9_])" + Regex.Escape(fragment) + "(?![A-Za-z0-9_])");
}

public sealed class CpuBackendArgumentValidationTests : ArgumentValidationTests
{
    protected override IComputeBackend CreateBackend() => new CpuBackend(threads: 2);
}

public sealed class ReferenceBackendArgumentValidationTests : ArgumentValidationTests
{
    protected override IComputeBackend CreateBackend() => new ReferenceBackend();
}
