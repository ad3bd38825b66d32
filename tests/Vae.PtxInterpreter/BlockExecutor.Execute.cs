// Instruction dispatch for BlockExecutor: reads operands per lane, computes with Alu, writes destinations and marks
// them initialised, and moves the lanes' program counters.
using System.Numerics;

namespace Vae.PtxInterpreter;

internal sealed partial class BlockExecutor
{
    ulong Src(Warp w, Operand o, int lane)
    {
        switch (o.Kind)
        {
            case OperandKind.Register:
                {
                    ulong v = w.R[o.Reg * 32 + lane];
                    return o.Negated ? (v & 1) ^ 1 : v;
                }
            case OperandKind.Immediate: return o.Imm;
            case OperandKind.Special: return Special(w, o.Special, lane);
            case OperandKind.Symbol: return _symbols[o.Symbol] + (ulong)o.Offset;
            default: throw new InvalidOperationException($"operand kind {o.Kind} cannot be read as a value");
        }
    }

    void Dst(Warp w, Operand o, int lane, ulong value)
    {
        if (o.Kind == OperandKind.Sink) return;
        w.R[o.Reg * 32 + lane] = value & _kernel.RegisterMasks[o.Reg];
    }

    void MarkWritten(Warp w, Operand o, uint exec)
    {
        if (o.Kind == OperandKind.Register)
        {
            w.Init[o.Reg] |= exec;
            if (o.Reg2 >= 0) w.Init[o.Reg2] |= exec;
        }
        else if (o.Kind == OperandKind.Vector)
            foreach (int e in o.Elements) if (e >= 0) w.Init[e] |= exec;
    }

    ulong Special(Warp w, SpecialRegister s, int lane) => s switch
    {
        SpecialRegister.TidX => (ulong)w.TidX[lane],
        SpecialRegister.TidY => (ulong)w.TidY[lane],
        SpecialRegister.TidZ => (ulong)w.TidZ[lane],
        SpecialRegister.NtidX => (ulong)_blockDim.X,
        SpecialRegister.NtidY => (ulong)_blockDim.Y,
        SpecialRegister.NtidZ => (ulong)_blockDim.Z,
        SpecialRegister.CtaidX => (ulong)_blockIdx.X,
        SpecialRegister.CtaidY => (ulong)_blockIdx.Y,
        SpecialRegister.CtaidZ => (ulong)_blockIdx.Z,
        SpecialRegister.NctaidX => (ulong)_grid.X,
        SpecialRegister.NctaidY => (ulong)_grid.Y,
        SpecialRegister.NctaidZ => (ulong)_grid.Z,
        SpecialRegister.LaneId => (ulong)lane,
        SpecialRegister.WarpId => (ulong)w.Index,
        SpecialRegister.NWarpId => (ulong)_warps.Length,
        SpecialRegister.SmId => 0,
        SpecialRegister.NSmId => 1,
        SpecialRegister.GridId => 0,
        SpecialRegister.LaneMaskEq => 1UL << lane,
        SpecialRegister.LaneMaskLe => (ulong)(uint)((1UL << (lane + 1)) - 1),
        SpecialRegister.LaneMaskLt => (1UL << lane) - 1,
        SpecialRegister.LaneMaskGe => (ulong)(~((1u << lane) - 1)),
        SpecialRegister.LaneMaskGt => lane == 31 ? 0 : (ulong)(~((1u << (lane + 1)) - 1)),
        SpecialRegister.Clock => (ulong)(uint)_stats.WarpInstructions,
        SpecialRegister.Clock64 or SpecialRegister.GlobalTimer => (ulong)_stats.WarpInstructions,
        SpecialRegister.DynamicSmemSize => (ulong)_dynamicShared,
        SpecialRegister.TotalSmemSize => (ulong)_shared.Length,
        _ => 0,
    };

    void Execute(Warp w, Instruction ins, int pc, uint group, uint exec)
    {
        var ops = ins.Operands;
        switch (ins.Op)
        {
            case Opcode.Add:
            case Opcode.Sub:
            case Opcode.Mul:
            case Opcode.Div:
            case Opcode.Rem:
            case Opcode.Min:
            case Opcode.Max:
            case Opcode.And:
            case Opcode.Or:
            case Opcode.Xor:
            case Opcode.Shl:
            case Opcode.Shr:
            case Opcode.Copysign:
                {
                    bool isFloat = ins.Type.IsFloat();
                    bool isPred = ins.Type == PtxType.Pred;
                    for (uint m = exec; m != 0; m &= m - 1)
                    {
                        int l = BitOperations.TrailingZeroCount(m);
                        ulong a = Src(w, ops[1], l), b = Src(w, ops[2], l), r;
                        if (isFloat) r = Alu.FloatBinary(ins, a, b);
                        else if (isPred) r = ins.Op switch { Opcode.And => a & b & 1, Opcode.Or => (a | b) & 1, Opcode.Xor => (a ^ b) & 1, _ => throw Alu.Unsupported(ins) };
                        else if (!Alu.IntBinary(ins, a, b, out r))
                            throw Fault(PtxFaultKind.IntegerDivideByZero, ins, w, l, $"integer {(ins.Op == Opcode.Div ? "division" : "remainder")} by zero ({a} / 0)");
                        Dst(w, ops[0], l, r);
                    }
                    break;
                }
            case Opcode.Mad:
                for (uint m = exec; m != 0; m &= m - 1)
                {
                    int l = BitOperations.TrailingZeroCount(m);
                    Dst(w, ops[0], l, Alu.Mad(ins, Src(w, ops[1], l), Src(w, ops[2], l), Src(w, ops[3], l)));
                }
                break;
            case Opcode.Fma:
                for (uint m = exec; m != 0; m &= m - 1)
                {
                    int l = BitOperations.TrailingZeroCount(m);
                    Dst(w, ops[0], l, Alu.FloatFma(ins, Src(w, ops[1], l), Src(w, ops[2], l), Src(w, ops[3], l)));
                }
                break;
            case Opcode.Abs:
            case Opcode.Neg:
            case Opcode.Not:
            case Opcode.Cnot:
            case Opcode.Popc:
            case Opcode.Clz:
            case Opcode.Brev:
            case Opcode.Bfind:
            case Opcode.Rcp:
            case Opcode.Sqrt:
            case Opcode.Rsqrt:
            case Opcode.Sin:
            case Opcode.Cos:
            case Opcode.Lg2:
            case Opcode.Ex2:
            case Opcode.Tanh:
                {
                    bool isFloat = ins.Type.IsFloat();
                    for (uint m = exec; m != 0; m &= m - 1)
                    {
                        int l = BitOperations.TrailingZeroCount(m);
                        ulong a = Src(w, ops[1], l);
                        Dst(w, ops[0], l, isFloat ? Alu.FloatUnary(ins, a) : Alu.IntUnary(ins, a));
                    }
                    break;
                }
            case Opcode.Testp:
                for (uint m = exec; m != 0; m &= m - 1)
                {
                    int l = BitOperations.TrailingZeroCount(m);
                    Dst(w, ops[0], l, Alu.Testp(ins.Testp, ins.Type, Src(w, ops[1], l)) ? 1UL : 0UL);
                }
                break;
            case Opcode.Bfe:
                for (uint m = exec; m != 0; m &= m - 1)
                {
                    int l = BitOperations.TrailingZeroCount(m);
                    Dst(w, ops[0], l, Alu.Bfe(ins.Type, Src(w, ops[1], l), Src(w, ops[2], l), Src(w, ops[3], l)));
                }
                break;
            case Opcode.Bfi:
                for (uint m = exec; m != 0; m &= m - 1)
                {
                    int l = BitOperations.TrailingZeroCount(m);
                    Dst(w, ops[0], l, Alu.Bfi(ins.Type, Src(w, ops[1], l), Src(w, ops[2], l), Src(w, ops[3], l), Src(w, ops[4], l)));
                }
                break;
            case Opcode.Prmt:
                for (uint m = exec; m != 0; m &= m - 1)
                {
                    int l = BitOperations.TrailingZeroCount(m);
                    Dst(w, ops[0], l, Alu.Prmt(Src(w, ops[1], l), Src(w, ops[2], l), Src(w, ops[3], l)));
                }
                break;
            case Opcode.Lop3:
                for (uint m = exec; m != 0; m &= m - 1)
                {
                    int l = BitOperations.TrailingZeroCount(m);
                    Dst(w, ops[0], l, Alu.Lop3(Src(w, ops[1], l), Src(w, ops[2], l), Src(w, ops[3], l), Src(w, ops[4], l), ins.Type.Mask()));
                }
                break;
            case Opcode.Setp:
                {
                    var d = ops[0];
                    for (uint m = exec; m != 0; m &= m - 1)
                    {
                        int l = BitOperations.TrailingZeroCount(m);
                        bool t = Alu.Compare(ins.Compare, ins.Type, Src(w, ops[1], l), Src(w, ops[2], l));
                        bool c = ins.Bool != BoolOp.None && (Src(w, ops[3], l) & 1) != 0;
                        w.R[d.Reg * 32 + l] = Alu.Combine(ins.Bool, t, c) ? 1UL : 0UL;
                        if (d.Reg2 >= 0) w.R[d.Reg2 * 32 + l] = Alu.Combine(ins.Bool, !t, c) ? 1UL : 0UL;
                    }
                    break;
                }
            case Opcode.Set:
                for (uint m = exec; m != 0; m &= m - 1)
                {
                    int l = BitOperations.TrailingZeroCount(m);
                    bool t = Alu.Compare(ins.Compare, ins.Type2, Src(w, ops[1], l), Src(w, ops[2], l));
                    if (ins.Bool != BoolOp.None) t = Alu.Combine(ins.Bool, t, (Src(w, ops[3], l) & 1) != 0);
                    ulong r = ins.Type == PtxType.F32 ? (t ? FloatMath.RawBits(1f) : 0UL) : (t ? ins.Type.Mask() : 0UL);
                    Dst(w, ops[0], l, r);
                }
                break;
            case Opcode.Selp:
                for (uint m = exec; m != 0; m &= m - 1)
                {
                    int l = BitOperations.TrailingZeroCount(m);
                    Dst(w, ops[0], l, (Src(w, ops[3], l) & 1) != 0 ? Src(w, ops[1], l) : Src(w, ops[2], l));
                }
                break;
            case Opcode.Mov:
                ExecuteMov(w, ins, exec);
                break;
            case Opcode.Cvt:
                for (uint m = exec; m != 0; m &= m - 1)
                {
                    int l = BitOperations.TrailingZeroCount(m);
                    // The result is extended to the register's width by the destination type (cvt.s8.u32 sign-extends).
                    Dst(w, ops[0], l, ins.Type.Extend(Alu.Convert(ins, Src(w, ops[1], l))));
                }
                break;
            case Opcode.Cvta:
                for (uint m = exec; m != 0; m &= m - 1)
                {
                    int l = BitOperations.TrailingZeroCount(m);
                    Dst(w, ops[0], l, Cvta(w, ins, l, Src(w, ops[1], l)));
                }
                break;
            case Opcode.Ld:
                ExecuteLoad(w, ins, pc, exec);
                break;
            case Opcode.St:
                ExecuteStore(w, ins, pc, exec);
                break;
            case Opcode.Atom:
            case Opcode.Red:
                ExecuteAtomic(w, ins, pc, exec);
                break;
            case Opcode.Bra:
                Branch(w, group, exec, pc, ops[0].Target);
                return;
            case Opcode.Exit:
                ExitLanes(w, group, exec, pc);
                return;
            case Opcode.Bar:
                ExecuteBarrier(w, ins, pc, group, exec);
                return;
            case Opcode.BarWarpSync:
                CheckMemberMask(w, ins, exec, group, ops[0], "bar.warp.sync");
                w.WarpSync++;
                break;
            case Opcode.Shfl:
                ExecuteShuffle(w, ins, group, exec);
                break;
            case Opcode.Vote:
            case Opcode.Redux:
                ExecuteVoteOrRedux(w, ins, group, exec);
                break;
            case Opcode.Activemask:
                for (uint m = exec; m != 0; m &= m - 1) Dst(w, ops[0], BitOperations.TrailingZeroCount(m), group);
                break;
            case Opcode.Trap:
                if (exec != 0) throw Fault(PtxFaultKind.Trap, ins, w, BitOperations.TrailingZeroCount(exec), "trap executed");
                break;
            case Opcode.Membar:
            case Opcode.Nop:
                break;
            default:
                throw Alu.Unsupported(ins);
        }
        if (ins.DestinationCount > 0) MarkWritten(w, ops[0], exec);
        Advance(w, group, pc);
    }

    void ExecuteMov(Warp w, Instruction ins, uint exec)
    {
        var d = ins.Operands[0];
        var s = ins.Operands[1];
        if (d.Kind == OperandKind.Vector)
        {
            // Unpack: mov.b64 {lo, hi}, %rd
            int parts = d.Elements.Length, width = ins.Type.Bits() / parts;
            ulong mask = width >= 64 ? ulong.MaxValue : (1UL << width) - 1;
            for (uint m = exec; m != 0; m &= m - 1)
            {
                int l = BitOperations.TrailingZeroCount(m);
                ulong v = Src(w, s, l);
                for (int k = 0; k < parts; k++)
                    if (d.Elements[k] >= 0) w.R[d.Elements[k] * 32 + l] = v >> (k * width) & mask & _kernel.RegisterMasks[d.Elements[k]];
            }
            return;
        }
        if (s.Kind == OperandKind.Vector)
        {
            // Pack: mov.b64 %rd, {lo, hi}
            int parts = s.Elements.Length, width = ins.Type.Bits() / parts;
            ulong mask = width >= 64 ? ulong.MaxValue : (1UL << width) - 1;
            for (uint m = exec; m != 0; m &= m - 1)
            {
                int l = BitOperations.TrailingZeroCount(m);
                ulong v = 0;
                for (int k = 0; k < parts; k++)
                {
                    int e = s.Elements[k];
                    ulong part = e >= 0 ? w.R[e * 32 + l] : s.VectorImm![k];
                    v |= (part & mask) << (k * width);
                }
                Dst(w, d, l, v);
            }
            return;
        }
        ulong typeMask = ins.Type == PtxType.Pred ? 1UL : ins.Type.Mask();
        for (uint m = exec; m != 0; m &= m - 1)
        {
            int l = BitOperations.TrailingZeroCount(m);
            Dst(w, d, l, Src(w, s, l) & typeMask);
        }
    }

    ulong Cvta(Warp w, Instruction ins, int lane, ulong address)
    {
        switch (ins.Space)
        {
            case StateSpace.Shared:
                if (ins.ToGeneric) return SharedWindow + address;
                if (address < SharedWindow || address >= SharedWindow + WindowSize)
                    throw Fault(PtxFaultKind.InvalidAddress, ins, w, lane, $"cvta.to.shared of 0x{address:x}, which is not a generic address of shared memory");
                return address - SharedWindow;
            case StateSpace.Local:
                if (ins.ToGeneric) return LocalWindow + address;
                if (address < LocalWindow || address >= LocalWindow + WindowSize)
                    throw Fault(PtxFaultKind.InvalidAddress, ins, w, lane, $"cvta.to.local of 0x{address:x}, which is not a generic address of local memory");
                return address - LocalWindow;
            case StateSpace.Global:
            case StateSpace.Const:
                if (!ins.ToGeneric && address >= SharedWindow && address < LocalWindow + WindowSize)
                    throw Fault(PtxFaultKind.InvalidAddress, ins, w, lane, $"cvta.to.{ins.Space.ToString().ToLowerInvariant()} of 0x{address:x}, which is a shared or local generic address");
                return address;
            default:
                throw Fault(PtxFaultKind.InvalidAddress, ins, w, lane, $"cvta needs .global, .shared, .local or .const");
        }
    }

    // ---- warp collectives ------------------------------------------------------------------------------------

    /// <summary>Checks a .sync member mask: it must include every executing lane, and every lane it names must exist, not
    /// have exited, and execute this instruction now. Returns the (uniform) mask.</summary>
    uint CheckMemberMask(Warp w, Instruction ins, uint exec, uint group, Operand maskOperand, string what)
    {
        if (exec == 0) return 0;
        int first = BitOperations.TrailingZeroCount(exec);
        uint member = (uint)Src(w, maskOperand, first);
        for (uint m = exec; m != 0; m &= m - 1)
        {
            int l = BitOperations.TrailingZeroCount(m);
            uint mine = (uint)Src(w, maskOperand, l);
            if (mine != member)
                throw Fault(PtxFaultKind.ShuffleMask, ins, w, l, $"{what}: lanes of warp {w.Index} pass different member masks (0x{member:x8} and 0x{mine:x8})");
            if ((member >> l & 1) == 0)
                throw Fault(PtxFaultKind.ShuffleMask, ins, w, l, $"{what}: lane {l} executes it but its member mask 0x{member:x8} omits lane {l}");
        }
        uint absent = member & ~w.Exists;
        if (absent != 0)
            throw Fault(PtxFaultKind.ShuffleMask, ins, w, first, $"{what}: member mask 0x{member:x8} names lanes {Lanes(absent)}, which do not exist in warp {w.Index} (the block has {_threads} threads)");
        uint exited = member & w.Exited;
        if (exited != 0)
            throw Fault(PtxFaultKind.ShuffleMask, ins, w, first, $"{what}: member mask 0x{member:x8} names lanes {Lanes(exited)}, which have exited");
        uint away = member & ~exec;
        if (away != 0)
            throw Fault(PtxFaultKind.ShuffleMask, ins, w, first,
                $"{what}: member mask 0x{member:x8} names lanes {Lanes(away)}, which do not execute it together with lanes {Lanes(exec)} ({((away & group) != 0 ? "predicated off" : "diverged elsewhere")})");
        return member;
    }

    void ExecuteShuffle(Warp w, Instruction ins, uint group, uint exec)
    {
        var ops = ins.Operands;
        CheckMemberMask(w, ins, exec, group, ops[4], "shfl.sync");
        var values = _scratch;
        Span<bool> inRange = stackalloc bool[32];
        for (uint m = exec; m != 0; m &= m - 1)
        {
            int lane = BitOperations.TrailingZeroCount(m);
            uint bval = (uint)Src(w, ops[2], lane) & 0x1f;
            uint c = (uint)Src(w, ops[3], lane);
            uint cval = c & 0x1f, segmask = (c >> 8) & 0x1f;
            int maxLane = (int)((lane & segmask) | (cval & ~segmask));
            int minLane = (int)(lane & segmask);
            int j;
            bool p;
            switch (ins.Shuffle)
            {
                case ShuffleMode.Up: j = lane - (int)bval; p = j >= maxLane; break;
                case ShuffleMode.Down: j = lane + (int)bval; p = j <= maxLane; break;
                case ShuffleMode.Bfly: j = lane ^ (int)bval; p = j <= maxLane; break;
                default: j = minLane | (int)(bval & ~segmask); p = j <= maxLane; break;
            }
            if (!p) j = lane;
            if ((exec >> j & 1) == 0)
                throw Fault(PtxFaultKind.ShuffleMask, ins, w, lane, $"shfl.sync: lane {lane} reads from lane {j}, which does not take part");
            var a = ops[1];
            if (a.Kind == OperandKind.Register)
            {
                if ((w.Init[a.Reg] >> j & 1) == 0)
                    throw Fault(PtxFaultKind.UninitializedRegister, ins, w, lane, $"shfl.sync: lane {lane} reads register {_kernel.RegisterNames[a.Reg]} of lane {j}, which was never written");
                values[lane] = w.R[a.Reg * 32 + j];
            }
            else values[lane] = Src(w, a, j);
            inRange[lane] = p;
        }
        var d = ops[0];
        for (uint m = exec; m != 0; m &= m - 1)
        {
            int l = BitOperations.TrailingZeroCount(m);
            Dst(w, d, l, values[l] & 0xffffffff);
            if (d.Reg2 >= 0) w.R[d.Reg2 * 32 + l] = inRange[l] ? 1UL : 0UL;
        }
    }

    void ExecuteVoteOrRedux(Warp w, Instruction ins, uint group, uint exec)
    {
        var ops = ins.Operands;
        uint member = CheckMemberMask(w, ins, exec, group, ops[2], ins.Op == Opcode.Vote ? "vote.sync" : "redux.sync");
        if (exec == 0) return;
        ulong result;
        if (ins.Op == Opcode.Vote)
        {
            uint ballot = 0;
            for (uint m = member; m != 0; m &= m - 1)
            {
                int l = BitOperations.TrailingZeroCount(m);
                if ((Src(w, ops[1], l) & 1) != 0) ballot |= 1u << l;
            }
            result = ins.Vote switch
            {
                VoteMode.All => ballot == member ? 1UL : 0UL,
                VoteMode.Any => ballot != 0 ? 1UL : 0UL,
                VoteMode.Uni => ballot == member || ballot == 0 ? 1UL : 0UL,
                _ => ballot,
            };
        }
        else
        {
            var t = ins.Type;
            bool first = true;
            ulong acc = 0;
            for (uint m = member; m != 0; m &= m - 1)
            {
                int l = BitOperations.TrailingZeroCount(m);
                ulong v = Src(w, ops[1], l) & 0xffffffff;
                if (first) { acc = v; first = false; continue; }
                acc = ins.Atomic switch
                {
                    AtomicOp.Add => (acc + v) & 0xffffffff,
                    AtomicOp.And => acc & v,
                    AtomicOp.Or => acc | v,
                    AtomicOp.Xor => acc ^ v,
                    AtomicOp.Min => t.IsSigned() ? (ulong)(uint)Math.Min((int)acc, (int)v) : Math.Min(acc, v),
                    AtomicOp.Max => t.IsSigned() ? (ulong)(uint)Math.Max((int)acc, (int)v) : Math.Max(acc, v),
                    _ => throw Alu.Unsupported(ins),
                };
            }
            result = acc;
        }
        for (uint m = exec; m != 0; m &= m - 1) Dst(w, ops[0], BitOperations.TrailingZeroCount(m), result);
    }
}
