// Host memory for the CPU and reference backends: one 64-byte aligned NativeMemory block per buffer.
using System.Runtime.InteropServices;

namespace Vae.Cpu;

public sealed unsafe class CpuBuffer : DeviceBuffer
{
    public const int Alignment = 64;

    internal CpuBuffer(IComputeBackend owner, long byteLength) : base(owner, byteLength)
    {
        Pointer = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(byteLength, 1), Alignment);
        NativeMemory.Clear(Pointer, (nuint)byteLength);
    }

    ~CpuBuffer() => Release();

    /// <summary>Start of the block. Valid until the buffer is disposed.</summary>
    public byte* Pointer { get; private set; }

    protected override void Release()
    {
        if (Pointer is null) return;
        NativeMemory.AlignedFree(Pointer);
        Pointer = null;
    }
}
