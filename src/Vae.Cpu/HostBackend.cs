// Memory management shared by the backends whose buffers live in host RAM (CpuBackend, ReferenceBackend),
// plus the pointer and span accessors their primitives use after BackendChecks has validated the views.
using System.Runtime.CompilerServices;

namespace Vae.Cpu;

public abstract unsafe class HostBackend
{
    public abstract string Name { get; }

    public DeviceBuffer Allocate(long byteLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteLength);
        return new CpuBuffer((IComputeBackend)this, byteLength);
    }

    public void Upload<T>(ReadOnlySpan<T> source, DeviceSpan<T> destination) where T : unmanaged
    {
        BackendChecks.Owned((IComputeBackend)this, destination);
        if (source.Length != destination.Length)
            throw new ArgumentException($"source has length {source.Length} but destination has length {destination.Length}; they must be equal.", nameof(source));
        source.CopyTo(Span(destination));
    }

    public void Download<T>(DeviceSpan<T> source, Span<T> destination) where T : unmanaged
    {
        BackendChecks.Owned((IComputeBackend)this, source);
        if (source.Length != destination.Length)
            throw new ArgumentException($"source has length {source.Length} but destination has length {destination.Length}; they must be equal.", nameof(destination));
        Span(source).CopyTo(destination);
    }

    public void Synchronize() { }

    // The device-counter forms of RandomNormal and AdamStep: on the host the counter is ordinary memory.

    public void RandomNormal(DeviceSpan<float> output, ulong seed, DeviceSpan<ulong> offset)
    {
        var self = (IComputeBackend)this;
        BackendChecks.RandomNormal(self, output, seed, offset);
        ulong* counter = Ptr(offset);
        self.RandomNormal(output, seed, *counter);
        *counter += (ulong)output.Length;
    }

    public void AdamStep(DeviceSpan<float> parameters, DeviceSpan<float> gradients, DeviceSpan<float> m, DeviceSpan<float> v, AdamSettings settings, DeviceSpan<int> step)
    {
        var self = (IComputeBackend)this;
        BackendChecks.AdamStep(self, parameters, gradients, m, v, settings, step);
        int* counter = Ptr(step);
        self.AdamStep(parameters, gradients, m, v, settings, checked(*counter + 1));
        *counter += 1;
    }

    /// <summary>Pointer to the first element of a validated view.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected static T* Ptr<T>(DeviceSpan<T> view) where T : unmanaged =>
        (T*)((CpuBuffer)view.Buffer!).Pointer + view.Offset;

    /// <summary>The view as a Span (validated view).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected static Span<T> Span<T>(DeviceSpan<T> view) where T : unmanaged => new(Ptr(view), view.Length);

    /// <summary>The first <paramref name="length"/> elements of a validated view.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected static Span<T> Span<T>(DeviceSpan<T> view, int length) where T : unmanaged => new(Ptr(view), length);

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
