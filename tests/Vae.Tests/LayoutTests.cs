// Memory layout: TensorLayout places named tensors at 16-float aligned, disjoint offsets with unique names;
// ParameterStore carves the same layout out of four flat buffers; DeviceSpan slicing checks its bounds and Overlaps
// agrees with a brute-force intersection of index ranges.
using FsCheck;
using FsCheck.Fluent;
using Vae.Cpu;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests;

public sealed class LayoutTests
{
    static Gen<int[]> Shape { get; } =
        from rank in Gen.Choose(0, 3)
        from dims in Gen.ArrayOf(Gen.Frequency((1, Gen.Constant(0)), (6, Gen.Choose(1, 40)), (1, Gen.Elements(new[] { 784, 400, 1000 }))), rank)
        select dims;

    static Gen<int[][]> Shapes { get; } = from count in Gen.Choose(0, 12) from shapes in Gen.ArrayOf(Shape, count) select shapes;

    static TensorLayout Build(int[][] shapes)
    {
        var layout = new TensorLayout();
        for (int i = 0; i < shapes.Length; i++) layout.Add($"t{i}", shapes[i]);
        return layout;
    }

    static long Product(int[] shape)
    {
        long product = 1;
        foreach (int d in shape) product *= d;
        return product;
    }

    [Fact]
    public void Offsets_are_aligned_disjoint_in_order_and_tightly_packed() => PropertyRunner.Check(Shapes, shapes =>
    {
        var layout = Build(shapes);
        Assert.Equal(shapes.Length, layout.Entries.Count);
        int end = 0;
        long elements = 0;
        for (int i = 0; i < shapes.Length; i++)
        {
            var e = layout.Entries[i];
            Assert.Equal($"t{i}", e.Name);
            Assert.Equal(shapes[i], e.Shape);
            Assert.Equal(Product(shapes[i]), e.Length);
            Assert.True(e.Offset % TensorLayout.Alignment == 0, $"{e.Name} at offset {e.Offset} is not {TensorLayout.Alignment}-float aligned");
            Assert.True(e.Offset >= end, $"{e.Name} at offset {e.Offset} overlaps the previous tensor ending at {end}");
            Assert.True(e.Offset - end < TensorLayout.Alignment, $"{e.Name} at offset {e.Offset} leaves more padding than alignment needs after {end}");
            Assert.Same(e, layout[e.Name]);
            end = e.Offset + e.Length;
            elements += e.Length;
        }
        Assert.Equal(end, layout.TotalLength);
        Assert.Equal(elements, layout.ElementCount);
    }, 100);

    [Fact]
    public void Duplicate_names_throw_and_leave_the_layout_unchanged()
    {
        var layout = new TensorLayout();
        layout.Add("encoder.weight", 400, 784);
        layout.Add("encoder.bias", 400);
        int total = layout.TotalLength;
        var error = Assert.Throws<ArgumentException>(() => layout.Add("encoder.weight", 3));
        Assert.Equal("name", error.ParamName);
        Assert.Contains("encoder.weight", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, layout.Entries.Count);
        Assert.Equal(total, layout.TotalLength);
        Assert.Equal(784 * 400, layout["encoder.weight"].Length);
    }

    [Fact]
    public void Invalid_names_and_shapes_throw()
    {
        var layout = new TensorLayout();
        Assert.ThrowsAny<ArgumentException>(() => layout.Add("", 3));
        var negative = Assert.Throws<ArgumentException>(() => layout.Add("w", 3, -2));
        Assert.Contains("(3, -2)", negative.Message, StringComparison.Ordinal);
        Assert.Empty(layout.Entries);
        Assert.Throws<KeyNotFoundException>(() => layout["missing"]);
    }

    [Fact]
    public void Scalars_and_empty_tensors_have_lengths_one_and_zero()
    {
        var layout = new TensorLayout();
        var scalar = layout.Add("scalar");
        var empty = layout.Add("empty", 5, 0);
        var after = layout.Add("after", 2);
        Assert.Equal(1, scalar.Length);
        Assert.Equal("()", scalar.ShapeText);
        Assert.Equal(0, empty.Length);
        Assert.Equal("(5, 0)", empty.ShapeText);
        Assert.Equal(0, scalar.Offset);
        Assert.Equal(16, empty.Offset);
        Assert.Equal(16, after.Offset);
        Assert.Equal(18, layout.TotalLength);
        Assert.Equal(3, layout.ElementCount);
    }

    [Fact]
    public void ParameterStore_views_land_at_the_layout_offsets_of_four_separate_buffers()
    {
        var layout = new TensorLayout();
        layout.Add("encoder.weight", 7, 5);
        layout.Add("encoder.bias", 7);
        layout.Add("decoder.weight", 5, 7);
        using var backend = new CpuBackend(threads: 1);
        using var store = new ParameterStore(backend, layout);

        var flats = new[] { store.Parameters, store.Gradients, store.AdamM, store.AdamV };
        foreach (var view in flats)
        {
            Assert.Same(backend, view.Buffer!.Owner);
            Assert.Equal(0, view.Offset);
            Assert.Equal(layout.TotalLength, view.Length);
        }
        for (int i = 0; i < flats.Length; i++)
            for (int j = i + 1; j < flats.Length; j++) Assert.NotSame(flats[i].Buffer, flats[j].Buffer);

        foreach (var entry in layout.Entries)
        {
            var p = store.Parameter(entry.Name);
            var g = store.Gradient(entry.Name);
            Assert.Same(store.Parameters.Buffer, p.Buffer);
            Assert.Same(store.Gradients.Buffer, g.Buffer);
            Assert.Equal((long)entry.Offset, p.Offset);
            Assert.Equal(entry.Length, p.Length);
            Assert.Equal((long)entry.Offset, g.Offset);
            Assert.Equal(entry.Length, g.Length);
        }

        // Data written through a named view appears at its offset in the flat buffer and nowhere else.
        var bias = store.Parameter("encoder.bias");
        backend.Upload<float>([1, 2, 3, 4, 5, 6, 7], bias);
        var flat = new float[layout.TotalLength];
        backend.Download(store.Parameters, flat);
        int offset = layout["encoder.bias"].Offset;
        for (int i = 0; i < flat.Length; i++)
        {
            float want = i >= offset && i < offset + 7 ? i - offset + 1 : 0;
            Assert.Equal(want, flat[i]);
        }
        Assert.Throws<KeyNotFoundException>(() => store.Parameter("missing"));
    }

    [Fact]
    public void ParameterStore_of_an_empty_layout_has_empty_views()
    {
        using var backend = new CpuBackend(threads: 1);
        using var store = new ParameterStore(backend, new TensorLayout());
        Assert.Equal(0, store.Parameters.Length);
        Assert.Equal(0, store.AdamV.Length);
    }

    [Fact]
    public void ZeroGradients_clears_every_gradient_and_nothing_else()
    {
        var layout = new TensorLayout();
        layout.Add("w", 3, 5);
        layout.Add("b", 3);
        using var backend = new CpuBackend(threads: 1);
        using var store = new ParameterStore(backend, layout);
        var ones = HostData.Filled(layout.TotalLength, 1f);
        backend.Upload<float>(ones, store.Gradients);
        backend.Upload<float>(ones, store.Parameters);

        store.ZeroGradients();

        var gradients = new float[layout.TotalLength];
        var parameters = new float[layout.TotalLength];
        backend.Download(store.Gradients, gradients);
        backend.Download(store.Parameters, parameters);
        Assert.All(gradients, g => Assert.Equal(0f, g));
        Assert.All(parameters, p => Assert.Equal(1f, p));
    }

    // ---------------------------------------------------------------- DeviceSpan / DeviceBuffer

    [Fact]
    public void Buffer_views_cover_whole_elements_and_disposal_is_idempotent()
    {
        using var backend = new CpuBackend(threads: 1);
        var buffer = backend.Allocate(42);
        Assert.Equal(42, buffer.ByteLength);
        Assert.Equal(10, buffer.AsSpan<float>().Length);
        Assert.Equal(5, buffer.AsSpan<double>().Length);
        Assert.Equal(42, buffer.AsSpan<byte>().Length);
        var zeros = new float[10];
        backend.Download(buffer.AsSpan<float>(), zeros);
        Assert.All(zeros, z => Assert.Equal(0f, z));
        Assert.False(buffer.IsDisposed);
        buffer.Dispose();
        buffer.Dispose();
        Assert.True(buffer.IsDisposed);
    }

    [Fact]
    public void Constructor_rejects_views_outside_the_buffer()
    {
        using var backend = new CpuBackend(threads: 1);
        using var buffer = backend.Allocate(10 * sizeof(float));
        Assert.Equal(10, new DeviceSpan<float>(buffer, 0, 10).Length);
        Assert.Equal(0, new DeviceSpan<float>(buffer, 10, 0).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DeviceSpan<float>(buffer, 0, 11));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DeviceSpan<float>(buffer, 7, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DeviceSpan<float>(buffer, -1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DeviceSpan<float>(buffer, 0, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DeviceSpan<double>(buffer, 0, 6));
        Assert.Throws<ArgumentNullException>(() => new DeviceSpan<float>(null!, 0, 0));
    }

    public sealed record SliceCase(int Length, int Start, int Count);

    [Fact]
    public void Slices_inside_the_view_compose_offsets_and_others_throw() => PropertyRunner.Check(
        from length in Gen.Choose(0, 40)
        from start in Gen.Choose(-3, 45)
        from count in Gen.Choose(-3, 45)
        select new SliceCase(length, start, count),
        c =>
        {
            using var backend = new CpuBackend(threads: 1);
            using var buffer = backend.Allocate(64 * sizeof(float));
            var view = buffer.AsSpan<float>().Slice(5, c.Length);
            bool valid = c.Start >= 0 && c.Count >= 0 && c.Start + c.Count <= c.Length;
            if (valid)
            {
                var slice = view.Slice(c.Start, c.Count);
                Assert.Same(buffer, slice.Buffer);
                Assert.Equal(5L + c.Start, slice.Offset);
                Assert.Equal(c.Count, slice.Length);
            }
            else
            {
                Assert.Throws<ArgumentOutOfRangeException>(() => view.Slice(c.Start, c.Count));
            }
            bool validTail = c.Start >= 0 && c.Start <= c.Length;
            if (validTail) Assert.Equal(c.Length - c.Start, view.Slice(c.Start).Length);
            else Assert.Throws<ArgumentOutOfRangeException>(() => view.Slice(c.Start));
        }, 200);

    public sealed record OverlapCase(int StartA, int LengthA, int StartB, int LengthB, bool SameBuffer);

    [Fact]
    public void Overlaps_agrees_with_index_range_intersection() => PropertyRunner.Check(
        from startA in Gen.Choose(0, 20)
        from lengthA in Gen.Choose(0, 12)
        from startB in Gen.Choose(0, 20)
        from lengthB in Gen.Choose(0, 12)
        from sameBuffer in Gen.Frequency((4, Gen.Constant(true)), (1, Gen.Constant(false)))
        select new OverlapCase(startA, lengthA, startB, lengthB, sameBuffer),
        c =>
        {
            using var backend = new CpuBackend(threads: 1);
            using var first = backend.Allocate(32 * sizeof(float));
            using var second = backend.Allocate(32 * sizeof(float));
            var a = first.AsSpan<float>().Slice(c.StartA, c.LengthA);
            var b = (c.SameBuffer ? first : second).AsSpan<float>().Slice(c.StartB, c.LengthB);
            bool shared = false;
            for (int i = c.StartA; i < c.StartA + c.LengthA; i++) shared |= c.SameBuffer && i >= c.StartB && i < c.StartB + c.LengthB;
            Assert.Equal(shared, a.Overlaps(b));
            Assert.Equal(shared, b.Overlaps(a));
            Assert.False(a.Overlaps(default));
            Assert.False(default(DeviceSpan<float>).Overlaps(a));
            Assert.Equal(c.SameBuffer && c.StartA == c.StartB && c.LengthA == c.LengthB, a == b);
        }, 300);

    [Fact]
    public void Default_view_is_null_and_empty()
    {
        var view = default(DeviceSpan<float>);
        Assert.True(view.IsNull);
        Assert.Null(view.Buffer);
        Assert.Equal(0, view.Length);
        Assert.Equal(default, view);
    }
}
