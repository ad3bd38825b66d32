// Memory instructions for BlockExecutor (ld, st, atom, red) and the checked access path they share: state-space and
// generic-window resolution, bounds and alignment, uninitialised reads, and shared-memory race detection.
//
// Race detection: every shared byte remembers its last writer and its readers since then, each with the block's
// barrier epoch and the warp's bar.warp.sync count at the time. An access by another thread conflicts unless a block
// barrier completed in between (epoch advanced) or, within one warp, a bar.warp.sync did. Atomics do not conflict
// with atomics.
using System.Buffers.Binary;
using System.Numerics;

namespace Vae.PtxInterpreter;

internal sealed partial class BlockExecutor
{
    enum AccessKind { Read, Write, Atomic }

    ulong Address(Warp w, Operand a, int lane)
    {
        ulong address = (ulong)a.Offset;
        if (a.BaseReg >= 0) address += w.R[a.BaseReg * 32 + lane];
        if (a.Symbol >= 0) address += _symbols[a.Symbol];
        return address;
    }

    Dim3 ThreadOf(int linear) => new(linear % _blockDim.X, linear / _blockDim.X % _blockDim.Y, linear / (_blockDim.X * _blockDim.Y));

    Span<byte> Access(Warp w, Instruction ins, int lane, int pc, StateSpace space, ulong address, int size, AccessKind kind)
    {
        if (space == StateSpace.Generic)
        {
            if (address >= SharedWindow && address < SharedWindow + WindowSize) { space = StateSpace.Shared; address -= SharedWindow; }
            else if (address >= LocalWindow && address < LocalWindow + WindowSize) { space = StateSpace.Local; address -= LocalWindow; }
            else space = StateSpace.Global;
        }
        if (address % (ulong)size != 0 && !(space == StateSpace.Param))
            throw Fault(PtxFaultKind.Misaligned, ins, w, lane,
                $"the {size}-byte {space.ToString().ToLowerInvariant()} access at 0x{address:x} is not aligned to {size} bytes");
        switch (space)
        {
            case StateSpace.Global:
            case StateSpace.Const:
                {
                    var a = _memory.Find(address, size);
                    if (a is null)
                        throw Fault(PtxFaultKind.OutOfBounds, ins, w, lane, $"{Verb(kind)} global memory: {_memory.Describe(address, size)}");
                    int offset = (int)(address - a.Base);
                    if (kind != AccessKind.Write && _checkGlobalInit)
                    {
                        int bad = a.Initialized.AsSpan(offset, size).IndexOf(false);
                        if (bad >= 0)
                            throw Fault(PtxFaultKind.UninitializedGlobal, ins, w, lane,
                                $"reads byte {offset + bad} of {(a.Name ?? "allocation")} [0x{a.Base:x}, +{a.Size}), which was never written (allocated without a copy or memset?)");
                    }
                    if (kind != AccessKind.Read) a.Initialized.AsSpan(offset, size).Fill(true);
                    return a.Data.AsSpan(offset, size);
                }
            case StateSpace.Shared:
                return SharedAccess(w, ins, lane, pc, address, size, kind);
            case StateSpace.Local:
                {
                    int frame = _kernel.LocalBytes;
                    if (address + (ulong)size > (ulong)frame)
                        throw Fault(PtxFaultKind.OutOfBounds, ins, w, lane, $"{Verb(kind)} local memory at offset {address}: the thread's local frame has {frame} bytes");
                    int offset = (w.Index * 32 + lane) * frame + (int)address;
                    if (kind != AccessKind.Write && _localInit.AsSpan(offset, size).IndexOf(false) >= 0)
                        throw Fault(PtxFaultKind.UninitializedRegister, ins, w, lane, $"reads local memory at offset {address}, which this thread never wrote");
                    if (kind != AccessKind.Read) _localInit.AsSpan(offset, size).Fill(true);
                    return _local.AsSpan(offset, size);
                }
            case StateSpace.Param:
                if (kind != AccessKind.Read) throw Fault(PtxFaultKind.InvalidAddress, ins, w, lane, "kernel parameters are read-only");
                if (address + (ulong)size > (ulong)_kernel.ParameterBytes)
                    throw Fault(PtxFaultKind.OutOfBounds, ins, w, lane, $"reads parameter bytes [{address}, {address + (ulong)size}) but the kernel has {_kernel.ParameterBytes}");
                return _params.AsSpan((int)address, size);
        }
        throw Fault(PtxFaultKind.InvalidAddress, ins, w, lane, $"unsupported state space {space}");
    }

    static string Verb(AccessKind k) => k switch { AccessKind.Read => "reads", AccessKind.Write => "writes", _ => "atomically updates" };

    Span<byte> SharedAccess(Warp w, Instruction ins, int lane, int pc, ulong address, int size, AccessKind kind)
    {
        if (address + (ulong)size > (ulong)_shared.Length)
            throw Fault(PtxFaultKind.OutOfBounds, ins, w, lane,
                $"{Verb(kind)} {size} byte(s) of shared memory at offset {address}, outside the block's {_shared.Length} bytes " +
                $"({_kernel.StaticSharedBytes} static + {_dynamicShared} dynamic)");
        int start = (int)address, end = start + size;
        if (end > _sharedTouched) _sharedTouched = end;
        int me = w.Index * 32 + lane + 1;
        for (int i = start; i < end; i++)
        {
            ref var sh = ref _shadow[i];
            if (kind != AccessKind.Write && (sh.Flags & Initialized) == 0)
                throw Fault(PtxFaultKind.UninitializedShared, ins, w, lane, $"reads shared memory at offset {i}, which no thread has written");
            if (_checkRaces)
            {
                if (sh.Writer != 0 && sh.Writer != me && !(kind == AccessKind.Atomic && (sh.Flags & WriterAtomic) != 0)
                    && !Ordered(sh.Writer, sh.WriterEpoch, sh.WriterWarpSync, w))
                    throw Race(w, ins, lane, i, kind, sh.Writer, sh.WriterPc, "written");
                if (kind == AccessKind.Read)
                {
                    if (sh.Reader == 0 || ReadersOrdered(ref sh, w))
                    {
                        sh.Reader = me;
                        sh.Flags &= unchecked((byte)~(ManyReaders | ReadersMixedWarps));
                    }
                    else if (sh.Reader != me || (sh.Flags & ManyReaders) != 0)
                    {
                        if (sh.Reader != me) sh.Flags |= ManyReaders;
                        if ((sh.Reader - 1) / 32 != w.Index) sh.Flags |= ReadersMixedWarps;
                    }
                    sh.ReaderEpoch = _epoch;
                    sh.ReaderWarpSync = Math.Max(sh.ReaderWarpSync, w.WarpSync);
                    if (sh.Reader == me) sh.ReaderPc = pc;
                }
                else
                {
                    if (sh.Reader != 0 && (sh.Reader != me || (sh.Flags & ManyReaders) != 0) && !ReadersOrdered(ref sh, w))
                        throw Race(w, ins, lane, i, kind, sh.Reader == me ? 0 : sh.Reader, sh.ReaderPc, "read");
                    sh.Writer = me;
                    sh.WriterEpoch = _epoch;
                    sh.WriterWarpSync = w.WarpSync;
                    sh.WriterPc = pc;
                    sh.Reader = 0;
                    sh.ReaderWarpSync = 0;
                    sh.Flags = (byte)((sh.Flags & Initialized) | (kind == AccessKind.Atomic ? WriterAtomic : 0));
                }
            }
            if (kind != AccessKind.Read) sh.Flags |= Initialized;
        }
        return _shared.AsSpan(start, size);
    }

    bool Ordered(int thread, int epoch, int warpSync, Warp w) =>
        epoch < _epoch || ((thread - 1) / 32 == w.Index && warpSync < w.WarpSync);

    bool ReadersOrdered(ref Shadow sh, Warp w) =>
        sh.ReaderEpoch < _epoch ||
        ((sh.Flags & ReadersMixedWarps) == 0 && (sh.Reader - 1) / 32 == w.Index && sh.ReaderWarpSync < w.WarpSync);

    PtxFaultException Race(Warp w, Instruction ins, int lane, int offset, AccessKind kind, int other, int otherPc, string how)
    {
        string who = other == 0 ? "another thread" : $"thread {ThreadOf(other - 1)}";
        var otherIns = _code[otherPc];
        return Fault(PtxFaultKind.SharedRace, ins, w, lane,
            $"{Verb(kind)} shared memory at offset {offset}, which {who} {how} at line {otherIns.Line} `{otherIns.Text}` " +
            "with no barrier (bar.sync, or bar.warp.sync within a warp) in between");
    }

    static ulong ReadLittle(ReadOnlySpan<byte> s) => s.Length switch
    {
        1 => s[0],
        2 => BinaryPrimitives.ReadUInt16LittleEndian(s),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(s),
        _ => BinaryPrimitives.ReadUInt64LittleEndian(s),
    };

    static void WriteLittle(Span<byte> s, ulong v)
    {
        switch (s.Length)
        {
            case 1: s[0] = (byte)v; break;
            case 2: BinaryPrimitives.WriteUInt16LittleEndian(s, (ushort)v); break;
            case 4: BinaryPrimitives.WriteUInt32LittleEndian(s, (uint)v); break;
            default: BinaryPrimitives.WriteUInt64LittleEndian(s, v); break;
        }
    }

    void ExecuteLoad(Warp w, Instruction ins, int pc, uint exec)
    {
        var d = ins.Operands[0];
        var a = ins.Operands[1];
        int elem = ins.Type.SizeBytes(), total = elem * ins.Vector;
        for (uint m = exec; m != 0; m &= m - 1)
        {
            int l = BitOperations.TrailingZeroCount(m);
            var span = Access(w, ins, l, pc, ins.Space, Address(w, a, l), total, AccessKind.Read);
            for (int k = 0; k < ins.Vector; k++)
            {
                int reg = d.Kind == OperandKind.Vector ? d.Elements[k] : d.Reg;
                if (reg < 0) continue;
                ulong v = ins.Type.Extend(ReadLittle(span.Slice(k * elem, elem)));
                w.R[reg * 32 + l] = v & _kernel.RegisterMasks[reg];
            }
        }
    }

    void ExecuteStore(Warp w, Instruction ins, int pc, uint exec)
    {
        var a = ins.Operands[0];
        var s = ins.Operands[1];
        int elem = ins.Type.SizeBytes(), total = elem * ins.Vector;
        for (uint m = exec; m != 0; m &= m - 1)
        {
            int l = BitOperations.TrailingZeroCount(m);
            var span = Access(w, ins, l, pc, ins.Space, Address(w, a, l), total, AccessKind.Write);
            for (int k = 0; k < ins.Vector; k++)
            {
                ulong v;
                if (s.Kind == OperandKind.Vector)
                {
                    int e = s.Elements[k];
                    v = e >= 0 ? w.R[e * 32 + l] : s.VectorImm is not null ? s.VectorImm[k] : 0;
                }
                else v = Src(w, s, l);
                WriteLittle(span.Slice(k * elem, elem), v);
            }
        }
    }

    void ExecuteAtomic(Warp w, Instruction ins, int pc, uint exec)
    {
        bool returns = ins.Op == Opcode.Atom;
        var ops = ins.Operands;
        var addrOp = returns ? ops[1] : ops[0];
        var bOp = returns ? ops[2] : ops[1];
        var t = ins.Type;
        int size = t.SizeBytes();
        for (uint m = exec; m != 0; m &= m - 1)
        {
            int l = BitOperations.TrailingZeroCount(m);
            var span = Access(w, ins, l, pc, ins.Space, Address(w, addrOp, l), size, AccessKind.Atomic);
            ulong old = ReadLittle(span);
            ulong b = Src(w, bOp, l) & t.Mask();
            ulong result = ins.Atomic switch
            {
                AtomicOp.Add => t == PtxType.F32 ? FloatMath.Bits(FloatMath.F(old) + FloatMath.F(b))
                    : t == PtxType.F64 ? FloatMath.Bits(FloatMath.D(old) + FloatMath.D(b))
                    : (old + b) & t.Mask(),
                AtomicOp.Min => t.IsFloat() ? throw Alu.Unsupported(ins) : t.IsSigned() ? ((long)t.Extend(old) <= (long)t.Extend(b) ? old : b) : Math.Min(old, b),
                AtomicOp.Max => t.IsFloat() ? throw Alu.Unsupported(ins) : t.IsSigned() ? ((long)t.Extend(old) >= (long)t.Extend(b) ? old : b) : Math.Max(old, b),
                AtomicOp.Exch => b,
                AtomicOp.Cas => old == b ? Src(w, ops[3], l) & t.Mask() : old,
                AtomicOp.And => old & b,
                AtomicOp.Or => old | b,
                AtomicOp.Xor => old ^ b,
                AtomicOp.Inc => old >= b ? 0 : old + 1,
                AtomicOp.Dec => old == 0 || old > b ? b : old - 1,
                _ => throw Alu.Unsupported(ins),
            };
            WriteLittle(span, result);
            if (returns) Dst(w, ops[0], l, old);
        }
    }
}
