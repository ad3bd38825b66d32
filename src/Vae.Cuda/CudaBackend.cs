// The CUDA backend: the compute layer on a GPU, name for name with CpuBackend. GEMM goes to cuBLAS (row-major views
// mapped onto column-major SGEMM); every other primitive is a hand-written PTX kernel from kernels/*.ptx, launched
// through the ICudaDevice seam with preallocated argument slots, so a launch allocates nothing. One partial file per
// primitive family (CudaBackend.Elementwise.cs, CudaBackend.Losses.cs, ...), each a "launchers" section whose kernels
// live in the .ptx file of the same family.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Vae.Cuda.Device;

namespace Vae.Cuda;

public sealed unsafe partial class CudaBackend : IComputeBackend
{
    const int MaxArguments = 32;
    const int SlotBytes = 16;

    /// <summary>Threads per block of the one-dimensional elementwise kernels.</summary>
    internal const int BlockSize = 256;

    readonly ICudaDevice _device;
    readonly bool _ownsDevice;
    readonly KernelLibrary _kernels;
    readonly byte* _slots;        // MaxArguments slots of SlotBytes, one per kernel argument value
    readonly void** _slotPointers; // cuLaunchKernel's kernelParams: a pointer to each slot
    int _argumentCount;
    bool _disposed;

    /// <summary>A backend on <paramref name="device"/> (loads every kernel module once).</summary>
    public CudaBackend(ICudaDevice device, bool ownsDevice = true)
    {
        ArgumentNullException.ThrowIfNull(device);
        _device = device;
        _ownsDevice = ownsDevice;
        _kernels = new KernelLibrary(device);
        _slots = (byte*)NativeMemory.AlignedAlloc(MaxArguments * SlotBytes, 16);
        _slotPointers = (void**)NativeMemory.Alloc(MaxArguments, (nuint)sizeof(void*));
        for (int i = 0; i < MaxArguments; i++) _slotPointers[i] = _slots + i * SlotBytes;
    }

    /// <summary>A backend on GPU <paramref name="ordinal"/>; throws <see cref="CudaUnavailableException"/> when there is none.</summary>
    public static CudaBackend Open(int ordinal = 0) => new(CudaDriverDevice.Open(ordinal));

    public string Name => "cuda";

    public ICudaDevice Device => _device;

    // ---------------------------------------------------------------- memory

    readonly System.Collections.Concurrent.ConcurrentQueue<ulong> _abandoned = new();

    /// <summary>Called by a finalized, undisposed CudaBuffer: freed at the next Allocate or Dispose, on the owner's thread.</summary>
    internal void FreeLater(ulong pointer) => _abandoned.Enqueue(pointer);

    void FreeAbandoned()
    {
        while (_abandoned.TryDequeue(out ulong p)) _device.Free(p);
    }

    public DeviceBuffer Allocate(long byteLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteLength);
        FreeAbandoned();
        var buffer = new CudaBuffer(this, _device, byteLength);
        _device.Memset32(buffer.Pointer, 0, (Math.Max(byteLength, 4) + 3) / 4);
        return buffer;
    }

    public void Upload<T>(ReadOnlySpan<T> source, DeviceSpan<T> destination) where T : unmanaged
    {
        BackendChecks.Owned(this, destination);
        if (source.Length != destination.Length)
            throw new ArgumentException($"source has length {source.Length} but destination has length {destination.Length}; they must be equal.", nameof(source));
        _device.CopyToDevice(Ptr(destination), MemoryMarshal.AsBytes(source));
    }

    public void Download<T>(DeviceSpan<T> source, Span<T> destination) where T : unmanaged
    {
        BackendChecks.Owned(this, source);
        if (source.Length != destination.Length)
            throw new ArgumentException($"source has length {source.Length} but destination has length {destination.Length}; they must be equal.", nameof(destination));
        _device.CopyToHost(Ptr(source), MemoryMarshal.AsBytes(destination));
    }

    public void Synchronize() => _device.Synchronize();

    // ---------------------------------------------------------------- linear algebra

    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, DeviceSpan<float> a, DeviceSpan<float> b, float beta, DeviceSpan<float> c)
    {
        BackendChecks.Gemm(this, transA, transB, m, n, k, a, b, c);
        if (m == 0 || n == 0) return;
        // Row-major C (m x n) is column-major C^T (n x m) = op(B)^T op(A)^T: cuBLAS gets B first.
        _device.Sgemm(transB, transA, n, m, k, alpha,
            Ptr(b), Math.Max(1, transB ? k : n),
            Ptr(a), Math.Max(1, transA ? m : k),
            beta, Ptr(c), n);
    }

    // ---------------------------------------------------------------- launching

    /// <summary>Device address of a validated view's first element (0 for the null view).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Ptr<T>(DeviceSpan<T> view) where T : unmanaged =>
        view.Buffer is null ? 0 : ((CudaBuffer)view.Buffer).Pointer + (ulong)(view.Offset * sizeof(T));

    /// <summary>Blocks of <see cref="BlockSize"/> threads covering <paramref name="count"/> elements (at least one).</summary>
    internal static LaunchDims Blocks(long count, int threads = BlockSize) =>
        new((uint)Math.Clamp((count + threads - 1) / threads, 1, int.MaxValue));

    void Slot<T>(T value) where T : unmanaged
    {
        if (_argumentCount == MaxArguments) throw new InvalidOperationException($"a kernel takes at most {MaxArguments} arguments");
        byte* slot = _slots + _argumentCount++ * SlotBytes;
        *(ulong*)slot = 0;            // a narrower value in a wider .param reads as zero-extended, never stale bytes
        *(ulong*)(slot + 8) = 0;
        *(T*)slot = value;
    }

    // Arguments are set in the kernel's .param order, then Launch sends them.
    internal void Arg<T>(DeviceSpan<T> view) where T : unmanaged => Slot(Ptr(view));
    internal void Arg(ulong value) => Slot(value);
    internal void Arg(int value) => Slot(value);
    internal void Arg(uint value) => Slot(value);
    internal void Arg(float value) => Slot(value);
    internal void Arg(double value) => Slot(value);

    /// <summary>Launches <paramref name="kernel"/> with the arguments set since the last launch.</summary>
    internal void Launch(string kernel, LaunchDims grid, LaunchDims block, int sharedBytes = 0)
    {
        int count = _argumentCount;
        _argumentCount = 0;
        _device.Launch(_kernels[kernel], grid, block, sharedBytes, _slotPointers, count);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _reductionScratch?.Dispose();
        FreeAbandoned();
        NativeMemory.AlignedFree(_slots);
        NativeMemory.Free(_slotPointers);
        if (_ownsDevice) _device.Dispose();
        GC.SuppressFinalize(this);
    }
}
