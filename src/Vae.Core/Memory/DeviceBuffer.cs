// An opaque block of backend memory (host RAM for the CPU backend, device memory for CUDA).
// It is never touched directly: data moves in and out through IComputeBackend.Upload/Download.
namespace Vae;

/// <summary>A block of memory owned by one backend. Dispose it to free the memory.</summary>
public abstract class DeviceBuffer : IDisposable
{
    protected DeviceBuffer(IComputeBackend owner, long byteLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteLength);
        Owner = owner;
        ByteLength = byteLength;
    }

    /// <summary>The backend that allocated this buffer; only it may use the buffer.</summary>
    public IComputeBackend Owner { get; }

    /// <summary>Size in bytes.</summary>
    public long ByteLength { get; }

    public bool IsDisposed { get; private set; }

    /// <summary>A typed view over the whole buffer (or its first <c>ByteLength / sizeof(T)</c> elements).</summary>
    public unsafe DeviceSpan<T> AsSpan<T>() where T : unmanaged
    {
        long count = ByteLength / sizeof(T);
        if (count > int.MaxValue)
            throw new InvalidOperationException($"Buffer of {ByteLength} bytes holds {count} elements of {typeof(T).Name}; views are limited to {int.MaxValue} elements.");
        return new DeviceSpan<T>(this, 0, (int)count);
    }

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Release();
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the native memory. Called once; must not throw.</summary>
    protected abstract void Release();
}
