// A simulated GPU for tests: global memory (allocate, copy in, copy out, free) and kernel launches that interpret
// the kernel's PTX block by block. Modules are loaded on first launch (their .global/.const variables get addresses).
using System.Runtime.InteropServices;

namespace Vae.PtxInterpreter;

/// <summary>What the interpreter checks; all checks are on by default.</summary>
public sealed class PtxMachineOptions
{
    /// <summary>Fault on reading global memory that was allocated but never written.</summary>
    public bool CheckUninitializedGlobal { get; set; } = true;
    /// <summary>Fault on two threads touching the same shared byte between barriers, at least one writing.</summary>
    public bool DetectSharedRaces { get; set; } = true;
    /// <summary>Fault when one launch executes more warp instructions than this (a runaway loop).</summary>
    public long MaxWarpInstructionsPerLaunch { get; set; } = 400_000_000;
    /// <summary>Largest static + dynamic shared memory per block (H100: 227 KiB with opt-in).</summary>
    public int MaxSharedBytesPerBlock { get; set; } = 227 * 1024;
}

/// <summary>Counts from one launch.</summary>
public sealed class LaunchStatistics
{
    public long ThreadInstructions { get; internal set; }
    public long WarpInstructions { get; internal set; }
    public long Blocks { get; internal set; }
    public int WarpsPerBlock { get; internal set; }
    public long BarriersCompleted { get; internal set; }
}

public sealed class PtxMachine
{
    internal readonly GlobalMemory Memory = new();
    readonly Dictionary<PtxModule, ulong[]> _moduleSymbols = new(ReferenceEqualityComparer.Instance);

    public PtxMachineOptions Options { get; } = new();

    /// <summary>Allocates global memory; its contents are uninitialised (reading them before writing faults).</summary>
    public DevicePointer Allocate(long bytes) => new(Memory.Allocate(bytes).Base);

    public void Free(DevicePointer pointer) => Memory.Free(pointer.Address);

    public void Write<T>(DevicePointer destination, ReadOnlySpan<T> source) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(source);
        if (bytes.Length == 0) return;
        var a = Memory.Require(destination.Address, bytes.Length, "Write");
        int offset = (int)(destination.Address - a.Base);
        bytes.CopyTo(a.Data.AsSpan(offset));
        a.Initialized.AsSpan(offset, bytes.Length).Fill(true);
    }

    public void Read<T>(DevicePointer source, Span<T> destination) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(destination);
        if (bytes.Length == 0) return;
        var a = Memory.Require(source.Address, bytes.Length, "Read");
        int offset = (int)(source.Address - a.Base);
        a.Data.AsSpan(offset, bytes.Length).CopyTo(bytes);
    }

    public T[] Read<T>(DevicePointer source, int count) where T : unmanaged
    {
        var result = new T[count];
        Read(source, result.AsSpan());
        return result;
    }

    public DevicePointer Upload<T>(ReadOnlySpan<T> data) where T : unmanaged
    {
        var p = Allocate(MemoryMarshal.AsBytes(data).Length);
        Write(p, data);
        return p;
    }

    public DevicePointer Upload<T>(T[] data) where T : unmanaged => Upload((ReadOnlySpan<T>)data);

    /// <summary>Fills <paramref name="count"/> 32-bit words (cuMemsetD32).</summary>
    public void Memset32(DevicePointer destination, uint value, long count)
    {
        var a = Memory.Require(destination.Address, count * 4, "Memset32");
        int offset = (int)(destination.Address - a.Base);
        MemoryMarshal.Cast<byte, uint>(a.Data.AsSpan(offset, (int)(count * 4))).Fill(value);
        a.Initialized.AsSpan(offset, (int)(count * 4)).Fill(true);
    }

    /// <summary>Interprets one kernel launch. Arguments follow the .param order (see the class docs for the types).</summary>
    public LaunchStatistics Launch(PtxModule module, string kernelName, Dim3 grid, Dim3 block, int dynamicSharedBytes, params object[] args)
    {
        ArgumentNullException.ThrowIfNull(module);
        var kernel = module.GetKernel(kernelName);
        return Launch(kernel, grid, block, dynamicSharedBytes, PackArguments(kernel, args));
    }

    /// <summary>Launches with a ready parameter buffer laid out at each parameter's offset (CU_LAUNCH_PARAM_BUFFER_POINTER).</summary>
    public LaunchStatistics Launch(PtxKernel kernel, Dim3 grid, Dim3 block, int dynamicSharedBytes, byte[] parameterBuffer)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(parameterBuffer);
        if (grid.X < 1 || grid.Y < 1 || grid.Z < 1 || grid.Y > 65535 || grid.Z > 65535)
            throw new ArgumentOutOfRangeException(nameof(grid), grid, "grid dimensions must be >= 1 (y and z at most 65535)");
        if (block.X < 1 || block.Y < 1 || block.Z < 1 || block.Volume > 1024 || block.Z > 64)
            throw new ArgumentOutOfRangeException(nameof(block), block, "block dimensions must be >= 1 with at most 1024 threads (z at most 64)");
        ArgumentOutOfRangeException.ThrowIfNegative(dynamicSharedBytes);
        long dynamicOffset = AlignUp(kernel.StaticSharedBytes, kernel.DynamicSharedAlign);
        long sharedTotal = dynamicOffset + dynamicSharedBytes;
        if (sharedTotal > Options.MaxSharedBytesPerBlock)
            throw new ArgumentOutOfRangeException(nameof(dynamicSharedBytes), dynamicSharedBytes,
                $"kernel {kernel.Name} needs {kernel.StaticSharedBytes} static + {dynamicSharedBytes} dynamic bytes of shared memory, over the {Options.MaxSharedBytesPerBlock}-byte limit");
        if (parameterBuffer.Length < kernel.ParameterBytes)
            throw new ArgumentException($"kernel {kernel.Name} takes {kernel.ParameterBytes} bytes of parameters but the buffer has {parameterBuffer.Length}", nameof(parameterBuffer));

        var symbolValues = ResolveSymbols(kernel, dynamicOffset);
        var stats = new LaunchStatistics { WarpsPerBlock = (int)((block.Volume + 31) / 32) };
        var executor = new BlockExecutor(this, kernel, grid, block, (int)sharedTotal, dynamicSharedBytes, parameterBuffer, symbolValues, stats);
        for (int z = 0; z < grid.Z; z++)
            for (int y = 0; y < grid.Y; y++)
                for (int x = 0; x < grid.X; x++)
                {
                    executor.Run(new Dim3(x, y, z));
                    stats.Blocks++;
                }
        return stats;
    }

    /// <summary>Launches the way cuLaunchKernel does: <paramref name="kernelParams"/> holds one pointer per parameter, to
    /// its value; the parameter sizes come from the kernel's declarations.</summary>
    public unsafe LaunchStatistics Launch(PtxKernel kernel, Dim3 grid, Dim3 block, int dynamicSharedBytes, ReadOnlySpan<nint> kernelParams)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        if (kernelParams.Length != kernel.Parameters.Count)
            throw new ArgumentException($"kernel {kernel.Name} takes {kernel.Parameters.Count} parameter(s) but {kernelParams.Length} pointers were given", nameof(kernelParams));
        var buffer = new byte[kernel.ParameterBytes];
        for (int i = 0; i < kernelParams.Length; i++)
        {
            var p = kernel.Parameters[i];
            if (kernelParams[i] == 0) throw new ArgumentException($"parameter {i} ({p.Name}) of kernel {kernel.Name} has a null pointer", nameof(kernelParams));
            new ReadOnlySpan<byte>((void*)kernelParams[i], p.SizeBytes).CopyTo(buffer.AsSpan(p.Offset));
        }
        return Launch(kernel, grid, block, dynamicSharedBytes, buffer);
    }

    static long AlignUp(long v, long a) => a <= 1 ? v : (v + a - 1) / a * a;

    ulong[] ResolveSymbols(PtxKernel kernel, long dynamicOffset)
    {
        var module = kernel.Module;
        if (!_moduleSymbols.TryGetValue(module, out var globals))
        {
            globals = new ulong[module.Symbols.Count];
            for (int i = 0; i < module.Symbols.Count; i++)
            {
                var s = module.Symbols[i];
                if (s.Space is not (StateSpace.Global or StateSpace.Const)) continue;
                var a = Memory.Allocate(Math.Max(1, s.SizeBytes), $"{s.Space.ToString().ToLowerInvariant()} variable {s.Name}");
                s.Initializer.AsSpan().CopyTo(a.Data);
                a.Initialized.AsSpan().Fill(true);
                globals[i] = a.Base;
            }
            _moduleSymbols[module] = globals;
        }
        var values = (ulong[])globals.Clone();
        for (int i = 0; i < module.Symbols.Count; i++)
        {
            var s = module.Symbols[i];
            if (s.Space == StateSpace.Shared)
                values[i] = s.IsExternShared ? (ulong)dynamicOffset   // every .extern .shared array starts the dynamic part
                    : kernel.SharedOffsets.TryGetValue(i, out long offset) ? (ulong)offset : 0;
            else if (s.Space is StateSpace.Local or StateSpace.Param) values[i] = (ulong)s.Offset;
        }
        return values;
    }

    /// <summary>Packs launch arguments into the parameter buffer, checking count and sizes against the declarations.</summary>
    public static byte[] PackArguments(PtxKernel kernel, object[] args)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(args);
        var ps = kernel.Parameters;
        if (args.Length != ps.Count)
            throw new ArgumentException(
                $"kernel {kernel.Name} takes {ps.Count} argument(s) ({string.Join(", ", ps.Select(p => p.Type.Name() + " " + p.Name))}) but {args.Length} were given", nameof(args));
        var buffer = new byte[kernel.ParameterBytes];
        for (int i = 0; i < ps.Count; i++)
        {
            var p = ps[i];
            byte[] bytes = args[i] switch
            {
                DevicePointer d => BitConverter.GetBytes(d.Address),
                ulong v => BitConverter.GetBytes(v),
                long v => BitConverter.GetBytes(v),
                uint v => BitConverter.GetBytes(v),
                int v => BitConverter.GetBytes(v),
                float v => BitConverter.GetBytes(v),
                double v => BitConverter.GetBytes(v),
                ushort v => BitConverter.GetBytes(v),
                short v => BitConverter.GetBytes(v),
                byte v => [v],
                sbyte v => [(byte)v],
                byte[] v => v,
                null => throw new ArgumentException($"argument {i} ({p.Name}) of kernel {kernel.Name} is null", nameof(args)),
                var other => throw new ArgumentException($"argument {i} ({p.Name}) of kernel {kernel.Name} has unsupported type {other.GetType().Name}", nameof(args)),
            };
            if (bytes.Length != p.SizeBytes)
                throw new ArgumentException(
                    $"argument {i} ({p.Name}) of kernel {kernel.Name} is declared {p.Type.Name()}{(p.SizeBytes != p.Type.SizeBytes() ? $"[{p.SizeBytes / p.Type.SizeBytes()}]" : "")} ({p.SizeBytes} bytes) but a {args[i].GetType().Name} ({bytes.Length} bytes) was given", nameof(args));
            bool floatParam = p.Type.IsFloat(), floatArg = args[i] is float or double;
            if (floatParam != floatArg && p.Type.Bits() == bytes.Length * 8 && p.SizeBytes == p.Type.SizeBytes())
                throw new ArgumentException(
                    $"argument {i} ({p.Name}) of kernel {kernel.Name} is declared {p.Type.Name()} but a {args[i].GetType().Name} was given", nameof(args));
            bytes.CopyTo(buffer, p.Offset);
        }
        return buffer;
    }
}
