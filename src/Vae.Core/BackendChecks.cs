// Argument validation shared by every backend, one method per primitive family, so that all backends reject the same
// calls with the same messages before writing anything. Messages name the argument, its length and the shape asked for.
using System.Runtime.CompilerServices;

namespace Vae;

public static class BackendChecks
{
    /// <summary>The view belongs to <paramref name="backend"/>, is not disposed, and is not the null view.</summary>
    public static void Owned<T>(IComputeBackend backend, DeviceSpan<T> view, [CallerArgumentExpression(nameof(view))] string? name = null) where T : unmanaged
    {
        if (view.Buffer is null) throw new ArgumentException($"{name} is a null view.", name);
        if (!ReferenceEquals(view.Buffer.Owner, backend))
            throw new ArgumentException($"{name} belongs to backend '{view.Buffer.Owner.Name}', not '{backend.Name}'.", name);
        if (view.Buffer.IsDisposed) throw new ObjectDisposedException(name, $"{name} refers to a disposed buffer.");
    }

    /// <summary>Optional output: either the null view or an owned view of at least one element.</summary>
    public static void OptionalScalar(IComputeBackend backend, DeviceSpan<float> view, [CallerArgumentExpression(nameof(view))] string? name = null)
    {
        if (view.IsNull) return;
        Scalar(backend, view, name);
    }

    public static void Scalar<T>(IComputeBackend backend, DeviceSpan<T> view, [CallerArgumentExpression(nameof(view))] string? name = null) where T : unmanaged
    {
        Owned(backend, view, name);
        if (view.Length < 1) throw new ArgumentException($"{name} has length 0; it must hold at least 1 element for the result.", name);
    }

    public static void NonNegative(int value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (value < 0) throw new ArgumentOutOfRangeException(name, value, $"{name} = {value} must be >= 0.");
    }

    /// <summary>The view is owned and holds at least rows*cols elements of a (rows, cols) matrix.</summary>
    public static void Matrix<T>(IComputeBackend backend, DeviceSpan<T> view, int rows, int cols, [CallerArgumentExpression(nameof(view))] string? name = null) where T : unmanaged
    {
        Owned(backend, view, name);
        if (rows < 0) NonNegative(rows, name + " rows");   // the name is built only on failure: checks allocate nothing
        if (cols < 0) NonNegative(cols, name + " cols");
        long need = (long)rows * cols;
        if (view.Length < need)
            throw new ArgumentException($"{name} has length {view.Length} but shape ({rows}, {cols}) needs {need} elements.", name);
    }

    /// <summary>Both views are owned and of equal length.</summary>
    public static void SameLength<TA, TB>(IComputeBackend backend, DeviceSpan<TA> a, DeviceSpan<TB> b,
        [CallerArgumentExpression(nameof(a))] string? nameA = null, [CallerArgumentExpression(nameof(b))] string? nameB = null)
        where TA : unmanaged where TB : unmanaged
    {
        Owned(backend, a, nameA);
        Owned(backend, b, nameB);
        if (a.Length != b.Length)
            throw new ArgumentException($"{nameA} has length {a.Length} but {nameB} has length {b.Length}; they must be equal.", nameB);
    }

    public static void NoOverlap<T>(DeviceSpan<T> a, DeviceSpan<T> b,
        [CallerArgumentExpression(nameof(a))] string? nameA = null, [CallerArgumentExpression(nameof(b))] string? nameB = null) where T : unmanaged
    {
        if (a.Overlaps(b)) throw new ArgumentException($"{nameA} {a} overlaps {nameB} {b}; they must be disjoint.", nameA);
    }

    /// <summary>Elementwise in-place convention: the views are either identical or disjoint.</summary>
    public static void IdenticalOrDisjoint<T>(DeviceSpan<T> a, DeviceSpan<T> b,
        [CallerArgumentExpression(nameof(a))] string? nameA = null, [CallerArgumentExpression(nameof(b))] string? nameB = null) where T : unmanaged
    {
        if (a != b && a.Overlaps(b)) throw new ArgumentException($"{nameA} {a} partially overlaps {nameB} {b}; they must be identical or disjoint.", nameB);
    }

    public static void Gemm(IComputeBackend backend, bool transA, bool transB, int m, int n, int k, DeviceSpan<float> a, DeviceSpan<float> b, DeviceSpan<float> c)
    {
        NonNegative(m); NonNegative(n); NonNegative(k);
        if (transA) Matrix(backend, a, k, m); else Matrix(backend, a, m, k);
        if (transB) Matrix(backend, b, n, k); else Matrix(backend, b, k, n);
        Matrix(backend, c, m, n);
        var cUsed = c.Slice(0, m * n);
        NoOverlap(cUsed, a.Slice(0, m * k));
        NoOverlap(cUsed, b.Slice(0, k * n));
    }

    /// <summary>Row-wise loss forward: inputs (rows, cols), perSample (rows), optional total.</summary>
    public static void LossForward(IComputeBackend backend, DeviceSpan<float> perSample, DeviceSpan<float> total, int rows, int cols)
    {
        NonNegative(rows); NonNegative(cols);
        Matrix(backend, perSample, rows, 1);
        OptionalScalar(backend, total);
        if (!total.IsNull) NoOverlap(total.Slice(0, 1), perSample.Slice(0, rows));
    }

    public static void Activation(Activation f)
    {
        if (!Enum.IsDefined(f)) throw new ArgumentOutOfRangeException(nameof(f), f, "Unknown activation.");
    }

    public static void LogVarClamp(float minLogVar, float maxLogVar)
    {
        if (!(minLogVar <= maxLogVar)) throw new ArgumentException($"minLogVar = {minLogVar} must be <= maxLogVar = {maxLogVar}.", nameof(minLogVar));
    }

    public static void Indexing(IComputeBackend backend, DeviceSpan<int> indices, DeviceSpan<float> table, DeviceSpan<float> rowsView, int tableRows, int count, int cols)
    {
        NonNegative(tableRows); NonNegative(count); NonNegative(cols);
        Matrix(backend, table, tableRows, cols);
        Matrix(backend, indices, count, 1);
        Matrix(backend, rowsView, count, cols);
        NoOverlap(table.Slice(0, tableRows * cols), rowsView.Slice(0, count * cols));
    }

    /// <summary>Host-side index validation for backends that can read indices cheaply (CPU, reference).</summary>
    public static void IndexInRange(int index, int position, int limit, string what)
    {
        if ((uint)index >= (uint)limit)
            throw new ArgumentOutOfRangeException(what, index, $"{what}[{position}] = {index} is outside [0, {limit}).");
    }

    public static void CrossEntropyTarget(int target, int row, int classes, int ignoreIndex)
    {
        if (target != ignoreIndex && (uint)target >= (uint)classes)
            throw new ArgumentOutOfRangeException("targets", target, $"targets[{row}] = {target} is outside [0, {classes}) and is not the ignore index {ignoreIndex}.");
    }

    public static void Adam(IComputeBackend backend, DeviceSpan<float> parameters, DeviceSpan<float> gradients, DeviceSpan<float> m, DeviceSpan<float> v, AdamSettings settings, int step)
    {
        SameLength(backend, parameters, gradients);
        SameLength(backend, parameters, m);
        SameLength(backend, parameters, v);
        NoOverlap(parameters, gradients); NoOverlap(parameters, m); NoOverlap(parameters, v);
        NoOverlap(gradients, m); NoOverlap(gradients, v); NoOverlap(m, v);
        settings.Validate();
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "Adam step counts from 1.");
    }
}
