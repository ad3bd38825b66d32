// The decoded form of a PTX instruction: opcode, the modifiers that change its meaning, and resolved operands
// (registers are indices into the kernel's register file, labels are instruction indices, symbols are indices into
// the module's symbol table). The parser builds these once; the executor only reads them.
namespace Vae.PtxInterpreter;

public enum Opcode : byte
{
    Add, Sub, Mul, Mad, Fma, Div, Rem, Abs, Neg, Min, Max, Popc, Clz, Brev, Bfe, Bfi, Bfind, Prmt,
    And, Or, Xor, Not, Cnot, Shl, Shr, Lop3, Copysign, Rcp, Sqrt, Rsqrt, Sin, Cos, Lg2, Ex2, Tanh, Testp,
    Setp, Selp, Set, Mov, Ld, St, Cvt, Cvta, Bra, Exit, Bar, BarWarpSync, Membar, Shfl, Vote, Redux, Activemask,
    Atom, Red, Trap, Nop,
}

public enum Rounding : byte { Default, Rn, Rz, Rm, Rp, Rni, Rzi, Rmi, Rpi }

public enum MulMode : byte { None, Lo, Hi, Wide }

public enum CompareOp : byte { Eq, Ne, Lt, Le, Gt, Ge, Lo, Ls, Hi, Hs, Equ, Neu, Ltu, Leu, Gtu, Geu, Num, Nan }

public enum BoolOp : byte { None, And, Or, Xor }

public enum StateSpace : byte { Generic, Global, Shared, Local, Param, Const }

public enum ShuffleMode : byte { Up, Down, Bfly, Idx }

public enum VoteMode : byte { All, Any, Uni, Ballot }

public enum AtomicOp : byte { Add, Min, Max, Exch, Cas, And, Or, Xor, Inc, Dec }

public enum TestpOp : byte { Finite, Infinite, Number, NotANumber, Normal, Subnormal }

public enum BarrierMode : byte { Sync, Arrive }

public enum OperandKind : byte { Register, Immediate, Special, Address, Vector, Label, Symbol, Sink }

public enum SpecialRegister : byte
{
    TidX, TidY, TidZ, NtidX, NtidY, NtidZ, CtaidX, CtaidY, CtaidZ, NctaidX, NctaidY, NctaidZ,
    LaneId, WarpId, NWarpId, SmId, NSmId, GridId, LaneMaskEq, LaneMaskLe, LaneMaskLt, LaneMaskGe, LaneMaskGt,
    Clock, Clock64, GlobalTimer, DynamicSmemSize, TotalSmemSize,
}

/// <summary>One operand. Which fields matter depends on <see cref="Kind"/>.</summary>
public sealed class Operand
{
    public OperandKind Kind;
    /// <summary>Register index (Register), or the second predicate of a <c>p|q</c> destination in <see cref="Reg2"/>.</summary>
    public int Reg = -1;
    public int Reg2 = -1;
    /// <summary>A predicate source written <c>!p</c>.</summary>
    public bool Negated;
    /// <summary>Immediate bits, already converted to the type the instruction reads this operand as.</summary>
    public ulong Imm;
    public SpecialRegister Special;
    /// <summary>Address: [BaseReg + Symbol + Offset], each part optional (BaseReg/Symbol -1 when absent).</summary>
    public int BaseReg = -1;
    public int Symbol = -1;
    public long Offset;
    /// <summary>Vector operand elements (register indices, -1 for the sink <c>_</c>), or immediates in <see cref="VectorImm"/>.</summary>
    public int[] Elements = [];
    public ulong[]? VectorImm;
    /// <summary>Label target (instruction index) after resolution.</summary>
    public int Target = -1;
    public string LabelName = "";

    // Raw literal, before conversion to the instruction's type.
    internal bool LiteralIsFloat;
    internal bool LiteralIsF32Bits;
    internal double LiteralDouble;
    internal ulong LiteralBits;
}

/// <summary>A decoded instruction.</summary>
public sealed class Instruction
{
    public Opcode Op;
    /// <summary>The instruction type (for cvt and set: the destination type; for setp: the compared type).</summary>
    public PtxType Type;
    /// <summary>cvt: source type; set: compared type.</summary>
    public PtxType Type2;
    public Rounding Rounding;
    public bool Ftz, Sat, Approx, Uni, ToGeneric, NaNPropagating, ShiftAmount;
    /// <summary>An .aligned barrier (bar.sync, barrier.sync.aligned): the whole warp must execute it together.</summary>
    public bool Aligned;
    public MulMode Mul;
    public CompareOp Compare;
    public BoolOp Bool;
    public StateSpace Space;
    public int Vector = 1;
    public ShuffleMode Shuffle;
    public VoteMode Vote;
    public AtomicOp Atomic;
    public TestpOp Testp;
    public BarrierMode Barrier;
    public Operand[] Operands = [];
    /// <summary>Guard predicate register (-1: unguarded) and whether it is negated (<c>@!p</c>).</summary>
    public int GuardReg = -1;
    public bool GuardNegated;
    /// <summary>Number of leading destination operands (0 for st, red, bra, bar, ...).</summary>
    public int DestinationCount;
    /// <summary>Registers read by this instruction in the executing lane (checked for initialisation before it runs).</summary>
    public int[] SourceRegisters = [];
    public int Line;
    public string Text = "";

    public override string ToString() => Text;
}
