// Lane-level semantics of the arithmetic, logic, comparison and conversion instructions, on raw register bits
// (values are held zero-extended to 64 bits; signed types are sign-extended here before computing).
using System.Numerics;

namespace Vae.PtxInterpreter;

internal static class Alu
{
    static long S(PtxType t, ulong v) => (long)t.Extend(v);

    public static bool Compare(CompareOp op, PtxType t, ulong a, ulong b)
    {
        if (t.IsFloat())
        {
            double x = ToDouble(t, a), y = ToDouble(t, b);
            bool nan = double.IsNaN(x) || double.IsNaN(y);
            return op switch
            {
                CompareOp.Eq => !nan && x == y, CompareOp.Ne => !nan && x != y, CompareOp.Lt => !nan && x < y,
                CompareOp.Le => !nan && x <= y, CompareOp.Gt => !nan && x > y, CompareOp.Ge => !nan && x >= y,
                CompareOp.Equ => nan || x == y, CompareOp.Neu => nan || x != y, CompareOp.Ltu => nan || x < y,
                CompareOp.Leu => nan || x <= y, CompareOp.Gtu => nan || x > y, CompareOp.Geu => nan || x >= y,
                CompareOp.Num => !nan, CompareOp.Nan => nan,
                _ => throw new InvalidOperationException($"comparison .{op.ToString().ToLowerInvariant()} is not defined for {t.Name()}"),
            };
        }
        ulong ua = a & t.Mask(), ub = b & t.Mask();
        long sa = S(t, a), sb = S(t, b);
        bool signed = t.IsSigned();
        return op switch
        {
            CompareOp.Eq => ua == ub, CompareOp.Ne => ua != ub,
            CompareOp.Lt => signed ? sa < sb : ua < ub, CompareOp.Le => signed ? sa <= sb : ua <= ub,
            CompareOp.Gt => signed ? sa > sb : ua > ub, CompareOp.Ge => signed ? sa >= sb : ua >= ub,
            CompareOp.Lo => ua < ub, CompareOp.Ls => ua <= ub, CompareOp.Hi => ua > ub, CompareOp.Hs => ua >= ub,
            _ => throw new InvalidOperationException($"comparison .{op.ToString().ToLowerInvariant()} is not defined for {t.Name()}"),
        };
    }

    public static double ToDouble(PtxType t, ulong bits) => t switch
    {
        PtxType.F32 => FloatMath.F(bits),
        PtxType.F64 => FloatMath.D(bits),
        PtxType.F16 => (double)BitConverter.UInt16BitsToHalf((ushort)bits),
        _ => throw new InvalidOperationException($"{t.Name()} is not a float type"),
    };

    public static bool Combine(BoolOp op, bool x, bool c) => op switch
    {
        BoolOp.And => x && c, BoolOp.Or => x || c, BoolOp.Xor => x ^ c, _ => x,
    };

    // ---- floats ---------------------------------------------------------------------------------------------

    static float In32(Instruction ins, ulong bits)
    {
        float f = FloatMath.F(bits);
        return ins.Ftz ? FloatMath.FlushSubnormal(f) : f;
    }

    static ulong Out32(Instruction ins, float r)
    {
        if (ins.Ftz) r = FloatMath.FlushSubnormal(r);
        if (ins.Sat) r = FloatMath.Saturate(r);
        return FloatMath.Bits(r);
    }

    static ulong Out64(Instruction ins, double r)
    {
        if (ins.Sat) r = FloatMath.Saturate(r);
        return FloatMath.Bits(r);
    }

    public static ulong FloatBinary(Instruction ins, ulong a, ulong b)
    {
        var rnd = ins.Rounding;
        if (ins.Type == PtxType.F32)
        {
            float x = In32(ins, a), y = In32(ins, b);
            return ins.Op switch
            {
                Opcode.Add => Out32(ins, FloatMath.Add(x, y, rnd)),
                Opcode.Sub => Out32(ins, FloatMath.Add(x, -y, rnd)),
                Opcode.Mul => Out32(ins, FloatMath.Mul(x, y, rnd)),
                Opcode.Div => Out32(ins, FloatMath.Div(x, y, ins.Approx ? Rounding.Rn : rnd)),
                Opcode.Min => Out32(ins, (float)FloatMath.MinMax(x, y, false, ins.NaNPropagating)),
                Opcode.Max => Out32(ins, (float)FloatMath.MinMax(x, y, true, ins.NaNPropagating)),
                Opcode.Copysign => (FloatMath.RawBits(y) & 0x7fffffffu) | (FloatMath.RawBits(x) & 0x80000000u),
                _ => throw Unsupported(ins),
            };
        }
        if (ins.Type == PtxType.F64)
        {
            double x = FloatMath.D(a), y = FloatMath.D(b);
            if (ins.Ftz) { x = FloatMath.FlushSubnormal(x); y = FloatMath.FlushSubnormal(y); }
            return ins.Op switch
            {
                Opcode.Add => Out64(ins, FloatMath.Add(x, y, rnd)),
                Opcode.Sub => Out64(ins, FloatMath.Add(x, -y, rnd)),
                Opcode.Mul => Out64(ins, FloatMath.Mul(x, y, rnd)),
                Opcode.Div => Out64(ins, FloatMath.Div(x, y, rnd)),
                Opcode.Min => Out64(ins, FloatMath.MinMax(x, y, false, ins.NaNPropagating)),
                Opcode.Max => Out64(ins, FloatMath.MinMax(x, y, true, ins.NaNPropagating)),
                Opcode.Copysign => (b & 0x7fffffffffffffffUL) | (a & 0x8000000000000000UL),
                _ => throw Unsupported(ins),
            };
        }
        throw Unsupported(ins);
    }

    public static ulong FloatFma(Instruction ins, ulong a, ulong b, ulong c)
    {
        if (ins.Type == PtxType.F32)
            return Out32(ins, FloatMath.Fma(In32(ins, a), In32(ins, b), In32(ins, c), ins.Rounding));
        if (ins.Type == PtxType.F64)
            return Out64(ins, FloatMath.Fma(FloatMath.D(a), FloatMath.D(b), FloatMath.D(c), ins.Rounding));
        throw Unsupported(ins);
    }

    public static ulong FloatUnary(Instruction ins, ulong a)
    {
        if (ins.Type == PtxType.F32)
        {
            float x = In32(ins, a);
            double d = x;
            return ins.Op switch
            {
                Opcode.Abs => ins.Ftz ? FloatMath.RawBits(MathF.Abs(x)) : a & 0x7fffffffu,
                Opcode.Neg => ins.Ftz ? FloatMath.RawBits(-x) : (a ^ 0x80000000u) & 0xffffffffu,
                Opcode.Rcp => Out32(ins, ins.Approx ? (float)(1.0 / d) : FloatMath.Div(1f, x, ins.Rounding)),
                Opcode.Sqrt => Out32(ins, ins.Approx ? (float)Math.Sqrt(d) : FloatMath.Sqrt(x, ins.Rounding)),
                Opcode.Rsqrt => Out32(ins, (float)(1.0 / Math.Sqrt(d))),
                Opcode.Sin => Out32(ins, (float)Math.Sin(d)),
                Opcode.Cos => Out32(ins, (float)Math.Cos(d)),
                Opcode.Lg2 => Out32(ins, (float)Math.Log2(d)),
                Opcode.Ex2 => Out32(ins, (float)Math.Pow(2.0, d)),
                Opcode.Tanh => Out32(ins, (float)Math.Tanh(d)),
                _ => throw Unsupported(ins),
            };
        }
        if (ins.Type == PtxType.F64)
        {
            double x = FloatMath.D(a);
            if (ins.Ftz) x = FloatMath.FlushSubnormal(x);
            return ins.Op switch
            {
                Opcode.Abs => double.IsNaN(x) ? a : a & 0x7fffffffffffffffUL, // abs.f64 passes NaN through
                Opcode.Neg => a ^ 0x8000000000000000UL,
                Opcode.Rcp => Out64(ins, FloatMath.Div(1.0, x, ins.Approx ? Rounding.Rn : ins.Rounding)),
                Opcode.Sqrt => Out64(ins, FloatMath.Sqrt(x, ins.Approx ? Rounding.Rn : ins.Rounding)),
                Opcode.Rsqrt => Out64(ins, 1.0 / Math.Sqrt(x)),
                _ => throw Unsupported(ins),
            };
        }
        throw Unsupported(ins);
    }

    public static bool Testp(TestpOp op, PtxType t, ulong a)
    {
        double x = ToDouble(t, a);
        bool subnormal = t == PtxType.F32 ? float.IsSubnormal((float)x) : double.IsSubnormal(x);
        return op switch
        {
            TestpOp.Finite => double.IsFinite(x),
            TestpOp.Infinite => double.IsInfinity(x),
            TestpOp.Number => !double.IsNaN(x),
            TestpOp.NotANumber => double.IsNaN(x),
            TestpOp.Normal => double.IsFinite(x) && !subnormal, // zeros count as normal
            TestpOp.Subnormal => subnormal,
            _ => false,
        };
    }

    // ---- integers -------------------------------------------------------------------------------------------

    /// <summary>Integer binary operations; returns false for division by zero.</summary>
    public static bool IntBinary(Instruction ins, ulong a, ulong b, out ulong result)
    {
        var t = ins.Type;
        ulong mask = t.Mask();
        int bits = t.Bits();
        bool signed = t.IsSigned();
        long sa = S(t, a), sb = S(t, b);
        ulong ua = a & mask, ub = b & mask;
        switch (ins.Op)
        {
            case Opcode.Add:
                result = ins.Sat ? SaturateSigned((Int128)sa + sb, bits) : (ua + ub) & mask;
                return true;
            case Opcode.Sub:
                result = ins.Sat ? SaturateSigned((Int128)sa - sb, bits) : (ua - ub) & mask;
                return true;
            case Opcode.Mul:
                result = Multiply(ins.Mul, t, a, b);
                return true;
            case Opcode.Div:
            case Opcode.Rem:
                result = 0;
                if (ub == 0) return false;
                if (signed)
                {
                    if (sb == -1) result = ins.Op == Opcode.Div ? (ulong)(-sa) & mask : 0; // wraps for the most negative value
                    else result = (ulong)(ins.Op == Opcode.Div ? sa / sb : sa % sb) & mask;
                }
                else result = ins.Op == Opcode.Div ? ua / ub : ua % ub;
                return true;
            case Opcode.Min:
                result = signed ? (ulong)Math.Min(sa, sb) & mask : Math.Min(ua, ub);
                return true;
            case Opcode.Max:
                result = signed ? (ulong)Math.Max(sa, sb) & mask : Math.Max(ua, ub);
                return true;
            case Opcode.And:
                result = ua & ub;
                return true;
            case Opcode.Or:
                result = ua | ub;
                return true;
            case Opcode.Xor:
                result = ua ^ ub;
                return true;
            case Opcode.Shl:
                {
                    uint n = (uint)b;
                    result = n >= bits ? 0 : (ua << (int)n) & mask;
                    return true;
                }
            case Opcode.Shr:
                {
                    uint n = (uint)b;
                    if (signed) result = (ulong)(sa >> (int)Math.Min(n, (uint)(bits - 1))) & mask;
                    else result = n >= bits ? 0 : ua >> (int)n;
                    return true;
                }
        }
        throw Unsupported(ins);
    }

    static ulong SaturateSigned(Int128 v, int bits)
    {
        Int128 max = (Int128.One << (bits - 1)) - 1, min = -(Int128.One << (bits - 1));
        if (v > max) v = max;
        if (v < min) v = min;
        return (ulong)(long)v & (bits == 64 ? ulong.MaxValue : (1UL << bits) - 1);
    }

    public static ulong Multiply(MulMode mode, PtxType t, ulong a, ulong b)
    {
        int bits = t.Bits();
        UInt128 u = t.IsSigned()
            ? (UInt128)((Int128)S(t, a) * S(t, b))
            : (UInt128)(a & t.Mask()) * (b & t.Mask());
        return mode switch
        {
            MulMode.Hi => (ulong)(u >> bits) & t.Mask(),
            MulMode.Wide => (ulong)u & PtxParser.Widen(t).Mask(),
            _ => (ulong)u & t.Mask(),
        };
    }

    public static ulong Mad(Instruction ins, ulong a, ulong b, ulong c)
    {
        var t = ins.Type;
        var rt = ins.Mul == MulMode.Wide ? PtxParser.Widen(t) : t;
        ulong p = Multiply(ins.Mul, t, a, b);
        if (ins.Sat && ins.Mul == MulMode.Hi && t == PtxType.S32)
            return SaturateSigned((Int128)(long)(int)p + (long)(int)c, 32);
        return (p + c) & rt.Mask();
    }

    public static ulong IntUnary(Instruction ins, ulong a)
    {
        var t = ins.Type;
        ulong mask = t.Mask();
        int bits = t.Bits();
        ulong ua = a & mask;
        switch (ins.Op)
        {
            case Opcode.Abs: { long v = S(t, a); return (ulong)(v < 0 ? -v : v) & mask; } // the most negative value stays
            case Opcode.Neg: return (ulong)(-S(t, a)) & mask;
            case Opcode.Not: return t == PtxType.Pred ? (a & 1) ^ 1 : ~ua & mask;
            case Opcode.Cnot: return ua == 0 ? 1UL : 0UL;
            case Opcode.Popc: return (ulong)BitOperations.PopCount(ua);
            case Opcode.Clz: return (ulong)(bits == 64 ? BitOperations.LeadingZeroCount(ua) : BitOperations.LeadingZeroCount((uint)ua) - (32 - bits));
            case Opcode.Brev:
                {
                    ulong r = 0;
                    for (int i = 0; i < bits; i++) if ((ua >> i & 1) != 0) r |= 1UL << (bits - 1 - i);
                    return r;
                }
            case Opcode.Bfind:
                {
                    ulong v = t.IsSigned() && S(t, a) < 0 ? ~ua & mask : ua;
                    if (v == 0) return 0xffffffffUL;
                    int pos = 63 - BitOperations.LeadingZeroCount(v);
                    return (ulong)(ins.ShiftAmount ? bits - 1 - pos : pos);
                }
        }
        throw Unsupported(ins);
    }

    public static ulong Bfe(PtxType t, ulong a, ulong b, ulong c)
    {
        int msb = t.Bits() - 1;
        int pos = (int)(b & 0xff), len = (int)(c & 0xff);
        ulong ua = a & t.Mask();
        int sbit = 0;
        if (t.IsSigned() && len != 0) sbit = (int)(ua >> Math.Min(pos + len - 1, msb) & 1);
        ulong d = 0;
        for (int i = 0; i <= msb; i++)
        {
            ulong bit = i < len && pos + i <= msb ? ua >> (pos + i) & 1 : (ulong)sbit;
            d |= bit << i;
        }
        return d;
    }

    public static ulong Bfi(PtxType t, ulong a, ulong b, ulong c, ulong d)
    {
        int msb = t.Bits() - 1;
        int pos = (int)(c & 0xff), len = (int)(d & 0xff);
        ulong f = b & t.Mask();
        for (int i = 0; i < len && pos + i <= msb; i++)
        {
            ulong bit = a >> i & 1;
            f = (f & ~(1UL << (pos + i))) | (bit << (pos + i));
        }
        return f;
    }

    public static ulong Lop3(ulong a, ulong b, ulong c, ulong lut, ulong mask)
    {
        ulong r = 0;
        for (int i = 0; i < 8; i++)
        {
            if ((lut >> i & 1) == 0) continue;
            ulong term = ((i & 4) != 0 ? a : ~a) & ((i & 2) != 0 ? b : ~b) & ((i & 1) != 0 ? c : ~c);
            r |= term;
        }
        return r & mask;
    }

    public static ulong Prmt(ulong a, ulong b, ulong c)
    {
        ulong source = (a & 0xffffffff) | (b & 0xffffffff) << 32;
        ulong r = 0;
        for (int i = 0; i < 4; i++)
        {
            int sel = (int)(c >> (4 * i) & 0xf);
            ulong by = source >> (8 * (sel & 7)) & 0xff;
            if ((sel & 8) != 0) by = (by & 0x80) != 0 ? 0xffUL : 0;
            r |= by << (8 * i);
        }
        return r;
    }

    // ---- conversions ----------------------------------------------------------------------------------------

    public static ulong Convert(Instruction ins, ulong src)
    {
        PtxType dst = ins.Type, from = ins.Type2;
        var rnd = ins.Rounding;
        if (from.IsFloat())
        {
            double v = ToDouble(from, src);
            if (from == PtxType.F32 && ins.Ftz) v = FloatMath.FlushSubnormal((float)v);
            if (dst.IsFloat())
            {
                bool integral = rnd is Rounding.Rni or Rounding.Rzi or Rounding.Rmi or Rounding.Rpi;
                if (integral) v = FloatMath.RoundIntegral(v, rnd);
                switch (dst)
                {
                    case PtxType.F32:
                        {
                            float f = from == PtxType.F64 && !integral ? FloatMath.DoubleToFloat(v, rnd) : (float)v;
                            if (ins.Ftz) f = FloatMath.FlushSubnormal(f);
                            if (ins.Sat) f = FloatMath.Saturate(f);
                            return FloatMath.Bits(f);
                        }
                    case PtxType.F64:
                        return FloatMath.Bits(ins.Sat ? FloatMath.Saturate(v) : v);
                    default:
                        {
                            double h = ins.Sat ? FloatMath.Saturate(v) : v;
                            return BitConverter.HalfToUInt16Bits((Half)RoundToHalf(h, rnd));
                        }
                }
            }
            // Float to integer: round, then saturate to the destination's range; NaN becomes 0.
            if (double.IsNaN(v)) return 0;
            double r = FloatMath.RoundIntegral(v, rnd == Rounding.Default ? Rounding.Rzi : rnd);
            int bits = dst.Bits();
            if (dst.IsSigned())
            {
                double max = Math.Pow(2, bits - 1) - 1, min = -Math.Pow(2, bits - 1);
                long l = r >= max ? (long)(bits == 64 ? long.MaxValue : (long)max) : r <= min ? (long)min : (long)r;
                return (ulong)l & dst.Mask();
            }
            else
            {
                double max = Math.Pow(2, bits) - 1;
                ulong u = r <= 0 ? 0 : r >= max ? dst.Mask() : (ulong)r;
                return u & dst.Mask();
            }
        }
        // Integer source, exact as a 128-bit value.
        Int128 value = from.IsSigned() ? (Int128)S(from, src) : (Int128)(src & from.Mask());
        switch (dst)
        {
            case PtxType.F32: return FloatMath.Bits(FloatMath.IntToFloat(value, rnd));
            case PtxType.F64: return FloatMath.Bits(FloatMath.IntToDouble(value, rnd));
            case PtxType.F16: return BitConverter.HalfToUInt16Bits((Half)(double)value);
        }
        if (ins.Sat)
        {
            int bits = dst.Bits();
            Int128 max = dst.IsSigned() ? (Int128.One << (bits - 1)) - 1 : (Int128.One << bits) - 1;
            Int128 min = dst.IsSigned() ? -(Int128.One << (bits - 1)) : Int128.Zero;
            if (value > max) value = max;
            if (value < min) value = min;
        }
        return (ulong)(UInt128)(value & (Int128)(UInt128)ulong.MaxValue) & dst.Mask();
    }

    /// <summary>Rounds a double to the nearest representable half under a rounding mode; the result is exact in double.</summary>
    static double RoundToHalf(double v, Rounding r)
    {
        if (!double.IsFinite(v) || v == 0) return v;
        long bits = BitConverter.DoubleToInt64Bits(v);
        int exp = (int)((bits >> 52) & 0x7ff);
        long m = (exp == 0 ? bits & 0xfffffffffffffL : (bits & 0xfffffffffffffL) | (1L << 52));
        var mm = new System.Numerics.BigInteger(bits < 0 ? -m : m);
        return FloatMath.RoundExact(mm, exp == 0 ? -1074 : exp - 1075, r is Rounding.Default ? Rounding.Rn : r, precision: 11, minLsbExponent: -24, maxExponent: 15);
    }

    public static InvalidOperationException Unsupported(Instruction ins) =>
        new($"the interpreter does not implement `{ins.Text}` (line {ins.Line}) for type {ins.Type.Name()}");
}
