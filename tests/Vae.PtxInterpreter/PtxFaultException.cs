// A fault found while interpreting a kernel: what went wrong, in which kernel, at which instruction (line and text),
// in which thread and block. Raised at the first fault; the launch stops there.
namespace Vae.PtxInterpreter;

public enum PtxFaultKind
{
    OutOfBounds,
    Misaligned,
    UninitializedRegister,
    UninitializedShared,
    UninitializedGlobal,
    SharedRace,
    DivergentBarrier,
    BarrierDeadlock,
    ShuffleMask,
    IntegerDivideByZero,
    Trap,
    InvalidAddress,
    StepLimit,
}

public sealed class PtxFaultException : Exception
{
    public PtxFaultKind Kind { get; }
    public string Kernel { get; }
    public int Line { get; }
    public string Instruction { get; }
    public Dim3 Thread { get; }
    public Dim3 Block { get; }
    /// <summary>The fault's own description, without the location.</summary>
    public string Detail { get; }

    public PtxFaultException(PtxFaultKind kind, string kernel, string sourceName, int line, string instruction,
        Dim3 thread, Dim3 block, string detail)
        : base($"{kind} in kernel {kernel} at {sourceName}:{line} `{instruction}`, thread {thread}, block {block}: {detail}")
    {
        Kind = kind;
        Kernel = kernel;
        Line = line;
        Instruction = instruction;
        Thread = thread;
        Block = block;
        Detail = detail;
    }
}

/// <summary>A grid or block size, or a thread or block index.</summary>
public readonly record struct Dim3(int X, int Y = 1, int Z = 1)
{
    public long Volume => (long)X * Y * Z;
    public override string ToString() => $"({X},{Y},{Z})";
}

/// <summary>An address in the simulated GPU's global memory.</summary>
public readonly record struct DevicePointer(ulong Address)
{
    public static DevicePointer operator +(DevicePointer p, long bytes) => new(p.Address + (ulong)bytes);
    public static implicit operator ulong(DevicePointer p) => p.Address;
    public DevicePointer Add(long bytes) => this + bytes;
    public ulong ToUInt64() => Address;
    public override string ToString() => $"0x{Address:x}";
}
