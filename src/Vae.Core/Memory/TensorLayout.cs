// Named tensors carved out of one flat buffer (llm.c style). Parameters, gradients and Adam's m and v share one
// layout, so the optimizer is one call over four flat buffers and zeroing gradients is one Fill.
namespace Vae;

/// <summary>One named tensor inside a flat buffer: its shape and where its elements start.</summary>
public sealed record TensorEntry(string Name, int[] Shape, int Offset, int Length)
{
    public string ShapeText => "(" + string.Join(", ", Shape) + ")";
}

/// <summary>An ordered list of named tensors and their offsets; offsets are 16-float (64-byte) aligned.</summary>
public sealed class TensorLayout
{
    public const int Alignment = 16;
    readonly List<TensorEntry> entries = [];
    readonly Dictionary<string, TensorEntry> byName = new(StringComparer.Ordinal);

    public IReadOnlyList<TensorEntry> Entries => entries;

    /// <summary>Total floats, including alignment padding.</summary>
    public int TotalLength { get; private set; }

    /// <summary>Floats that belong to tensors (excluding padding).</summary>
    public long ElementCount { get; private set; }

    /// <summary>Appends a tensor of the given shape; names must be unique.</summary>
    public TensorEntry Add(string name, params int[] shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (byName.ContainsKey(name)) throw new ArgumentException($"Tensor '{name}' is already in the layout.", nameof(name));
        long length = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"Tensor '{name}' has a negative dimension in shape ({string.Join(", ", shape)}).", nameof(shape));
            length *= d;
        }
        int offset = (TotalLength + Alignment - 1) / Alignment * Alignment;
        if (offset + length > int.MaxValue) throw new ArgumentException($"Layout would exceed {int.MaxValue} floats adding '{name}'.", nameof(shape));
        var entry = new TensorEntry(name, (int[])shape.Clone(), offset, (int)length);
        entries.Add(entry);
        byName.Add(name, entry);
        TotalLength = offset + (int)length;
        ElementCount += length;
        return entry;
    }

    public TensorEntry this[string name] =>
        byName.TryGetValue(name, out var e) ? e : throw new KeyNotFoundException($"No tensor named '{name}' in the layout.");

    /// <summary>The view of <paramref name="entry"/> inside a buffer laid out by this layout.</summary>
    public static DeviceSpan<float> View(DeviceSpan<float> flat, TensorEntry entry) => flat.Slice(entry.Offset, entry.Length);
}

/// <summary>
/// Parameters, gradients and Adam moments: four flat buffers of one layout, allocated once on a backend.
/// </summary>
public sealed class ParameterStore : IDisposable
{
    readonly DeviceBuffer parameterBuffer, gradientBuffer, mBuffer, vBuffer;

    public ParameterStore(IComputeBackend backend, TensorLayout layout)
    {
        Backend = backend;
        Layout = layout;
        long bytes = (long)Math.Max(layout.TotalLength, 1) * sizeof(float);
        parameterBuffer = backend.Allocate(bytes);
        gradientBuffer = backend.Allocate(bytes);
        mBuffer = backend.Allocate(bytes);
        vBuffer = backend.Allocate(bytes);
        Parameters = parameterBuffer.AsSpan<float>().Slice(0, layout.TotalLength);
        Gradients = gradientBuffer.AsSpan<float>().Slice(0, layout.TotalLength);
        AdamM = mBuffer.AsSpan<float>().Slice(0, layout.TotalLength);
        AdamV = vBuffer.AsSpan<float>().Slice(0, layout.TotalLength);
    }

    public IComputeBackend Backend { get; }
    public TensorLayout Layout { get; }
    public DeviceSpan<float> Parameters { get; }
    public DeviceSpan<float> Gradients { get; }
    public DeviceSpan<float> AdamM { get; }
    public DeviceSpan<float> AdamV { get; }

    public DeviceSpan<float> Parameter(string name) => TensorLayout.View(Parameters, Layout[name]);
    public DeviceSpan<float> Gradient(string name) => TensorLayout.View(Gradients, Layout[name]);

    public void ZeroGradients() => Backend.Fill(Gradients, 0f);

    public void Dispose()
    {
        parameterBuffer.Dispose();
        gradientBuffer.Dispose();
        mBuffer.Dispose();
        vBuffer.Dispose();
    }
}
