// A typed window (offset, length) into a DeviceBuffer: the argument type of every primitive.
// Slicing is free and allocates nothing; named views of parameters and activations are DeviceSpans.
namespace Vae;

/// <summary>
/// A view of <see cref="Length"/> elements of type <typeparamref name="T"/> starting at element
/// <see cref="Offset"/> of a <see cref="DeviceBuffer"/>. The memory may live on a GPU, so it is not a Span.
/// </summary>
public readonly struct DeviceSpan<T> : IEquatable<DeviceSpan<T>> where T : unmanaged
{
    public DeviceSpan(DeviceBuffer buffer, long offset, int length)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        unsafe
        {
            if ((offset + length) * sizeof(T) > buffer.ByteLength)
                throw new ArgumentOutOfRangeException(nameof(length),
                    $"View [{offset}, {offset + length}) of {typeof(T).Name} exceeds a buffer of {buffer.ByteLength} bytes.");
        }
        Buffer = buffer;
        Offset = offset;
        Length = length;
    }

    /// <summary>The buffer viewed; null for the empty default view.</summary>
    public DeviceBuffer? Buffer { get; }

    /// <summary>Offset of the first element, in elements of T.</summary>
    public long Offset { get; }

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>True for <c>default(DeviceSpan&lt;T&gt;)</c>, used for optional outputs.</summary>
    public bool IsNull => Buffer is null;

    public DeviceSpan<T> Slice(int start, int length)
    {
        if ((uint)start > (uint)Length || (uint)length > (uint)(Length - start))
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice [{start}, {start + (long)length}) is outside a view of length {Length}.");
        return new DeviceSpan<T>(Buffer!, Offset + start, length);
    }

    public DeviceSpan<T> Slice(int start) => Slice(start, Length - start);

    /// <summary>True when the two views share at least one element of the same buffer.</summary>
    public bool Overlaps(DeviceSpan<T> other) =>
        Buffer is not null && ReferenceEquals(Buffer, other.Buffer) && Length > 0 && other.Length > 0 &&
        Offset < other.Offset + other.Length && other.Offset < Offset + Length;

    public bool Equals(DeviceSpan<T> other) => ReferenceEquals(Buffer, other.Buffer) && Offset == other.Offset && Length == other.Length;
    public override bool Equals(object? obj) => obj is DeviceSpan<T> s && Equals(s);
    public override int GetHashCode() => HashCode.Combine(Buffer, Offset, Length);
    public static bool operator ==(DeviceSpan<T> left, DeviceSpan<T> right) => left.Equals(right);
    public static bool operator !=(DeviceSpan<T> left, DeviceSpan<T> right) => !left.Equals(right);
    public override string ToString() => $"DeviceSpan<{typeof(T).Name}>[{Offset}..{Offset + Length})";
}
